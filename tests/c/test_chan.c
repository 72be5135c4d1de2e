/* test_chan.c: channels and select without Python — buffered, unbuffered,
 * close, nil, select fairness and blocking. */
#include "ctest.h"
#include "gpy.h"

#include <errno.h>
#include <pthread.h>

static void
wait_all(void)
{
    while (gpy_g_count() > 1) {
        gpy_yield();
    }
}

static gpy_chan *gch;
static int order[16];
static int norder;

static void
sender(void *arg)
{
    long v = (long)arg;
    order[norder++] = 1; /* about to send */
    CHECK_EQ(gpy_chan_send(gch, &v), 0);
    order[norder++] = 3; /* send completed */
}

static void
test_unbuffered_handoff(void)
{
    gpy_sched_init();
    gch = gpy_chan_new(0, sizeof(long));
    gpy_go(sender, (void *)42L, NULL);
    gpy_yield(); /* the sender blocks: nobody receives */
    CHECK_EQ(norder, 1);
    CHECK_EQ(gpy_chan_len(gch), 0);
    long v = 0;
    order[norder++] = 2;
    CHECK_EQ(gpy_chan_recv(gch, &v), 1);
    CHECK_EQ(v, 42);
    wait_all();
    CHECK_EQ(norder, 3);
    CHECK_EQ(order[0], 1);
    CHECK_EQ(order[1], 2);
    CHECK_EQ(order[2], 3);
    gpy_chan_decref(gch);
}

static void
test_buffered(void)
{
    gpy_sched_init();
    gpy_chan *ch = gpy_chan_new(3, sizeof(int));
    CHECK_EQ(gpy_chan_cap(ch), 3);
    for (int i = 0; i < 3; i++) {
        CHECK_EQ(gpy_chan_send(ch, &i), 0); /* never blocks */
    }
    CHECK_EQ(gpy_chan_len(ch), 3);
    gpy_case c = {ch, GPY_CASE_SEND, &(int){9}, 0};
    CHECK_EQ(gpy_select(&c, 1, GPY_SELECT_NONBLOCK, NULL), -EAGAIN);
    for (int i = 0; i < 3; i++) {
        int v = -1;
        CHECK_EQ(gpy_chan_recv(ch, &v), 1);
        CHECK_EQ(v, i);
    }
    CHECK_EQ(gpy_chan_len(ch), 0);
    gpy_chan_decref(ch);
}

static long got[8];
static int ok_count, closed_count;

static void
receiver(void *arg)
{
    long v = -1;
    int ok = gpy_chan_recv(gch, &v);
    got[(long)arg] = v;
    if (ok) {
        ok_count++;
    } else {
        closed_count++;
    }
}

static void
test_close_wakes_receivers(void)
{
    gpy_sched_init();
    gch = gpy_chan_new(0, sizeof(long));
    for (long i = 0; i < 5; i++) {
        gpy_go(receiver, (void *)i, NULL);
    }
    gpy_yield();
    CHECK_EQ(gpy_chan_close(gch), 0);
    wait_all();
    CHECK_EQ(closed_count, 5);
    CHECK_EQ(ok_count, 0);
    for (int i = 0; i < 5; i++) {
        CHECK_EQ(got[i], 0); /* zero value */
    }
    CHECK_EQ(gpy_chan_close(gch), -EPIPE);
    CHECK_EQ(gpy_chan_close(NULL), -EINVAL);
    long v = 1;
    CHECK_EQ(gpy_chan_send(gch, &v), -EPIPE);
    gpy_chan_decref(gch);
}

static int send_err;

static void
blocked_sender(void *arg)
{
    (void)arg;
    long v = 7;
    send_err = gpy_chan_send(gch, &v);
}

static void
test_close_panics_senders(void)
{
    gpy_sched_init();
    gch = gpy_chan_new(0, sizeof(long));
    gpy_go(blocked_sender, NULL, NULL);
    gpy_yield();
    gpy_chan_close(gch);
    wait_all();
    CHECK_EQ(send_err, -EPIPE);
    gpy_chan_decref(gch);
}

static void
test_buffered_drains_after_close(void)
{
    gpy_sched_init();
    gpy_chan *ch = gpy_chan_new(2, sizeof(int));
    int a = 1, b = 2, v = 0;
    gpy_chan_send(ch, &a);
    gpy_chan_send(ch, &b);
    gpy_chan_close(ch);
    CHECK_EQ(gpy_chan_recv(ch, &v), 1);
    CHECK_EQ(v, 1);
    CHECK_EQ(gpy_chan_recv(ch, &v), 1);
    CHECK_EQ(v, 2);
    CHECK_EQ(gpy_chan_recv(ch, &v), 0);
    CHECK_EQ(v, 0);
    gpy_chan_decref(ch);
}

static void
test_nil_never_ready(void)
{
    gpy_sched_init();
    int v = 0;
    gpy_case cs[2] = {{NULL, GPY_CASE_RECV, &v, 0},
                      {NULL, GPY_CASE_SEND, &v, 0}};
    CHECK_EQ(gpy_select(cs, 2, GPY_SELECT_NONBLOCK, NULL), -EAGAIN);
}

static void
test_nil_blocks_forever(void)
{
    /* in a child: receiving from nil with nothing else must be reported
     * as a deadlock (exit 2), not hang */
    pid_t pid = fork();
    if (pid == 0) {
        gpy_sched_init();
        int v;
        gpy_chan_recv(NULL, &v);
        _exit(0);
    }
    int st;
    waitpid(pid, &st, 0);
    CHECK(WIFEXITED(st));
    CHECK_EQ(WEXITSTATUS(st), 2);
}

static void
test_select_fairness(void)
{
    gpy_sched_init();
    enum { N = 4, ROUNDS = 40000 };
    gpy_chan *ch[N];
    int hits[N] = {0};
    for (int i = 0; i < N; i++) {
        ch[i] = gpy_chan_new(1, sizeof(int));
    }
    for (int r = 0; r < ROUNDS; r++) {
        int v = r;
        for (int i = 0; i < N; i++) {
            if (gpy_chan_len(ch[i]) == 0) {
                gpy_chan_send(ch[i], &v);
            }
        }
        int out[N];
        gpy_case cs[N];
        for (int i = 0; i < N; i++) {
            cs[i] = (gpy_case){ch[i], GPY_CASE_RECV, &out[i], 0};
        }
        int k = gpy_select(cs, N, 0, NULL);
        CHECK(k >= 0 && k < N);
        hits[k]++;
    }
    for (int i = 0; i < N; i++) {
        /* expected 10000 each; 5 sigma is ~430 */
        if (hits[i] < 9000 || hits[i] > 11000) {
            fprintf(stderr, "case %d chosen %d times of %d\n", i, hits[i],
                    ROUNDS);
            CHECK(0);
        }
        gpy_chan_decref(ch[i]);
    }
}

static gpy_chan *sa, *sb;

static void
feed_b(void *arg)
{
    (void)arg;
    gpy_sleep_ns(20 * 1000000);
    int v = 5;
    gpy_chan_send(sb, &v);
}

static void
test_select_blocks(void)
{
    gpy_sched_init();
    sa = gpy_chan_new(0, sizeof(int));
    sb = gpy_chan_new(0, sizeof(int));
    gpy_go(feed_b, NULL, NULL);
    int va = 0, vb = 0;
    gpy_case cs[2] = {{sa, GPY_CASE_RECV, &va, 0},
                      {sb, GPY_CASE_RECV, &vb, 0}};
    int64_t t0 = gpy_now_ns();
    int k = gpy_select(cs, 2, 0, NULL);
    int64_t dt = gpy_now_ns() - t0;
    CHECK_EQ(k, 1);
    CHECK_EQ(vb, 5);
    CHECK_EQ(cs[1].ok, 1);
    CHECK(dt >= 15 * 1000000);
    /* sa's queue no longer holds our stale case: a send must block */
    int x = 1;
    gpy_case s = {sa, GPY_CASE_SEND, &x, 0};
    CHECK_EQ(gpy_select(&s, 1, GPY_SELECT_NONBLOCK, NULL), -EAGAIN);
    wait_all();
}

static void
select_send_closed_child(void *arg)
{
    (void)arg;
    gpy_sleep_ns(5 * 1000000);
    gpy_chan_close(sa);
}

static void
test_select_send_closed(void)
{
    gpy_sched_init();
    sa = gpy_chan_new(0, sizeof(int));
    gpy_go(select_send_closed_child, NULL, NULL);
    int x = 3, closed = -1;
    gpy_case cs[2] = {{NULL, GPY_CASE_RECV, &x, 0},
                      {sa, GPY_CASE_SEND, &x, 0}};
    CHECK_EQ(gpy_select(cs, 2, 0, &closed), -EPIPE);
    CHECK_EQ(closed, 1);
    wait_all();
}

static long pp_count;

static void
ponger(void *arg)
{
    gpy_chan **c = arg;
    long v;
    while (gpy_chan_recv(c[0], &v)) {
        gpy_chan_send(c[1], &v);
    }
}

static void
test_pingpong(void)
{
    gpy_sched_init();
    gpy_chan *c[2] = {gpy_chan_new(0, sizeof(long)),
                      gpy_chan_new(0, sizeof(long))};
    gpy_go(ponger, c, NULL);
    for (long i = 0; i < 100000; i++) {
        long v = i;
        gpy_chan_send(c[0], &v);
        CHECK_EQ(gpy_chan_recv(c[1], &v), 1);
        CHECK_EQ(v, i);
        pp_count++;
    }
    gpy_chan_close(c[0]);
    wait_all();
    CHECK_EQ(pp_count, 100000);
    gpy_chan_decref(c[0]);
    gpy_chan_decref(c[1]);
}

/* An OS thread (not a goroutine) blocks on a channel and is woken by a
 * goroutine, and the other way round. As in gpython, a lock (the GIL)
 * serialises channel operations and is released while a caller parks. */
static gpy_chan *tch;
static pthread_mutex_t gil = PTHREAD_MUTEX_INITIALIZER;

static void *
gil_release(void)
{
    pthread_mutex_unlock(&gil);
    return NULL;
}

static void
gil_acquire(void *token)
{
    (void)token;
    pthread_mutex_lock(&gil);
}

static void *
os_thread(void *arg)
{
    (void)arg;
    long v = 0;
    pthread_mutex_lock(&gil);
    gpy_chan_recv(tch, &v); /* blocks this OS thread */
    v += 1;
    gpy_chan_send(tch, &v); /* wakes the goroutine */
    pthread_mutex_unlock(&gil);
    return NULL;
}

static void
test_os_thread(void)
{
    gpy_sched_init();
    gpy_hooks h = {.park_enter = gil_release, .park_exit = gil_acquire};
    gpy_sched_set_hooks(&h);
    pthread_mutex_lock(&gil);
    tch = gpy_chan_new(0, sizeof(long));
    pthread_t t;
    pthread_create(&t, NULL, os_thread, NULL);
    pthread_mutex_unlock(&gil);
    usleep(20000);
    pthread_mutex_lock(&gil);
    long v = 41;
    gpy_chan_send(tch, &v);
    CHECK_EQ(gpy_chan_recv(tch, &v), 1);
    CHECK_EQ(v, 42);
    pthread_mutex_unlock(&gil);
    pthread_join(t, NULL);
}

int
main(int argc, char **argv)
{
    static const test_case cases[] = {
        {"unbuffered_handoff", test_unbuffered_handoff},
        {"buffered", test_buffered},
        {"close_wakes_receivers", test_close_wakes_receivers},
        {"close_panics_senders", test_close_panics_senders},
        {"buffered_drains_after_close", test_buffered_drains_after_close},
        {"nil_never_ready", test_nil_never_ready},
        {"nil_blocks_forever", test_nil_blocks_forever},
        {"select_fairness", test_select_fairness},
        {"select_blocks", test_select_blocks},
        {"select_send_closed", test_select_send_closed},
        {"pingpong", test_pingpong},
        {"os_thread", test_os_thread},
        {NULL, NULL},
    };
    return run_cases(cases, argc, argv);
}

/* test_sched.c: the scheduler without Python — timers, fd waits, yields
 * and fairness, interrupts, wakeups from other threads, offload, deadlock. */
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

static int wake_order[8];
static int nwake;

static void
sleeper(void *arg)
{
    long ms = (long)arg;
    CHECK_EQ(gpy_sleep_ns(ms * 1000000), 0);
    wake_order[nwake++] = (int)ms;
}

static void
test_timers_order(void)
{
    gpy_sched_init();
    gpy_go(sleeper, (void *)30L, NULL);
    gpy_go(sleeper, (void *)10L, NULL);
    gpy_go(sleeper, (void *)20L, NULL);
    int64_t t0 = gpy_now_ns();
    wait_all();
    int64_t dt = gpy_now_ns() - t0;
    CHECK_EQ(nwake, 3);
    CHECK_EQ(wake_order[0], 10);
    CHECK_EQ(wake_order[1], 20);
    CHECK_EQ(wake_order[2], 30);
    CHECK(dt >= 29 * 1000000 && dt < 200 * 1000000);
}

static int nslept;

static void
short_sleeper(void *arg)
{
    (void)arg;
    gpy_sleep_ns(200 * 1000000);
    nslept++;
}

static void
test_sleeps_overlap(void)
{
    gpy_sched_init();
    int64_t t0 = gpy_now_ns();
    for (int i = 0; i < 5000; i++) {
        gpy_go(short_sleeper, NULL, NULL);
    }
    wait_all();
    int64_t dt = gpy_now_ns() - t0;
    CHECK_EQ(nslept, 5000);
    CHECK(dt < 800 * 1000000);
}

static int pipefd[2];
static char got_byte;

static void
reader(void *arg)
{
    (void)arg;
    int r = gpy_fd_wait(pipefd[0], GPY_READ, -1);
    CHECK(r & GPY_READ);
    CHECK_EQ(read(pipefd[0], &got_byte, 1), 1);
}

static void
writer(void *arg)
{
    (void)arg;
    gpy_sleep_ns(10 * 1000000);
    CHECK_EQ(write(pipefd[1], "x", 1), 1);
}

static void
test_fd_wait(void)
{
    gpy_sched_init();
    CHECK_EQ(pipe(pipefd), 0);
    gpy_go(reader, NULL, NULL);
    gpy_go(writer, NULL, NULL);
    wait_all();
    CHECK_EQ(got_byte, 'x');
    /* timeout */
    int64_t t0 = gpy_now_ns();
    CHECK_EQ(gpy_fd_wait(pipefd[0], GPY_READ, t0 + 30 * 1000000), -ETIMEDOUT);
    CHECK(gpy_now_ns() - t0 >= 29 * 1000000);
}

static int closed_result;

static void
closed_waiter(void *arg)
{
    (void)arg;
    closed_result = gpy_fd_wait(pipefd[0], GPY_READ, -1);
}

static void
test_fd_closing(void)
{
    gpy_sched_init();
    CHECK_EQ(pipe(pipefd), 0);
    gpy_go(closed_waiter, NULL, NULL);
    gpy_yield();
    gpy_fd_closing(pipefd[0]);
    close(pipefd[0]);
    wait_all();
    CHECK_EQ(closed_result, -EBADF);
}

static volatile int spin_stop;
static long io_seen;

static void
spinner(void *arg)
{
    (void)arg;
    while (!spin_stop) {
        gpy_yield(); /* always ready */
    }
}

static void
test_fairness_io_under_load(void)
{
    gpy_sched_init();
    gpy_go(spinner, NULL, NULL);
    gpy_go(spinner, NULL, NULL);
    /* the timer must fire on time though two goroutines are always ready */
    int64_t t0 = gpy_now_ns();
    gpy_sleep_ns(20 * 1000000);
    int64_t dt = gpy_now_ns() - t0;
    spin_stop = 1;
    wait_all();
    CHECK(dt < 100 * 1000000);
    (void)io_seen;
}

static gpy_g *to_interrupt;
static int intr_result;

static void
interruptible(void *arg)
{
    (void)arg;
    intr_result = gpy_sleep_ns(10LL * 1000000000);
}

static void
test_interrupt(void)
{
    gpy_sched_init();
    to_interrupt = gpy_go(interruptible, NULL, NULL);
    gpy_yield();
    CHECK_EQ(gpy_g_interrupt(to_interrupt), 1);
    wait_all();
    CHECK_EQ(intr_result, -EINTR);
}

static gpy_waiter *remote_w;

static void *
remote_waker(void *arg)
{
    (void)arg;
    usleep(20000);
    gpy_waiter_wake(remote_w, 77);
    return NULL;
}

static void
test_remote_wake(void)
{
    gpy_sched_init();
    gpy_waiter w;
    gpy_waiter_init(&w);
    remote_w = &w;
    pthread_t t;
    pthread_create(&t, NULL, remote_waker, NULL);
    CHECK_EQ(gpy_park_wait(&w, -1), 77);
    pthread_join(t, NULL);
}

static int offloaded;

static void
slow_call(void *arg)
{
    usleep(50000);
    *(int *)arg = 1;
}

static long ticks;

static void
ticker(void *arg)
{
    (void)arg;
    for (int i = 0; i < 10; i++) {
        gpy_sleep_ns(2 * 1000000);
        ticks++;
    }
}

static void
test_offload(void)
{
    gpy_sched_init();
    gpy_go(ticker, NULL, NULL);
    CHECK_EQ(gpy_offload(slow_call, &offloaded), 0);
    CHECK_EQ(offloaded, 1);
    CHECK(ticks >= 5); /* the ticker ran while we were offloaded */
    wait_all();
}

static int remote_ran;

static void
remote_body(void *arg)
{
    (void)arg;
    remote_ran = 1;
}

static void *
spawner(void *arg)
{
    (void)arg;
    gpy_go(remote_body, NULL, NULL);
    return NULL;
}

static void
test_go_from_thread(void)
{
    gpy_sched_init();
    pthread_t t;
    pthread_create(&t, NULL, spawner, NULL);
    pthread_join(t, NULL);
    for (int i = 0; i < 100 && !remote_ran; i++) {
        gpy_sleep_ns(1000000);
    }
    CHECK_EQ(remote_ran, 1);
}

static void
stuck(void *arg)
{
    (void)arg;
    gpy_chan *c = gpy_chan_new(0, 1);
    char x;
    gpy_chan_recv(c, &x);
}

static void
test_deadlock_exit(void)
{
    int p[2];
    CHECK_EQ(pipe(p), 0);
    pid_t pid = fork();
    if (pid == 0) {
        dup2(p[1], 2);
        gpy_sched_init();
        gpy_go(stuck, NULL, NULL);
        gpy_chan *c = gpy_chan_new(0, 1);
        char x;
        gpy_chan_recv(c, &x);
        _exit(0);
    }
    close(p[1]);
    char buf[256] = {0};
    ssize_t n = read(p[0], buf, sizeof(buf) - 1);
    int st;
    waitpid(pid, &st, 0);
    CHECK(n > 0);
    CHECK(strstr(buf, "all goroutines are asleep - deadlock!") != NULL);
    CHECK(WIFEXITED(st));
    CHECK_EQ(WEXITSTATUS(st), 2);
}

int
main(int argc, char **argv)
{
    static const test_case cases[] = {
        {"timers_order", test_timers_order},
        {"sleeps_overlap", test_sleeps_overlap},
        {"fd_wait", test_fd_wait},
        {"fd_closing", test_fd_closing},
        {"fairness_io_under_load", test_fairness_io_under_load},
        {"interrupt", test_interrupt},
        {"remote_wake", test_remote_wake},
        {"offload", test_offload},
        {"go_from_thread", test_go_from_thread},
        {"deadlock_exit", test_deadlock_exit},
        {NULL, NULL},
    };
    return run_cases(cases, argc, argv);
}

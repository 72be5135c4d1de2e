/* test_patches.c: the interposed libc calls of patches/ with the real
 * runtime and no Python — sleep, pipe reads, poll, semaphores and sockets
 * park only the calling goroutine; the gil_released hook decides. */
#include "ctest.h"
#include "gpy.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <semaphore.h>
#include <sys/socket.h>
#include <time.h>

/* The order in which goroutines got somewhere. */
static const char *events[8];
static int nevents;

static void
note(const char *what)
{
    events[nevents++] = what;
}

static void
wait_all(void)
{
    while (gpy_g_count() > 1) {
        gpy_yield();
    }
}

static void
other(void *arg)
{
    (void)arg;
    note("other ran");
}

/* ---- sleep ---- */

static void
napper(void *arg)
{
    (void)arg;
    struct timespec ts = {0, 100 * 1000000};
    CHECK_EQ(nanosleep(&ts, NULL), 0);
    note("nap done");
}

static void
test_nanosleep_parks(void)
{
    gpy_sched_init();
    gpy_go(napper, NULL, NULL);
    gpy_go(other, NULL, NULL);
    int64_t t0 = gpy_now_ns();
    wait_all();
    CHECK_EQ(nevents, 2);
    CHECK(strcmp(events[0], "other ran") == 0);
    CHECK(strcmp(events[1], "nap done") == 0);
    CHECK(gpy_now_ns() - t0 >= 100 * 1000000);
}

static void
usleeper(void *arg)
{
    (void)arg;
    CHECK_EQ(usleep(50000), 0);
    note("usleep done");
}

static void
test_usleep_parks(void)
{
    gpy_sched_init();
    gpy_go(usleeper, NULL, NULL);
    gpy_go(other, NULL, NULL);
    wait_all();
    CHECK(strcmp(events[0], "other ran") == 0);
    CHECK(strcmp(events[1], "usleep done") == 0);
}

/* ---- pipes and poll ---- */

static int pfd[2];

static void
pipe_reader(void *arg)
{
    (void)arg;
    char c = 0;
    CHECK_EQ(read(pfd[0], &c, 1), 1);
    CHECK_EQ(c, 'x');
    note("read done");
}

static void
pipe_writer(void *arg)
{
    (void)arg;
    note("writer ran");
    CHECK_EQ(write(pfd[1], "x", 1), 1);
}

static void
test_pipe_read_parks(void)
{
    gpy_sched_init();
    CHECK_EQ(pipe(pfd), 0);
    gpy_go(pipe_reader, NULL, NULL);
    gpy_go(pipe_writer, NULL, NULL);
    wait_all();
    CHECK_EQ(nevents, 2);
    CHECK(strcmp(events[0], "writer ran") == 0);
    CHECK(strcmp(events[1], "read done") == 0);
}

static void
poller(void *arg)
{
    int timeout = (int)(long)arg;
    struct pollfd p = {pfd[0], POLLIN, 0};
    int r = poll(&p, 1, timeout);
    if (timeout < 1000) {
        CHECK_EQ(r, 0);
        note("poll timed out");
    } else {
        CHECK_EQ(r, 1);
        CHECK(p.revents & POLLIN);
        note("poll ready");
    }
}

static void
test_poll_parks(void)
{
    gpy_sched_init();
    CHECK_EQ(pipe(pfd), 0);
    gpy_go(poller, (void *)10000L, NULL);
    gpy_go(pipe_writer, NULL, NULL);
    int64_t t0 = gpy_now_ns();
    wait_all();
    CHECK(strcmp(events[0], "writer ran") == 0);
    CHECK(strcmp(events[1], "poll ready") == 0);
    CHECK(gpy_now_ns() - t0 < 5000000000LL);
}

static void
test_poll_timeout_parks(void)
{
    gpy_sched_init();
    CHECK_EQ(pipe(pfd), 0);
    gpy_go(poller, (void *)50L, NULL);
    gpy_go(other, NULL, NULL);
    int64_t t0 = gpy_now_ns();
    wait_all();
    CHECK(strcmp(events[0], "other ran") == 0);
    CHECK(strcmp(events[1], "poll timed out") == 0);
    CHECK(gpy_now_ns() - t0 >= 50 * 1000000);
}

/* ---- semaphores ---- */

static sem_t sem;

static void
sem_waiter(void *arg)
{
    (void)arg;
    CHECK_EQ(sem_wait(&sem), 0);
    note("sem taken");
}

static void
sem_poster(void *arg)
{
    (void)arg;
    note("poster ran");
    CHECK_EQ(sem_post(&sem), 0);
}

static void
test_sem_wait_parks(void)
{
    gpy_sched_init();
    CHECK_EQ(sem_init(&sem, 0, 0), 0);
    gpy_go(sem_waiter, NULL, NULL);
    gpy_go(sem_poster, NULL, NULL);
    wait_all();
    CHECK_EQ(nevents, 2);
    CHECK(strcmp(events[0], "poster ran") == 0);
    CHECK(strcmp(events[1], "sem taken") == 0);
}

static void
sem_timed(void *arg)
{
    clockid_t clock = (clockid_t)(long)arg;
    struct timespec abs;
    clock_gettime(clock, &abs);
    abs.tv_nsec += 50 * 1000000;
    if (abs.tv_nsec >= 1000000000) {
        abs.tv_sec++;
        abs.tv_nsec -= 1000000000;
    }
    int r = clock == CLOCK_REALTIME ? sem_timedwait(&sem, &abs)
                                    : sem_clockwait(&sem, clock, &abs);
    CHECK_EQ(r, -1);
    CHECK_EQ(errno, ETIMEDOUT);
    note("sem timed out");
}

static void
test_sem_timed_waits_park(void)
{
    gpy_sched_init();
    CHECK_EQ(sem_init(&sem, 0, 0), 0);
    gpy_go(sem_timed, (void *)(long)CLOCK_REALTIME, NULL);
    gpy_go(sem_timed, (void *)(long)CLOCK_MONOTONIC, NULL);
    gpy_go(other, NULL, NULL);
    wait_all();
    CHECK_EQ(nevents, 3);
    CHECK(strcmp(events[0], "other ran") == 0);
    /* A bad deadline is refused as by the real call. */
    struct timespec bad = {0, 2000000000L};
    CHECK_EQ(sem_timedwait(&sem, &bad), -1);
    CHECK_EQ(errno, EINVAL);
}

static void *
thread_poster(void *arg)
{
    (void)arg;
    struct timespec ts = {0, 20 * 1000000};
    nanosleep(&ts, NULL); /* an OS thread: the real one */
    sem_post(&sem);
    return NULL;
}

static void
test_sem_post_from_thread(void)
{
    gpy_sched_init();
    CHECK_EQ(sem_init(&sem, 0, 0), 0);
    gpy_go(sem_waiter, NULL, NULL);
    pthread_t t;
    CHECK_EQ(pthread_create(&t, NULL, thread_poster, NULL), 0);
    wait_all();
    pthread_join(t, NULL);
    CHECK_EQ(nevents, 1);
}

/* ---- sockets ---- */

static int sv[2];

static void
sock_receiver(void *arg)
{
    (void)arg;
    char buf[8];
    CHECK_EQ(recv(sv[0], buf, sizeof(buf), 0), 5);
    CHECK(memcmp(buf, "hello", 5) == 0);
    note("recv done");
}

static void
sock_sender(void *arg)
{
    (void)arg;
    note("sender ran");
    CHECK_EQ(send(sv[1], "hello", 5, 0), 5);
}

static void
test_socket_recv_parks(void)
{
    gpy_sched_init();
    CHECK_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    gpy_go(sock_receiver, NULL, NULL);
    gpy_go(sock_sender, NULL, NULL);
    wait_all();
    CHECK(strcmp(events[0], "sender ran") == 0);
    CHECK(strcmp(events[1], "recv done") == 0);
}

/* ---- the gil_released hook ---- */

static int
gil_held(void)
{
    return 0;
}

static void
test_gil_held_passes_through(void)
{
    gpy_sched_init();
    gpy_hooks h = {.gil_released = gil_held};
    gpy_sched_set_hooks(&h);
    gpy_go(napper, NULL, NULL);
    gpy_go(other, NULL, NULL);
    wait_all();
    /* The nap held the OS thread: the other goroutine ran after it. */
    CHECK(strcmp(events[0], "nap done") == 0);
    CHECK(strcmp(events[1], "other ran") == 0);
}

int
main(int argc, char **argv)
{
    static const test_case cases[] = {
        {"nanosleep_parks", test_nanosleep_parks},
        {"usleep_parks", test_usleep_parks},
        {"pipe_read_parks", test_pipe_read_parks},
        {"poll_parks", test_poll_parks},
        {"poll_timeout_parks", test_poll_timeout_parks},
        {"sem_wait_parks", test_sem_wait_parks},
        {"sem_timed_waits_park", test_sem_timed_waits_park},
        {"sem_post_from_thread", test_sem_post_from_thread},
        {"socket_recv_parks", test_socket_recv_parks},
        {"gil_held_passes_through", test_gil_held_passes_through},
        {NULL, NULL},
    };
    return run_cases(cases, argc, argv);
}

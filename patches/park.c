/* park.c: when an interposer may park (a goroutine that released the GIL,
 * outside the event loop and signal handlers), deadlines from timeouts,
 * and parking on one or many fds. */
#include "internal.h"

#include <fcntl.h>
#include <stdlib.h>

#define NS_PER_SEC 1000000000LL

/* If the runtime cannot watch an fd (out of memory), waits degrade to
 * sleeping this long and retrying the operation. */
#define FALLBACK_SLEEP_NS 1000000LL

/* Handlers running on this thread (they may nest). A handler that
 * siglongjmp()s out leaves it raised: that thread's calls then block as
 * plain libc calls would, which is safe. */
static __thread volatile int in_handler;

void
gpy_patch_handler_depth(int delta)
{
    in_handler += delta;
}

int
gpy_patch_in_signal_handler(void)
{
    return in_handler != 0;
}

/* The executable's code (ours and libpython's), from the linker. */
extern char __executable_start[], etext[];

static __thread const void *twin_caller;

void
gpy_patch_twin_caller(const void *caller)
{
    twin_caller = caller;
}

int
gpy_patch_may_park_from(const void *caller)
{
    if (twin_caller) {
        caller = twin_caller;
        twin_caller = NULL;
    }
    if (!gpy_sched_holder()) {
        /* A goroutine whose OS thread lost the scheduler in a long call
         * (handoff) and now blocks again: it gets the scheduler back and
         * parks, rather than block this thread -- a goroutine pinned to
         * this thread may be the one that would wake it. */
        if (!gpy_sched_detached() || gpy_patch_in_signal_handler() ||
            !gpy_patch_releases_gil() || !gpy_sched_rejoin()) {
            return 0;
        }
    }
    const char *c = caller;
    gpy_sched_pin_parks(c < __executable_start || c >= etext);
    /* The scheduler runs libev on the stack of the goroutine that parks,
     * with the GIL released, so by thread and GIL it looks like any
     * goroutine. libev's own epoll_wait (and its eventfd reads) must reach
     * the kernel: no goroutine runs inside ev_run (its callbacks only mark
     * goroutines runnable), so a non-zero depth means the caller is the
     * event loop. */
    if (gpy_sched_in_loop()) {
        return 0;
    }
    /* A handler (CPython's writes the wakeup fd) may interrupt a parked
     * goroutine, or the scheduler itself, with the GIL released. */
    if (gpy_patch_in_signal_handler()) {
        return 0;
    }
    return gpy_patch_releases_gil();
}

int
gpy_patch_releases_gil(void)
{
    /* Python's answer comes from the binding (no Python here): without
     * it, as in the C tests, nothing holds a GIL. */
    const gpy_hooks *h = gpy_sched_hooks();
    return h->gil_released ? h->gil_released() : 1;
}

int64_t
gpy_patch_deadline_ms(int timeout_ms)
{
    if (timeout_ms < 0) {
        return -1;
    }
    return gpy_now_ns() + (int64_t)timeout_ms * 1000000;
}

int64_t
gpy_patch_deadline_rel(const struct timespec *ts)
{
    if (ts == NULL) {
        return -1;
    }
    if (ts->tv_sec >= INT64_MAX / NS_PER_SEC / 2) {
        return -1;
    }
    return gpy_now_ns() + (int64_t)ts->tv_sec * NS_PER_SEC + ts->tv_nsec;
}

int64_t
gpy_patch_deadline_abs(clockid_t clock, const struct timespec *ts)
{
    if (ts->tv_sec >= INT64_MAX / NS_PER_SEC / 2) {
        return -1;
    }
    int64_t abs = (int64_t)ts->tv_sec * NS_PER_SEC + ts->tv_nsec;
    if (clock == CLOCK_MONOTONIC) {
        return abs;
    }
    /* Another clock: convert at call time. A later jump of that clock
     * (settimeofday) does not move the deadline. */
    struct timespec now;
    if (clock_gettime(clock, &now) < 0) {
        clock_gettime(CLOCK_REALTIME, &now);
    }
    int64_t left = abs - ((int64_t)now.tv_sec * NS_PER_SEC + now.tv_nsec);
    return gpy_now_ns() + left;
}

int
gpy_patch_nonblocking(int fd)
{
    int saved = errno;
    int fl = fcntl(fd, F_GETFL);
    errno = saved;
    return fl >= 0 && (fl & O_NONBLOCK);
}

int
gpy_patch_poll1(int fd, short events)
{
    struct pollfd p = {fd, events, 0};
    return GPY_REAL(poll)(&p, 1, 0);
}

/* fallback_sleep stands in for a wait the runtime refused. */
static int
fallback_sleep(int64_t deadline_ns)
{
    int64_t ns = FALLBACK_SLEEP_NS;
    if (deadline_ns >= 0) {
        int64_t left = deadline_ns - gpy_now_ns();
        if (left <= 0) {
            return 0;
        }
        if (left < ns) {
            ns = left;
        }
    }
    if (gpy_sleep_ns(ns) == -EINTR) {
        return -EINTR;
    }
    return 1;
}

int
gpy_patch_wait_fd(int fd, int events, int64_t deadline_ns)
{
    int r = gpy_fd_wait(fd, events, deadline_ns);
    if (r > 0 || r == -EBADF) {
        return 1;
    }
    if (r == -ETIMEDOUT) {
        return 0;
    }
    if (r == -EINTR) {
        return -EINTR;
    }
    return fallback_sleep(deadline_ns);
}

/* The poll bits epoll understands with the same values. */
#define EPOLL_SAME_BITS                                                       \
    (POLLIN | POLLPRI | POLLOUT | POLLRDNORM | POLLRDBAND | POLLWRNORM |      \
     POLLWRBAND | POLLMSG | POLLRDHUP)

/* sleep_until parks until the deadline (-1: until interrupted), as poll()
 * does when none of its fds can ever become ready. */
static int
sleep_until(int64_t deadline_ns)
{
    gpy_waiter w;
    gpy_waiter_init(&w);
    w.reason = GPY_WAIT_SLEEP;
    int r = gpy_park_wait(&w, deadline_ns);
    return r == -ETIMEDOUT ? 0 : r;
}

/* simple_events maps poll events to a single-fd runtime wait when that
 * wait cannot wake us spuriously forever (a POLLPRI-only wait on a fd that
 * is merely readable would spin): 0 means "not simple". */
static int
simple_events(short events)
{
    events &= ~(POLLERR | POLLHUP | POLLNVAL);
    if (events & ~(POLLIN | POLLRDNORM | POLLOUT | POLLWRNORM)) {
        return 0;
    }
    int ev = 0;
    if (events & (POLLIN | POLLRDNORM)) {
        ev |= GPY_READ;
    }
    if (events & (POLLOUT | POLLWRNORM)) {
        ev |= GPY_WRITE;
    }
    return ev;
}

/* wait_epoll registers every fd in a private epoll set and waits for the
 * set itself to become readable: an epoll fd is pollable, so one runtime
 * fd wait covers any number of fds and any poll events. Returns like
 * gpy_patch_wait_fd, or -ENOMEM/-errno when the set cannot be built. */
static int
wait_epoll(const struct pollfd *fds, nfds_t n, int64_t deadline_ns)
{
    int ep = epoll_create1(EPOLL_CLOEXEC);
    if (ep < 0) {
        return -errno;
    }
    int added = 0;
    int err = 0;
    for (nfds_t i = 0; i < n && !err; i++) {
        if (fds[i].fd < 0) {
            continue;
        }
        struct epoll_event ev;
        ev.events = (uint32_t)(fds[i].events & EPOLL_SAME_BITS);
        ev.data.u64 = 0;
        if (epoll_ctl(ep, EPOLL_CTL_ADD, fds[i].fd, &ev) == 0) {
            added++;
            continue;
        }
        if (errno == EEXIST) {
            /* The same fd twice: wait for the union of its events. */
            for (nfds_t j = 0; j < i; j++) {
                if (fds[j].fd == fds[i].fd) {
                    ev.events |= (uint32_t)(fds[j].events & EPOLL_SAME_BITS);
                }
            }
            if (epoll_ctl(ep, EPOLL_CTL_MOD, fds[i].fd, &ev) < 0) {
                err = errno;
            }
        } else if (errno == EPERM) {
            /* Regular files and directories: always ready for I/O, which
             * the caller's non-blocking poll has already seen; never ready
             * for anything else. */
        } else if (errno == EBADF) {
            /* Closed since the caller's poll: it reports POLLNVAL now. */
            GPY_REAL(close)(ep);
            return 1;
        } else {
            err = errno;
        }
    }
    int r;
    if (err) {
        r = -err;
    } else if (added == 0) {
        r = sleep_until(deadline_ns);
    } else {
        r = gpy_patch_wait_fd(ep, GPY_READ, deadline_ns);
    }
    gpy_fd_closing(ep);
    GPY_REAL(close)(ep);
    return r;
}

int
gpy_patch_wait_pollfds(const struct pollfd *fds, nfds_t n, int64_t deadline_ns)
{
    const struct pollfd *one = NULL;
    nfds_t valid = 0;
    for (nfds_t i = 0; i < n; i++) {
        if (fds[i].fd >= 0) {
            one = &fds[i];
            valid++;
        }
    }
    if (valid == 0) {
        return sleep_until(deadline_ns);
    }
    if (valid == 1) {
        int ev = simple_events(one->events);
        if (ev) {
            return gpy_patch_wait_fd(one->fd, ev, deadline_ns);
        }
    }
    int r = wait_epoll(fds, n, deadline_ns);
    if (r == 0 || r == 1 || r == -EINTR) {
        return r;
    }
    return fallback_sleep(deadline_ns);
}

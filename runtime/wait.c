/* wait.c: parking with a deadline, interrupts, sleeping, waiting for fd
 * readiness and for children — libev timers and io watchers on the
 * scheduler's loop. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "internal.h"

#include <errno.h>
#include <string.h>
#include <sys/syscall.h>

typedef struct fdwait {
    gpy_waiter w;
    int fd;
    struct fdwait *prev, *next; /* waiters on the same fd */
} fdwait;

/* fd -> list of its waiters (gpy_fd_closing wakes them); scheduler
 * thread only. */
static fdwait **fdw;
static int nfdw;

void
gpy__wait_after_fork(void)
{
    for (int i = 0; i < nfdw; i++) {
        fdw[i] = NULL;
    }
}

void
gpy_waiter_init(gpy_waiter *w)
{
    w->g = gpy_g_current();
    w->done = 0;
    w->result = 0;
    w->intr = 1;
    w->reason = GPY_WAIT_OTHER;
    w->fd = -1;
}

typedef struct timed {
    ev_timer t;
    gpy_waiter *w;
} timed;

static void
timer_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
    (void)loop;
    (void)revents;
    gpy_waiter_wake(((timed *)t)->w, -ETIMEDOUT);
}

int
gpy_park_wait(gpy_waiter *w, int64_t deadline_ns)
{
    /* A channel wait comes here having released the GIL: take P back
     * from the monitor's reach before touching the loop. */
    gpy__p_ensure();
    gpy_g *self = gpy_g_current();
    timed tm;
    int have_timer = 0;
    if (self->interrupted && w->intr) {
        self->interrupted = 0;
        gpy_waiter_wake(w, -EINTR);
    }
    if (!__atomic_load_n(&w->done, __ATOMIC_ACQUIRE) && deadline_ns >= 0) {
        ev_now_update(gpy__loop());
        double after = (double)(deadline_ns - gpy_now_ns()) / 1e9;
        if (after <= 0) {
            gpy_waiter_wake(w, -ETIMEDOUT);
        } else {
            ev_timer_init(&tm.t, timer_cb, after, 0.);
            tm.w = w;
            ev_timer_start(gpy__loop(), &tm.t);
            gpy__watchers_add(1);
            have_timer = 1;
        }
    }
    /* A waker on another OS thread that completes w after this check
     * pushes us to the remote queue, which only this thread drains, after
     * we are marked parked: the wakeup cannot be lost. */
    /* A stale remote wakeup (meant for an earlier wait) may resume us:
     * park until this waiter is really done. */
    if (__atomic_load_n(&w->done, __ATOMIC_ACQUIRE) != 2) {
        self->wait_since = gpy_now_coarse_ns();
    }
    while (__atomic_load_n(&w->done, __ATOMIC_ACQUIRE) != 2) {
        self->wait = w;
        gpy__park();
    }
    self->wait = NULL;
    if (have_timer) {
        ev_timer_stop(gpy__loop(), &tm.t);
        gpy__watchers_add(-1);
    }
    return w->result;
}

int64_t
gpy_now_coarse_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

const char *
gpy_wait_reason_name(int reason)
{
    static const char *const names[GPY_WAIT_COUNT] = {
        [GPY_WAIT_OTHER] = "waiting",
        [GPY_WAIT_CHAN_SEND] = "chan send",
        [GPY_WAIT_CHAN_RECV] = "chan receive",
        [GPY_WAIT_CHAN_SEND_NIL] = "chan send (nil chan)",
        [GPY_WAIT_CHAN_RECV_NIL] = "chan receive (nil chan)",
        [GPY_WAIT_SELECT] = "select",
        [GPY_WAIT_SELECT_NOCASES] = "select (no cases)",
        [GPY_WAIT_SLEEP] = "sleep",
        [GPY_WAIT_IO] = "IO wait",
        [GPY_WAIT_LOCK] = "lock",
        [GPY_WAIT_SYSCALL] = "syscall",
        [GPY_WAIT_SIGNAL] = "signal wait",
    };
    return reason >= 0 && reason < GPY_WAIT_COUNT ? names[reason] : "waiting";
}

int
gpy_g_interrupt(gpy_g *g)
{
    if (g->state == GPY_G_PARKED && g->wait && g->wait->intr) {
        return gpy_waiter_wake(g->wait, -EINTR);
    }
    return 0;
}

int
gpy_sleep_ns(int64_t ns)
{
    if (!gpy__p_take()) {
        if (ns > 0) {
            struct timespec ts = {ns / 1000000000, ns % 1000000000};
            while (gpy__sys_sleep(&ts, &ts) < 0 && errno == EINTR) {
            }
        }
        return 0;
    }
    if (ns <= 0) {
        gpy_yield();
        return 0;
    }
    gpy_waiter w;
    gpy_waiter_init(&w);
    w.reason = GPY_WAIT_SLEEP;
    int r = gpy_park_wait(&w, gpy_now_ns() + ns);
    return r == -ETIMEDOUT ? 0 : r;
}

/* ---- fd waits ---- */

typedef struct iowait {
    fdwait fw;
    ev_io io;
} iowait;

static void
io_cb(struct ev_loop *loop, ev_io *io, int revents)
{
    (void)loop;
    iowait *iw = (iowait *)((char *)io - offsetof(iowait, io));
    int ev = 0;
    if (revents & EV_READ) {
        ev |= GPY_READ;
    }
    if (revents & EV_WRITE) {
        ev |= GPY_WRITE;
    }
    gpy_waiter_wake(&iw->fw.w, ev ? ev : GPY_READ);
}

static int
fdw_reserve(int fd)
{
    if (fd < nfdw) {
        return 0;
    }
    int n = nfdw ? nfdw : 64;
    while (n <= fd) {
        n *= 2;
    }
    fdwait **p = realloc(fdw, (size_t)n * sizeof(*p));
    if (!p) {
        return -ENOMEM;
    }
    memset(p + nfdw, 0, (size_t)(n - nfdw) * sizeof(*p));
    fdw = p;
    nfdw = n;
    return 0;
}

static int fd_wait(int fd, int events, int64_t deadline_ns, int reason);

int
gpy_fd_wait(int fd, int events, int64_t deadline_ns)
{
    return fd_wait(fd, events, deadline_ns, GPY_WAIT_IO);
}

/* fd_wait is gpy_fd_wait, the goroutine's dump saying reason. */
static int
fd_wait(int fd, int events, int64_t deadline_ns, int reason)
{
    if (!gpy__p_take()) {
        struct pollfd p = {fd,
                           (short)((events & GPY_READ ? POLLIN : 0) |
                                   (events & GPY_WRITE ? POLLOUT : 0)),
                           0};
        int timeout = -1;
        if (deadline_ns >= 0) {
            int64_t left = deadline_ns - gpy_now_ns();
            timeout = left <= 0 ? 0 : (int)((left + 999999) / 1000000);
        }
        int r = gpy__sys_poll(&p, 1, timeout);
        if (r < 0) {
            return -errno;
        }
        if (r == 0) {
            return -ETIMEDOUT;
        }
        return events;
    }
    if (fd < 0) {
        return -EBADF;
    }
    int r = fdw_reserve(fd);
    if (r < 0) {
        return r;
    }
    iowait iw;
    gpy_waiter_init(&iw.fw.w);
    iw.fw.w.reason = reason;
    iw.fw.w.fd = fd;
    iw.fw.fd = fd;
    iw.fw.prev = NULL;
    iw.fw.next = fdw[fd];
    if (iw.fw.next) {
        iw.fw.next->prev = &iw.fw;
    }
    fdw[fd] = &iw.fw;
    ev_io_init(&iw.io, io_cb, fd,
               (events & GPY_READ ? EV_READ : 0) |
                   (events & GPY_WRITE ? EV_WRITE : 0));
    ev_io_start(gpy__loop(), &iw.io);
    gpy__watchers_add(1);
    r = gpy_park_wait(&iw.fw.w, deadline_ns);
    if (ev_is_active(&iw.io)) {
        ev_io_stop(gpy__loop(), &iw.io);
        gpy__watchers_add(-1);
    }
    if (iw.fw.prev) {
        iw.fw.prev->next = iw.fw.next;
    } else {
        fdw[fd] = iw.fw.next;
    }
    if (iw.fw.next) {
        iw.fw.next->prev = iw.fw.prev;
    }
    return r;
}

void
gpy_fd_closing(int fd)
{
    if (!gpy__on_sched() || fd < 0 || fd >= nfdw) {
        return;
    }
    /* Stop the watchers now: libev must not touch the fd once closed
     * (the waiters only run after the close). */
    for (fdwait *fw = fdw[fd]; fw; fw = fw->next) {
        iowait *iw = (iowait *)fw;
        if (ev_is_active(&iw->io)) {
            ev_io_stop(gpy__loop(), &iw->io);
            gpy__watchers_add(-1);
        }
        gpy_waiter_wake(&fw->w, -EBADF);
    }
}

/* ---- children ---- */

int
gpy_child_wait(int pid, int64_t deadline_ns)
{
    if (!gpy__p_take()) {
        return 0;
    }
#ifdef SYS_pidfd_open
    int pfd = (int)syscall(SYS_pidfd_open, pid, 0);
    if (pfd >= 0) {
        int r = fd_wait(pfd, GPY_READ, deadline_ns, GPY_WAIT_SYSCALL);
        gpy__sys_close(pfd);
        return r < 0 ? r : 0;
    }
#endif
    /* No pidfd (old kernel, or pid is a process group): poll with backoff. */
    int64_t step = 1000000;
    for (;;) {
        siginfo_t si;
        memset(&si, 0, sizeof(si));
        idtype_t type = pid > 0 ? P_PID : P_ALL;
        if (gpy__sys_waitid(type, (id_t)(pid > 0 ? pid : 0), &si,
                            WEXITED | WSTOPPED | WCONTINUED | WNOHANG |
                                WNOWAIT) < 0) {
            return 0;
        }
        if (si.si_pid != 0) {
            return 0;
        }
        int64_t now = gpy_now_ns();
        if (deadline_ns >= 0 && now >= deadline_ns) {
            return -ETIMEDOUT;
        }
        int64_t d = step;
        if (deadline_ns >= 0 && now + d > deadline_ns) {
            d = deadline_ns - now;
        }
        int r = gpy_sleep_ns(d);
        if (r < 0) {
            return r;
        }
        if (step < 50000000) {
            step *= 2;
        }
    }
}

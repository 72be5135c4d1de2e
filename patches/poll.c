/* poll.c: cooperative readiness waits — poll, ppoll, select, pselect and
 * epoll_wait/epoll_pwait/epoll_pwait2 look without blocking first, then
 * park until one of their fds may be ready, then look again. */
#include "internal.h"

#include <stdlib.h>
#include <string.h>

/* ---- poll ---- */

static const struct timespec zero_ts = {0, 0};

static int
valid_ts(const struct timespec *ts)
{
    return ts->tv_sec >= 0 && ts->tv_nsec >= 0 && ts->tv_nsec < 1000000000;
}

/* coop_poll: poll and ppoll once the first non-blocking look found
 * nothing. A final look after the deadline reports last-moment events. */
static int
coop_poll(struct pollfd *fds, nfds_t n, int64_t deadline, const sigset_t *mask,
          int use_mask)
{
    for (;;) {
        int w = gpy_patch_wait_pollfds(fds, n, deadline);
        if (w == -EINTR) {
            errno = EINTR;
            return -1;
        }
        int r = use_mask ? GPY_REAL(ppoll)(fds, n, &zero_ts, mask)
                         : GPY_REAL(poll)(fds, n, 0);
        if (r != 0 || w == 0) {
            return r;
        }
    }
}

GPY_EXPORT int
poll(struct pollfd *fds, nfds_t n, int timeout)
{
    if (timeout == 0 || !gpy_patch_may_park()) {
        return GPY_REAL(poll)(fds, n, timeout);
    }
    int r = GPY_REAL(poll)(fds, n, 0);
    if (r != 0) {
        return r;
    }
    return GPY_HOMED(
        coop_poll(fds, n, gpy_patch_deadline_ms(timeout), NULL, 0));
}

GPY_EXPORT int
ppoll(struct pollfd *fds, nfds_t n, const struct timespec *tmo,
      const sigset_t *mask)
{
    if ((tmo && (!valid_ts(tmo) || (tmo->tv_sec == 0 && tmo->tv_nsec == 0))) ||
        !gpy_patch_may_park()) {
        return GPY_REAL(ppoll)(fds, n, tmo, mask);
    }
    /* The signal mask applies to the non-blocking looks only; while
     * parked, signals reach the scheduler as they always do. */
    int r = GPY_REAL(ppoll)(fds, n, &zero_ts, mask);
    if (r != 0) {
        return r;
    }
    return GPY_HOMED(coop_poll(fds, n, gpy_patch_deadline_rel(tmo), mask, 1));
}

extern void __chk_fail(void) __attribute__((noreturn));

GPY_EXPORT int
__poll_chk(struct pollfd *fds, nfds_t n, int timeout, size_t fdslen)
{
    if (fdslen / sizeof(*fds) < n) {
        __chk_fail();
    }
    gpy_patch_twin_caller(__builtin_return_address(0));
    return poll(fds, n, timeout);
}

GPY_EXPORT int
__ppoll_chk(struct pollfd *fds, nfds_t n, const struct timespec *tmo,
            const sigset_t *mask, size_t fdslen)
{
    if (fdslen / sizeof(*fds) < n) {
        __chk_fail();
    }
    gpy_patch_twin_caller(__builtin_return_address(0));
    return ppoll(fds, n, tmo, mask);
}

/* ---- select ---- */

typedef struct selsets {
    fd_set *r, *w, *e; /* the caller's sets */
    fd_set r0, w0, e0; /* what they asked for */
} selsets;

static void
sets_restore(selsets *s)
{
    if (s->r) {
        *s->r = s->r0;
    }
    if (s->w) {
        *s->w = s->w0;
    }
    if (s->e) {
        *s->e = s->e0;
    }
}

/* sets_to_pollfds lists the fds of the sets as pollfds (for the wait
 * only; every answer comes from the real select). Returns the count, or
 * -1 if out of memory. */
static int
sets_to_pollfds(selsets *s, int nfds, struct pollfd **out,
                struct pollfd *small, int nsmall)
{
    int cnt = 0;
    for (int fd = 0; fd < nfds; fd++) {
        if ((s->r && FD_ISSET(fd, &s->r0)) || (s->w && FD_ISSET(fd, &s->w0)) ||
            (s->e && FD_ISSET(fd, &s->e0))) {
            cnt++;
        }
    }
    struct pollfd *p = small;
    if (cnt > nsmall) {
        p = malloc((size_t)cnt * sizeof(*p));
        if (!p) {
            return -1;
        }
    }
    int k = 0;
    for (int fd = 0; fd < nfds && k < cnt; fd++) {
        short ev = 0;
        if (s->r && FD_ISSET(fd, &s->r0)) {
            ev |= POLLIN;
        }
        if (s->w && FD_ISSET(fd, &s->w0)) {
            ev |= POLLOUT;
        }
        if (s->e && FD_ISSET(fd, &s->e0)) {
            ev |= POLLPRI;
        }
        if (ev) {
            p[k].fd = fd;
            p[k].events = ev;
            p[k].revents = 0;
            k++;
        }
    }
    *out = p;
    return cnt;
}

/* coop_select: select and pselect once the first non-blocking look found
 * nothing (it cleared the sets; they are restored before each look). */
static int
coop_select(int nfds, selsets *s, int64_t deadline, const sigset_t *mask,
            int use_mask)
{
    struct pollfd small[32];
    struct pollfd *pfds;
    int cnt = sets_to_pollfds(s, nfds, &pfds, small, 32);
    if (cnt < 0) {
        errno = ENOMEM;
        return -1;
    }
    int r;
    for (;;) {
        int w = gpy_patch_wait_pollfds(pfds, (nfds_t)cnt, deadline);
        sets_restore(s);
        if (w == -EINTR) {
            errno = EINTR;
            r = -1;
            break;
        }
        if (use_mask) {
            r = GPY_REAL(pselect)(nfds, s->r, s->w, s->e, &zero_ts, mask);
        } else {
            struct timeval tv0 = {0, 0};
            r = GPY_REAL(select)(nfds, s->r, s->w, s->e, &tv0);
        }
        if (r != 0 || w == 0) {
            break;
        }
    }
    if (pfds != small) {
        int saved = errno;
        free(pfds);
        errno = saved;
    }
    return r;
}

static void
sets_save(selsets *s, fd_set *r, fd_set *w, fd_set *e)
{
    s->r = r;
    s->w = w;
    s->e = e;
    if (r) {
        s->r0 = *r;
    }
    if (w) {
        s->w0 = *w;
    }
    if (e) {
        s->e0 = *e;
    }
}

GPY_EXPORT int
select(int nfds, fd_set *restrict rfds, fd_set *restrict wfds,
       fd_set *restrict efds, struct timeval *restrict tv)
{
    /* Invalid arguments and more fds than an fd_set holds go to the
     * kernel as they are. */
    if (nfds < 0 || nfds > FD_SETSIZE ||
        (tv && (tv->tv_sec < 0 || tv->tv_usec < 0 ||
                (tv->tv_sec == 0 && tv->tv_usec == 0))) ||
        !gpy_patch_may_park()) {
        return GPY_REAL(select)(nfds, rfds, wfds, efds, tv);
    }
    int64_t deadline = -1;
    if (tv) {
        deadline = gpy_now_ns() + (int64_t)tv->tv_sec * 1000000000 +
                   (int64_t)tv->tv_usec * 1000;
    }
    selsets s;
    sets_save(&s, rfds, wfds, efds);
    struct timeval tv0 = {0, 0};
    int r = GPY_REAL(select)(nfds, rfds, wfds, efds, &tv0);
    if (r == 0) {
        sets_restore(&s);
        r = GPY_HOMED(coop_select(nfds, &s, deadline, NULL, 0));
    }
    if (tv) {
        /* Linux's select reports the time not slept. */
        int64_t left = deadline - gpy_now_ns();
        if (left < 0) {
            left = 0;
        }
        tv->tv_sec = left / 1000000000;
        tv->tv_usec = (left % 1000000000) / 1000;
    }
    return r;
}

GPY_EXPORT int
pselect(int nfds, fd_set *restrict rfds, fd_set *restrict wfds,
        fd_set *restrict efds, const struct timespec *restrict tmo,
        const sigset_t *restrict mask)
{
    if (nfds < 0 || nfds > FD_SETSIZE ||
        (tmo && (!valid_ts(tmo) || (tmo->tv_sec == 0 && tmo->tv_nsec == 0))) ||
        !gpy_patch_may_park()) {
        return GPY_REAL(pselect)(nfds, rfds, wfds, efds, tmo, mask);
    }
    int64_t deadline = gpy_patch_deadline_rel(tmo);
    selsets s;
    sets_save(&s, rfds, wfds, efds);
    int r = GPY_REAL(pselect)(nfds, rfds, wfds, efds, &zero_ts, mask);
    if (r == 0) {
        sets_restore(&s);
        r = GPY_HOMED(coop_select(nfds, &s, deadline, mask, 1));
    }
    return r;
}

/* ---- epoll ---- */

/* An epoll fd is itself pollable: it is readable while it has events.
 * kind: 0 epoll_wait, 1 epoll_pwait, 2 epoll_pwait2. */
static int
coop_epoll(int ep, struct epoll_event *ev, int max, int64_t deadline,
           const sigset_t *mask, int kind)
{
    for (;;) {
        int r;
        switch (kind) {
        case 0:
            r = GPY_REAL(epoll_wait)(ep, ev, max, 0);
            break;
        case 1:
            r = GPY_REAL(epoll_pwait)(ep, ev, max, 0, mask);
            break;
        default:
            r = GPY_REAL(epoll_pwait2)(ep, ev, max, &zero_ts, mask);
            break;
        }
        if (r != 0 || deadline == -2) {
            return r;
        }
        int w = gpy_patch_wait_fd(ep, GPY_READ, deadline);
        if (w == -EINTR) {
            errno = EINTR;
            return -1;
        }
        if (w == 0) {
            deadline = -2; /* one last look, then report the timeout */
        }
    }
}

GPY_EXPORT int
epoll_wait(int ep, struct epoll_event *ev, int max, int timeout)
{
    if (timeout == 0 || max <= 0 || !gpy_patch_may_park()) {
        return GPY_REAL(epoll_wait)(ep, ev, max, timeout);
    }
    return GPY_HOMED(
        coop_epoll(ep, ev, max, gpy_patch_deadline_ms(timeout), NULL, 0));
}

GPY_EXPORT int
epoll_pwait(int ep, struct epoll_event *ev, int max, int timeout,
            const sigset_t *mask)
{
    if (timeout == 0 || max <= 0 || !gpy_patch_may_park()) {
        return GPY_REAL(epoll_pwait)(ep, ev, max, timeout, mask);
    }
    return GPY_HOMED(
        coop_epoll(ep, ev, max, gpy_patch_deadline_ms(timeout), mask, 1));
}

GPY_EXPORT int
epoll_pwait2(int ep, struct epoll_event *ev, int max,
             const struct timespec *tmo, const sigset_t *mask)
{
    if (!GPY_REAL(epoll_pwait2)) {
        errno = ENOSYS;
        return -1;
    }
    if ((tmo && (!valid_ts(tmo) || (tmo->tv_sec == 0 && tmo->tv_nsec == 0))) ||
        max <= 0 || !gpy_patch_may_park()) {
        return GPY_REAL(epoll_pwait2)(ep, ev, max, tmo, mask);
    }
    return GPY_HOMED(
        coop_epoll(ep, ev, max, gpy_patch_deadline_rel(tmo), mask, 2));
}

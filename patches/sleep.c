/* sleep.c: cooperative sleeps — nanosleep, clock_nanosleep, usleep and
 * sleep park the goroutine on a runtime timer; a zero or past deadline
 * yields (so time.sleep(0) lets other goroutines run). */
#include "internal.h"

#define NS_PER_SEC 1000000000LL

/* sleep_until parks until the CLOCK_MONOTONIC deadline. Returns 0, or
 * -EINTR with *left set to the time not slept. */
static int
sleep_until(int64_t deadline, int64_t *left)
{
    int64_t now = gpy_now_ns();
    if (deadline <= now) {
        gpy_sleep_ns(0);
        return 0;
    }
    do {
        if (gpy_sleep_ns(deadline - now) == -EINTR) {
            int64_t l = deadline - gpy_now_ns();
            *left = l > 0 ? l : 0;
            return -EINTR;
        }
        now = gpy_now_ns();
    } while (now < deadline);
    return 0;
}

static void
ns_to_ts(int64_t ns, struct timespec *ts)
{
    ts->tv_sec = ns / NS_PER_SEC;
    ts->tv_nsec = ns % NS_PER_SEC;
}

static int
cpu_clock(clockid_t clock)
{
    /* CPU-time clocks (process, thread, and the negative per-pid/tid
     * ones) do not advance while we park: leave them to the kernel. */
    return clock == CLOCK_PROCESS_CPUTIME_ID ||
           clock == CLOCK_THREAD_CPUTIME_ID || clock < 0;
}

GPY_EXPORT int
clock_nanosleep(clockid_t clock, int flags, const struct timespec *req,
                struct timespec *rem)
{
    if (cpu_clock(clock) || req == NULL || req->tv_nsec < 0 ||
        req->tv_nsec >= NS_PER_SEC || req->tv_sec < 0 ||
        !gpy_patch_may_park()) {
        return GPY_REAL(clock_nanosleep)(clock, flags, req, rem);
    }
    int64_t deadline;
    if (flags & TIMER_ABSTIME) {
        deadline = gpy_patch_deadline_abs(clock, req);
    } else {
        deadline = gpy_patch_deadline_rel(req);
    }
    if (deadline < 0) {
        /* Beyond any representable deadline: sleep "forever". */
        deadline = INT64_MAX / 2;
    }
    int64_t left;
    if (sleep_until(deadline, &left) == -EINTR) {
        if (rem && !(flags & TIMER_ABSTIME)) {
            ns_to_ts(left, rem);
        }
        return EINTR;
    }
    return 0;
}

GPY_EXPORT int
nanosleep(const struct timespec *req, struct timespec *rem)
{
    if (req == NULL || req->tv_nsec < 0 || req->tv_nsec >= NS_PER_SEC ||
        req->tv_sec < 0 || !gpy_patch_may_park()) {
        return GPY_REAL(nanosleep)(req, rem);
    }
    void *home = gpy_sched_m();
    gpy_patch_twin_caller(__builtin_return_address(0));
    int r = clock_nanosleep(CLOCK_MONOTONIC, 0, req, rem);
    if (r) {
        gpy_sched_return_home(home);
        errno = r;
        return -1;
    }
    return 0;
}

GPY_EXPORT int
usleep(useconds_t us)
{
    if (!gpy_patch_may_park()) {
        return GPY_REAL(usleep)(us);
    }
    void *home = gpy_sched_m();
    int64_t left;
    if (sleep_until(gpy_now_ns() + (int64_t)us * 1000, &left) == -EINTR) {
        gpy_sched_return_home(home);
        errno = EINTR;
        return -1;
    }
    return 0;
}

GPY_EXPORT unsigned int
sleep(unsigned int secs)
{
    if (!gpy_patch_may_park()) {
        return GPY_REAL(sleep)(secs);
    }
    int64_t left;
    if (sleep_until(gpy_now_ns() + (int64_t)secs * NS_PER_SEC, &left) ==
        -EINTR) {
        /* glibc rounds the time not slept to the nearest second. */
        return (unsigned int)((left + NS_PER_SEC / 2) / NS_PER_SEC);
    }
    return 0;
}

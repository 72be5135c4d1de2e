/* thread.c: thread idents that name goroutines. On the scheduler thread
 * CPython's thread ident (threading.get_ident(), sys._current_frames()) is
 * the goroutine id, which is no pthread_t: pthread_kill and
 * pthread_getcpuclockid take it as naming the thread every goroutine runs
 * on — the one a signal must reach, the one whose CPU clock counts the
 * goroutine's time. */
#include "internal.h"

/* Goroutine ids count up from 1; a pthread_t is an address, far above. */
#define GOROUTINE_IDS (1ULL << 32)

static pthread_t
os_thread(pthread_t t)
{
    if ((unsigned long long)t != 0 && (unsigned long long)t < GOROUTINE_IDS) {
        return gpy_sched_thread();
    }
    return t;
}

GPY_EXPORT int
pthread_kill(pthread_t thread, int sig)
{
    return GPY_REAL(pthread_kill)(os_thread(thread), sig);
}

GPY_EXPORT int
pthread_getcpuclockid(pthread_t thread, clockid_t *clock)
{
    return GPY_REAL(pthread_getcpuclockid)(os_thread(thread), clock);
}

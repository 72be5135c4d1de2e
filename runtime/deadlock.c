/* deadlock.c: what outside the scheduler could still wake a goroutine —
 * another OS thread, an offloaded call, an armed alarm — for the deadlock
 * check (Go's "all goroutines are asleep"). */
#include "internal.h"

#include <string.h>
#include <sys/time.h>

/* Runtime helper threads (the preemption monitor): they never wake
 * anyone by themselves. */
static int nown;

void
gpy_sched_own_thread(int delta)
{
    __atomic_add_fetch(&nown, delta, __ATOMIC_RELAXED);
}

/* Signal relays (golang.os.signal.Notify) in force. */
static int nsignal;

void
gpy_sched_signal_waiters(int delta)
{
    __atomic_add_fetch(&nsignal, delta, __ATOMIC_RELAXED);
}

void
gpy__deadlock_after_fork(void)
{
    nown = 0; /* (signal relays are inherited, as the handlers are) */
}

static int
other_threads_exist(void)
{
    /* Another OS thread (a Python thread of the threads runtime, a C
     * library's worker) may still wake a goroutine. Idle pool threads
     * cannot. */
    FILE *f = fopen("/proc/self/stat", "r");
    if (!f) {
        return 1;
    }
    char buf[1024];
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = 0;
    char *p = strrchr(buf, ')');
    if (!p) {
        return 1;
    }
    /* after ") " come fields 3.. ; num_threads is field 20 */
    int field = 2;
    long threads = 1;
    for (char *tok = p + 1; *tok; tok++) {
        if (*tok == ' ') {
            field++;
            if (field == 20) {
                threads = strtol(tok + 1, NULL, 10);
                break;
            }
        }
    }
    return threads - gpy__offload_threads() - gpy__idle_ms() -
               __atomic_load_n(&nown, __ATOMIC_RELAXED) >
           1;
}

int
gpy__outside_wakers(void)
{
    if (gpy__offload_pending() > 0 ||
        __atomic_load_n(&nsignal, __ATOMIC_RELAXED) > 0 ||
        other_threads_exist()) {
        return 1;
    }
    /* An armed alarm()/setitimer() will deliver a signal whose handler
     * may wake someone (python3 would wait for it too). */
    struct itimerval it;
    return getitimer(ITIMER_REAL, &it) == 0 &&
           (it.it_value.tv_sec || it.it_value.tv_usec);
}

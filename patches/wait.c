/* wait.c: cooperative child waits — waitpid, wait, wait3, wait4 and waitid
 * poll with WNOHANG and park on the runtime's child watch in between — and
 * system(), whose fork and wait happen inside libc (on the thread pool). */
#include "internal.h"

#include <string.h>

#ifndef P_PIDFD
#define P_PIDFD 3
#endif

/* How one blocking wait call waits between WNOHANG polls. */
typedef struct childwait {
    int watched;     /* runtime child watches used so far */
    int64_t backoff; /* next polling sleep, ns */
} childwait;

/* child_park parks until a child matching pid may have changed state.
 * Returns 0 or -EINTR. The runtime's watch (a pidfd) reports only the
 * exit of one pid; any child, process groups and stop/continue waits
 * poll with a growing sleep instead. A watch that keeps firing without a
 * reportable state also falls back to polling, so nothing can spin. */
static int
child_park(pid_t pid, int exit_only, childwait *cw)
{
    if (pid > 0 && exit_only && cw->watched < 2) {
        cw->watched++;
        return gpy_child_wait(pid, -1) == -EINTR ? -EINTR : 0;
    }
    if (cw->backoff == 0) {
        cw->backoff = 1000000;
    }
    if (gpy_sleep_ns(cw->backoff) == -EINTR) {
        return -EINTR;
    }
    if (cw->backoff < 50000000) {
        cw->backoff *= 2;
    }
    return 0;
}

static pid_t
coop_wait4(pid_t pid, int *status, int options, struct rusage *ru)
{
    childwait cw = {0, 0};
    int exit_only = !(options & (WUNTRACED | WCONTINUED));
    for (;;) {
        pid_t r = GPY_REAL(wait4)(pid, status, options | WNOHANG, ru);
        if (r != 0) {
            return r;
        }
        if (child_park(pid, exit_only, &cw) == -EINTR) {
            errno = EINTR;
            return -1;
        }
    }
}

GPY_EXPORT pid_t
waitpid(pid_t pid, int *status, int options)
{
    if ((options & WNOHANG) || !gpy_patch_may_park()) {
        return GPY_REAL(waitpid)(pid, status, options);
    }
    return GPY_HOMED(coop_wait4(pid, status, options, NULL));
}

GPY_EXPORT pid_t
wait4(pid_t pid, int *status, int options, struct rusage *ru)
{
    if ((options & WNOHANG) || !gpy_patch_may_park()) {
        return GPY_REAL(wait4)(pid, status, options, ru);
    }
    return GPY_HOMED(coop_wait4(pid, status, options, ru));
}

GPY_EXPORT pid_t
wait3(int *status, int options, struct rusage *ru)
{
    return wait4(-1, status, options, ru);
}

GPY_EXPORT pid_t
wait(int *status)
{
    return wait4(-1, status, 0, NULL);
}

GPY_EXPORT int
waitid(idtype_t type, id_t id, siginfo_t *info, int options)
{
    if ((options & WNOHANG) || !gpy_patch_may_park()) {
        return GPY_REAL(waitid)(type, id, info, options);
    }
    siginfo_t local;
    siginfo_t *si = info ? info : &local;
    pid_t pid = type == P_PID ? (pid_t)id : 0;
    int exit_only = !(options & (WSTOPPED | WCONTINUED));
    childwait cw = {0, 0};
    void *home = gpy_sched_m();
    for (;;) {
        /* With WNOHANG and nothing to report, waitid leaves si_pid 0. */
        memset(si, 0, sizeof(*si));
        int r = GPY_REAL(waitid)(type, id, si, options | WNOHANG);
        if (r != 0 || si->si_pid != 0) {
            if (r < 0) {
                gpy_sched_return_home(home);
            }
            return r;
        }
        int w;
        if (type == (idtype_t)P_PIDFD && exit_only) {
            /* A pidfd becomes readable when its process exits. */
            w = gpy_patch_wait_fd((int)id, GPY_READ, -1);
        } else {
            w = child_park(pid, exit_only, &cw);
        }
        if (w == -EINTR) {
            gpy_sched_return_home(home);
            errno = EINTR;
            return -1;
        }
    }
}

/* system() forks, then waits inside libc where no interposer sees it. On
 * a pool thread only that thread blocks; glibc's system is thread-safe. */
typedef struct sys_call {
    const char *cmd;
    int ret, err;
} sys_call;

static void
sys_run(void *p)
{
    sys_call *c = p;
    c->ret = GPY_REAL(system)(c->cmd);
    c->err = errno;
}

GPY_EXPORT int
system(const char *cmd)
{
    if (cmd == NULL || !gpy_patch_may_park()) {
        return GPY_REAL(system)(cmd);
    }
    sys_call c = {cmd, 0, 0};
    gpy_offload(sys_run, &c);
    errno = c.err;
    return c.ret;
}

/* signal.c: signal handlers that wake the scheduler — sigaction, signal and
 * friends install our wrapper, which runs the program's handler and then
 * interrupts the main goroutine's wait so Python's handlers
 * (KeyboardInterrupt) run there promptly; pause and sigwait* park instead of
 * blocking. */
#include "internal.h"

#include <dlfcn.h>
#include <string.h>
#include <sys/signalfd.h>

/* A parked pause()/sigwait() wakes this often to look again; its timer
 * also tells the deadlock detector that a wakeup may still come (from a
 * signal sent by another process). */
#define IDLE_NS (3600LL * 1000000000LL)

/* What the program asked for, per signal. Double-buffered: the wrapper
 * (possibly on another thread, possibly interrupting a writer) reads the
 * slot cur[] names while sigaction fills the other one. */
typedef struct handler {
    void *fn;      /* sa_handler / sa_sigaction, or SIG_DFL/SIG_IGN */
    int flags;     /* the program's sa_flags */
    sigset_t mask; /* the program's sa_mask */
    int python;    /* CPython's own handler (Python-level handlers) */
} handler;

static handler table[NSIG][2];
static int cur[NSIG];
static int table_lock; /* writers' spinlock, taken with signals blocked */
/* The process the table belongs to. A vfork child (subprocess resets the
 * handlers there before exec) shares our memory and must not touch it. */
static pid_t table_pid;
static sigset_t sigintr; /* siginterrupt(sig, 1) was called (as glibc's) */

/* Python-level handlers held back because a goroutine other than main was
 * running (CPython would raise KeyboardInterrupt in that goroutine): the
 * scheduler delivers them (deliver_deferred) just before it resumes the
 * main goroutine. */
static volatile sig_atomic_t deferred[NSIG];
static volatile sig_atomic_t any_deferred;

/* Signals caught so far (run or held back): pause() tells a real wakeup
 * from a stale one (the scheduler's "signal arrived" for a signal main
 * already handled while it was running). */
static unsigned long caught;

static struct {
    int (*sigaction)(int, const struct sigaction *, struct sigaction *);
    int (*pause)(void);
    int (*sigwait)(const sigset_t *, int *);
    int (*sigwaitinfo)(const sigset_t *, siginfo_t *);
    int (*sigtimedwait)(const sigset_t *, siginfo_t *,
                        const struct timespec *);
    void *libpython; /* load address of libpython (dli_fbase) */
} R;
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void deliver_deferred(void);

static void
forked_child(void)
{
    table_pid = getpid();
}

static void
resolve(void)
{
    *(void **)&R.sigaction = dlsym(RTLD_NEXT, "sigaction");
    *(void **)&R.pause = dlsym(RTLD_NEXT, "pause");
    *(void **)&R.sigwait = dlsym(RTLD_NEXT, "sigwait");
    *(void **)&R.sigwaitinfo = dlsym(RTLD_NEXT, "sigwaitinfo");
    *(void **)&R.sigtimedwait = dlsym(RTLD_NEXT, "sigtimedwait");
    Dl_info info;
    void *py = dlsym(RTLD_DEFAULT, "PyOS_setsig");
    if (py && dladdr(py, &info)) {
        R.libpython = info.dli_fbase;
    }
    table_pid = getpid();
    pthread_atfork(NULL, NULL, forked_child);
    gpy_hooks h = {.signal_arrived = deliver_deferred};
    gpy_sched_set_hooks(&h);
}

#define RESOLVE() pthread_once(&once, resolve)

/* Synchronous faults are not wrapped: their handlers (faulthandler's) must
 * see the faulting context untouched and have no Python work to wake. */
static int
wrappable(int sig)
{
    switch (sig) {
    case SIGSEGV:
    case SIGBUS:
    case SIGILL:
    case SIGFPE:
    case SIGTRAP:
    case SIGSYS:
    case SIGKILL:
    case SIGSTOP:
        return 0;
    default:
        return sig > 0 && sig < NSIG;
    }
}

static int
from_libpython(void *fn)
{
    Dl_info info;
    return R.libpython && dladdr(fn, &info) && info.dli_fbase == R.libpython;
}

/* must_defer: a Python-level handler run now would raise in the goroutine
 * that happens to be running (or run next); hold it back unless that is
 * the main goroutine. Async-signal-safe. */
static int
must_defer(void)
{
    gpy_g *g = gpy_g_current();
    return g && gpy_sched_active() && g != gpy_g_main();
}

static void
call_handler(const handler *h, int sig, siginfo_t *si, void *uc)
{
    gpy_patch_handler_depth(1);
    if (h->flags & SA_SIGINFO) {
        ((void (*)(int, siginfo_t *, void *))h->fn)(sig, si, uc);
    } else {
        ((void (*)(int))h->fn)(sig);
    }
    gpy_patch_handler_depth(-1);
}

static void
wrapper(int sig, siginfo_t *si, void *uc)
{
    int saved = errno;
    handler h = table[sig][__atomic_load_n(&cur[sig], __ATOMIC_ACQUIRE)];
    /* SIG_DFL/SIG_IGN: being replaced by another thread right now. */
    if (h.fn != (void *)SIG_DFL && h.fn != (void *)SIG_IGN) {
        __atomic_add_fetch(&caught, 1, __ATOMIC_RELAXED);
        if (h.python && must_defer()) {
            deferred[sig] = 1;
            any_deferred = 1;
            gpy_sched_signal_arrived();
        } else {
            call_handler(&h, sig, si, uc);
            /* A handler that would interrupt a blocking call (no
             * SA_RESTART, as CPython installs them) interrupts the main
             * goroutine's park. */
            if (!(h.flags & SA_RESTART)) {
                gpy_sched_signal_arrived();
            }
        }
    }
    errno = saved;
}

/* deliver_deferred runs on the scheduler thread, outside signal context,
 * with the GIL released (the scheduler hook): CPython's handler only sets
 * flags and writes the wakeup fd, which is fine here. */
static void
deliver_deferred(void)
{
    if (!any_deferred) {
        return;
    }
    any_deferred = 0;
    for (int sig = 1; sig < NSIG; sig++) {
        if (!deferred[sig]) {
            continue;
        }
        deferred[sig] = 0;
        handler h = table[sig][__atomic_load_n(&cur[sig], __ATOMIC_ACQUIRE)];
        if (h.python && h.fn != (void *)SIG_DFL && h.fn != (void *)SIG_IGN) {
            siginfo_t si;
            memset(&si, 0, sizeof(si));
            si.si_signo = sig;
            call_handler(&h, sig, &si, NULL);
        }
    }
}

static void
lock_table(sigset_t *saved)
{
    sigset_t all;
    sigfillset(&all);
    gpy_patch_real_sigmask(SIG_BLOCK, &all, saved);
    while (__atomic_exchange_n(&table_lock, 1, __ATOMIC_ACQUIRE)) {
        while (__atomic_load_n(&table_lock, __ATOMIC_RELAXED)) {
        }
    }
}

static void
unlock_table(const sigset_t *saved)
{
    __atomic_store_n(&table_lock, 0, __ATOMIC_RELEASE);
    gpy_patch_real_sigmask(SIG_SETMASK, saved, NULL);
}

GPY_EXPORT int
sigaction(int sig, const struct sigaction *act, struct sigaction *oldact)
{
    RESOLVE();
    if (!wrappable(sig)) {
        return R.sigaction(sig, act, oldact);
    }
    if (act && getpid() != table_pid) {
        /* A vfork child (which exec()s soon): leave the parent's table. */
        return R.sigaction(sig, act, oldact);
    }
    sigset_t saved;
    lock_table(&saved);
    int slot = cur[sig];
    handler prev = table[sig][slot];
    struct sigaction kold;
    int r;
    if (!act) {
        r = R.sigaction(sig, NULL, &kold);
    } else {
        void *fn = act->sa_flags & SA_SIGINFO ? (void *)act->sa_sigaction
                                              : (void *)act->sa_handler;
        handler *h = &table[sig][!slot];
        h->fn = fn;
        h->flags = act->sa_flags;
        h->mask = act->sa_mask;
        h->python = 0;
        if (fn == (void *)SIG_DFL || fn == (void *)SIG_IGN) {
            /* The kernel stops calling the wrapper first. */
            r = R.sigaction(sig, act, &kold);
            if (r == 0) {
                __atomic_store_n(&cur[sig], !slot, __ATOMIC_RELEASE);
            }
        } else {
            /* CPython's handler for Python-level handlers, as PyOS_setsig
             * installs it (faulthandler's, also in libpython, differs). */
            h->python = act->sa_flags == SA_ONSTACK && from_libpython(fn);
            __atomic_store_n(&cur[sig], !slot, __ATOMIC_RELEASE);
            struct sigaction k = *act;
            k.sa_sigaction = wrapper;
            k.sa_flags |= SA_SIGINFO;
            r = R.sigaction(sig, &k, &kold);
            if (r < 0) {
                __atomic_store_n(&cur[sig], slot, __ATOMIC_RELEASE);
            }
        }
    }
    int e = errno;
    unlock_table(&saved);
    if (r == 0 && oldact) {
        *oldact = kold;
        /* Report the program's handler, not ours. If the kernel holds
         * something else (SA_RESETHAND fired, a raw syscall), say that. */
        if (kold.sa_sigaction == wrapper) {
            oldact->sa_flags = prev.flags;
            oldact->sa_mask = prev.mask;
            if (prev.flags & SA_SIGINFO) {
                oldact->sa_sigaction =
                    (void (*)(int, siginfo_t *, void *))prev.fn;
            } else {
                oldact->sa_handler = (void (*)(int))prev.fn;
            }
        }
    }
    errno = e;
    return r;
}

GPY_EXPORT int
__sigaction(int sig, const struct sigaction *act, struct sigaction *oldact)
{
    return sigaction(sig, act, oldact);
}

/* install_simple is signal()'s family over our sigaction. */
static sighandler_t
install_simple(int sig, sighandler_t fn, int flags, int self_mask)
{
    if (fn == SIG_ERR || sig <= 0 || sig >= NSIG) {
        errno = EINVAL;
        return SIG_ERR;
    }
    struct sigaction act, old;
    memset(&act, 0, sizeof(act));
    act.sa_handler = fn;
    sigemptyset(&act.sa_mask);
    if (self_mask) {
        sigaddset(&act.sa_mask, sig);
    }
    act.sa_flags = flags;
    if (sigaction(sig, &act, &old) < 0) {
        return SIG_ERR;
    }
    return old.sa_handler;
}

/* signal has BSD semantics in glibc: restart unless siginterrupt said no,
 * the signal blocked while its handler runs. */
GPY_EXPORT sighandler_t
signal(int sig, sighandler_t fn)
{
    int intr = sig > 0 && sig < NSIG && sigismember(&sigintr, sig) == 1;
    return install_simple(sig, fn, intr ? 0 : SA_RESTART, 1);
}

GPY_EXPORT sighandler_t
bsd_signal(int sig, sighandler_t fn)
{
    return signal(sig, fn);
}

GPY_EXPORT sighandler_t
__sysv_signal(int sig, sighandler_t fn)
{
    return install_simple(sig, fn, SA_RESETHAND | SA_NODEFER, 0);
}

GPY_EXPORT sighandler_t
sysv_signal(int sig, sighandler_t fn)
{
    return __sysv_signal(sig, fn);
}

GPY_EXPORT int
siginterrupt(int sig, int flag)
{
    struct sigaction act;
    if (sigaction(sig, NULL, &act) < 0) {
        return -1;
    }
    if (flag) {
        sigaddset(&sigintr, sig);
        act.sa_flags &= ~SA_RESTART;
    } else {
        sigdelset(&sigintr, sig);
        act.sa_flags |= SA_RESTART;
    }
    return sigaction(sig, &act, NULL);
}

/* ---- waiting for signals ---- */

/* pause parks until a signal interrupts the goroutine: signals interrupt
 * the main goroutine, so pause() elsewhere waits forever (in python3 it
 * returns only if the signal is delivered to that thread). */
GPY_EXPORT int
pause(void)
{
    RESOLVE();
    if (!gpy_patch_may_park()) {
        return R.pause();
    }
    unsigned long before = __atomic_load_n(&caught, __ATOMIC_RELAXED);
    void *home = gpy_sched_m();
    for (;;) {
        gpy_waiter w;
        gpy_waiter_init(&w);
        w.reason = GPY_WAIT_SIGNAL;
        if (gpy_park_wait(&w, gpy_now_ns() + IDLE_NS) == -EINTR &&
            __atomic_load_n(&caught, __ATOMIC_RELAXED) != before) {
            gpy_sched_return_home(home);
            errno = EINTR;
            return -1;
        }
    }
}

/* wait_signal takes one of the (blocked) signals in set, parking on a
 * signalfd until one is pending. deadline < 0: none. Returns the signal,
 * or -1 with errno (EAGAIN at the deadline, EINTR, EINVAL). */
static int
wait_signal(const sigset_t *set, siginfo_t *info, int64_t deadline)
{
    static const struct timespec zero = {0, 0};
    for (;;) {
        int s = R.sigtimedwait(set, info, &zero);
        if (s > 0 || errno != EAGAIN) {
            return s;
        }
        int64_t now = gpy_now_ns();
        if (deadline >= 0 && now >= deadline) {
            errno = EAGAIN;
            return -1;
        }
        int64_t until = now + IDLE_NS;
        if (deadline >= 0 && deadline < until) {
            until = deadline;
        }
        int fd = signalfd(-1, set, SFD_NONBLOCK | SFD_CLOEXEC);
        if (fd < 0) {
            /* Cannot watch: block the thread as libc would. */
            struct timespec ts, *tp = NULL;
            if (deadline >= 0) {
                int64_t left = deadline - now;
                ts.tv_sec = left / 1000000000;
                ts.tv_nsec = left % 1000000000;
                tp = &ts;
            }
            return R.sigtimedwait(set, info, tp);
        }
        int r = gpy_fd_wait(fd, GPY_READ, until);
        close(fd);
        if (r == -EINTR) {
            errno = EINTR;
            return -1;
        }
    }
}

GPY_EXPORT int
sigtimedwait(const sigset_t *set, siginfo_t *info,
             const struct timespec *timeout)
{
    RESOLVE();
    if (!gpy_patch_may_park() ||
        (timeout && timeout->tv_sec == 0 && timeout->tv_nsec == 0)) {
        return R.sigtimedwait(set, info, timeout);
    }
    if (timeout && (timeout->tv_nsec < 0 || timeout->tv_nsec >= 1000000000)) {
        errno = EINVAL;
        return -1;
    }
    return GPY_HOMED(wait_signal(set, info, gpy_patch_deadline_rel(timeout)));
}

GPY_EXPORT int
sigwaitinfo(const sigset_t *set, siginfo_t *info)
{
    RESOLVE();
    if (!gpy_patch_may_park()) {
        return R.sigwaitinfo(set, info);
    }
    return GPY_HOMED(wait_signal(set, info, -1));
}

/* sigwait returns an error number and never fails with EINTR. */
GPY_EXPORT int
sigwait(const sigset_t *set, int *sig)
{
    RESOLVE();
    if (!gpy_patch_may_park()) {
        return R.sigwait(set, sig);
    }
    for (;;) {
        siginfo_t si;
        int s = wait_signal(set, &si, -1);
        if (s > 0) {
            *sig = s;
            return 0;
        }
        if (errno != EINTR) {
            return errno;
        }
    }
}

/* sigmask.c: a signal mask per goroutine. In python3 pthread_sigmask()
 * changes the calling thread's mask only; every goroutine shares the
 * scheduler thread, so a goroutine that blocks signals (multiprocessing's
 * resource sharer blocks them all) would block them for the main goroutine
 * and for every process forked afterwards. Here the main goroutine's mask
 * is the thread's base mask; another goroutine that sets its own gets it
 * applied while it runs, and the base mask back when it parks (the switch
 * hook compares before it makes a syscall, so goroutines that never touch
 * their mask cost nothing). A goroutine starts with the base mask; a
 * process forked by a goroutine inherits that goroutine's mask. */
#include "internal.h"

#include <stdlib.h>
#include <string.h>

typedef struct gmask {
    sigset_t mask;
} gmask;

static sigset_t base; /* the main goroutine's mask */
static int base_known;
static sigset_t applied; /* what the thread's mask is now */
/* Whose state this is: _posixsubprocess's vfork() child shares our memory
 * and sets its mask before exec; it must leave ours alone. */
static pid_t owner;
static pthread_once_t atfork_once = PTHREAD_ONCE_INIT;

int
gpy_patch_real_sigmask(int how, const sigset_t *set, sigset_t *old)
{
    return GPY_REAL(pthread_sigmask)(how, set, old);
}

static void
know_base(void)
{
    if (!base_known) {
        gpy_patch_real_sigmask(SIG_BLOCK, NULL, &base);
        applied = base;
        base_known = 1;
    }
}

static void
apply(const sigset_t *want)
{
    if (memcmp(want, &applied, sizeof(applied)) != 0) {
        gpy_patch_real_sigmask(SIG_SETMASK, want, NULL);
        applied = *want;
    }
}

static void
on_switch(gpy_g *to)
{
    gmask *m = to ? gpy_g_patch(to) : NULL;
    apply(m ? &m->mask : &base);
}

/* In the child only the forking goroutine is left, and it is the main
 * one now: its mask (applied, since it was running) is the base. */
static void
forked_child(void)
{
    owner = getpid();
    gpy_g *g = gpy_g_current();
    if (g && gpy_g_patch(g)) {
        base = ((gmask *)gpy_g_patch(g))->mask;
        free(gpy_g_patch(g));
        gpy_g_set_patch(g, NULL);
    }
}

static void
register_atfork(void)
{
    owner = getpid();
    pthread_atfork(NULL, NULL, forked_child);
}

static int
compute(sigset_t *mask, int how, const sigset_t *set)
{
    if (!set) {
        return 0;
    }
    switch (how) {
    case SIG_BLOCK:
        sigorset(mask, mask, set);
        break;
    case SIG_UNBLOCK: {
        for (int sig = 1; sig < NSIG; sig++) {
            if (sigismember(set, sig) == 1) {
                sigdelset(mask, sig);
            }
        }
        break;
    }
    case SIG_SETMASK:
        *mask = *set;
        break;
    default:
        return EINVAL;
    }
    /* What the kernel would refuse to block silently. */
    sigdelset(mask, SIGKILL);
    sigdelset(mask, SIGSTOP);
    return 0;
}

/* masked applies how/set to the calling goroutine's mask. Returns an error
 * number, or -1 if the call is not a goroutine's (pass it through). */
static int
masked(int how, const sigset_t *set, sigset_t *old)
{
    gpy_g *g = gpy_g_current();
    if (!g || !gpy_sched_active() || gpy_sched_in_loop() ||
        gpy_patch_in_signal_handler()) {
        return -1;
    }
    pthread_once(&atfork_once, register_atfork);
    if (getpid() != owner) {
        return -1;
    }
    know_base();
    sigset_t *mask;
    gmask *m = NULL;
    if (g == gpy_g_main()) {
        mask = &base;
    } else {
        m = gpy_g_patch(g);
        mask = m ? &m->mask : &base;
    }
    sigset_t next = *mask;
    int err = compute(&next, how, set);
    if (err) {
        return err;
    }
    if (old) {
        *old = *mask;
    }
    if (!set) {
        return 0;
    }
    if (g != gpy_g_main() && !m) {
        if (memcmp(&next, &base, sizeof(next)) == 0) {
            return 0;
        }
        m = malloc(sizeof(*m));
        if (!m) {
            return ENOMEM;
        }
        gpy_g_set_patch(g, m);
        mask = &m->mask;
        gpy_hooks h = {.switched = on_switch};
        gpy_sched_set_hooks(&h);
    }
    *mask = next;
    apply(mask);
    return 0;
}

/* passed changes the thread's mask for a caller masked() passed through;
 * on the scheduler thread (libev, a signal handler) it keeps `applied`
 * true. Returns what the real call returned (an error number). */
static int
passed(int how, const sigset_t *set, sigset_t *old)
{
    int r = gpy_patch_real_sigmask(how, set, old);
    if (r == 0 && set && base_known && gpy_g_current() && getpid() == owner) {
        compute(&applied, how, set);
    }
    return r;
}

GPY_EXPORT int
pthread_sigmask(int how, const sigset_t *set, sigset_t *old)
{
    int r = masked(how, set, old);
    return r >= 0 ? r : passed(how, set, old);
}

GPY_EXPORT int
sigprocmask(int how, const sigset_t *set, sigset_t *old)
{
    int r = masked(how, set, old);
    if (r < 0) {
        r = passed(how, set, old);
    }
    if (r > 0) {
        errno = r;
        return -1;
    }
    return 0;
}

/* internal.h: data structures shared by the runtime's own files (stack.c,
 * sched.c, chan.c, offload.c). Nothing outside runtime/ includes it. */
#ifndef GPY_INTERNAL_H
#define GPY_INTERNAL_H

#include "gpy.h"

#include <ev.h>
#include <poll.h>
#include <signal.h>
#include <pthread.h>
#include <sys/wait.h>
#include <time.h>
#include <stdio.h>
#include <stdlib.h>

#if defined(__SANITIZE_ADDRESS__)
#define GPY_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define GPY_ASAN 1
#endif
#endif

/* errno is per OS thread, and a goroutine parked in this code may resume
 * on another one (DESIGN.md, "Handoff"). glibc declares __errno_location
 * const, so GCC keeps its result in a register across calls -- across a
 * park, that is the first thread's errno. Ours is an ordinary function:
 * every use asks again. */
#include <errno.h>
int *gpy__errno_location(void);
#undef errno
#define errno (*gpy__errno_location())

/* gpy__assert checks an internal invariant; it stays on in release builds. */
#define gpy__assert(cond)                                                     \
    do {                                                                      \
        if (__builtin_expect(!(cond), 0)) {                                   \
            gpy__fatal("%s:%d: assertion failed: %s", __FILE__, __LINE__,     \
                       #cond);                                                \
        }                                                                     \
    } while (0)

void gpy__fatal(const char *fmt, ...)
    __attribute__((noreturn, format(printf, 1, 2)));

/* ---- stacks (stack.c) ---- */

typedef struct gpy_stack {
    char *base;    /* lowest usable address */
    size_t size;   /* usable bytes; the stack grows down from base+size */
    char *map;     /* start of the mapping (guard page included) */
    size_t maplen; /* length of the mapping */
    struct gpy_stack *next_free; /* free-list link while pooled */
    int dirty; /* used since its deep pages were last released */
} gpy_stack;

/* gpy__stack_get returns a stack from the pool or a new mapping, NULL with
 * errno set. gpy__stack_put gives it back. */
gpy_stack *gpy__stack_get(void);
void gpy__stack_put(gpy_stack *s);
/* gpy__stack_trim releases pooled stacks beyond a small reserve. */
void gpy__stack_trim(void);

/* ---- context switch (switch_<arch>.S) ---- */

void gpy__ctx_switch(void **save_sp, void *new_sp);
void gpy__ctx_start(void);

/* ---- goroutines and the scheduler (sched.c) ---- */

enum { GPY_G_NEW, GPY_G_RUNNING, GPY_G_RUNNABLE, GPY_G_PARKED, GPY_G_DEAD };

/* An M is an OS thread that can run goroutines (sched.c). */
typedef struct gpy_m gpy_m;

struct gpy_g {
    void *sp;         /* saved stack pointer while switched out */
    gpy_stack *stack; /* NULL for the main goroutine */
    void (*fn)(void *arg);
    void *arg;
    void *user;  /* the binding's per-goroutine data */
    void *patch; /* patches/' data, free()d at exit */
    uint64_t id;
    int state;
    gpy_g *next;  /* run queue link */
    gpy_g *rnext; /* remote queue link */
    int rqueued;  /* in the remote queue (runtime lock) */
    int rpending; /* wakeups queued from other threads (lock) */
    int rtaken;   /* wakeups taken by the current drain */
    int inflight; /* wakeups from other threads not yet consumed */
    gpy_g *all_prev, *all_next; /* list of every live goroutine */
    gpy_waiter *wait;           /* interruptible wait it is parked in */
    void *info;                 /* the binding's diagnostics */
    int64_t wait_since;         /* when it parked (coarse clock) */
    int64_t run_start;          /* its run since it last parked (when
                                   runs are tracked) */
    int parked;                 /* it parked since it last ran */
    int interrupted;            /* an interrupt arrived while not waiting */
    gpy_m *pin;                 /* it must run on this M next (returning a
                                   failed interposed call to its caller) */
    int is_g0;                  /* an M's own context, not a goroutine */
    int pin_parks;              /* its parks keep it on its OS thread */
#ifdef GPY_ASAN
    void *asan_fake;         /* ASan fake stack saved across a switch */
    const void *asan_bottom; /* stack extent announced to ASan */
    size_t asan_size;
#endif
};

/* gpy__rand32 returns a fast pseudo-random number (the scheduler
 * thread's: select's fairness). */
uint32_t gpy__rand32(void);

/* gpy__on_sched tells whether the caller holds P: it may run the
 * scheduler and park (the OS thread that runs goroutines right now). */
int gpy__on_sched(void);

/* gpy__p_ensure: a goroutine about to use the scheduler after releasing
 * the GIL makes sure its OS thread still holds P (waiting for it if the
 * monitor handed it over meanwhile). */
void gpy__p_ensure(void);

/* gpy__p_take: a runtime entry about to park the caller: whether it holds
 * P now (a goroutine of a detached M waits for it first); 0 for other
 * threads, which block instead. */
int gpy__p_take(void);

/* gpy__idle_ms: pooled OS threads waiting for P (they wake nobody). */
int gpy__idle_ms(void);

/* gpy__park switches away from the running goroutine until it is made
 * runnable again (gpy__complete, a timer, an fd); the caller holds P
 * (gpy_park_wait makes sure). Wakeups may be stray: callers park in a
 * loop on their own condition. */
void gpy__park(void);

/* A wait's done word goes 0 (armed) -> 1 (claimed by one waker) -> 2
 * (complete: results written). gpy__claim does 0 -> 1; gpy__complete
 * publishes 2 and makes g runnable, from any OS thread. Parkers loop until
 * done == 2, so stray wakeups are harmless. */
int gpy__claim(int *done);
void gpy__complete(gpy_g *g, int *done);

/* gpy__park_enter/exit bracket a channel wait with the binding's hooks
 * (the GIL is released while parked). */
void *gpy__park_enter(void);
void gpy__park_exit(void *token);

/* gpy__loop returns the scheduler's libev loop (made on first use);
 * gpy__watchers_add counts started timers and io watchers (a waiter they
 * can wake exists). Scheduler thread only. */
struct ev_loop *gpy__loop(void);
void gpy__watchers_add(long delta);

/* ---- waits (wait.c) ---- */

/* gpy__wait_after_fork forgets the fd waiters of a fork's parent. */
void gpy__wait_after_fork(void);

/* ---- deadlock detection (deadlock.c) ---- */

/* gpy__outside_wakers tells whether something the scheduler does not see
 * (another OS thread, an offloaded call, an armed alarm) may still wake a
 * goroutine; gpy__deadlock_after_fork forgets the parent's helper threads. */
int gpy__outside_wakers(void);
void gpy__deadlock_after_fork(void);

/* the runtime lock guards state touched from other OS threads: waiter
 * completion and the remote run queue. */
void gpy__lock(void);
void gpy__unlock(void);

/* ---- channels (chan.c) ---- */

/* gpy__chan_after_fork takes every blocked select of the goroutines and
 * threads that did not survive a fork out of the channels' wait queues. */
void gpy__chan_after_fork(void);

/* ---- the runtime's own system calls (sys.c) ---- */

/* Raw calls, as the libc functions of the same names (-1 with errno):
 * never the interposers of patches/. gpy__sys_sleep sleeps on
 * CLOCK_MONOTONIC. */
int gpy__sys_open(const char *path, int flags);
int gpy__sys_close(int fd);
ssize_t gpy__sys_write(int fd, const void *buf, size_t n);
int gpy__sys_poll(struct pollfd *fds, nfds_t n, int timeout_ms);
int gpy__sys_sleep(const struct timespec *req, struct timespec *rem);
int gpy__sys_waitid(idtype_t type, id_t id, siginfo_t *si, int options);
/* futex(FUTEX_WAIT_PRIVATE) while *addr == val; futex(FUTEX_WAKE_PRIVATE)
 * of up to n waiters (chan.c's lock). */
int gpy__sys_futex_wait(int *addr, int val);
int gpy__sys_futex_wake(int *addr, int n);
int gpy__sys_sigaction(int sig, const struct sigaction *act,
                       struct sigaction *old);

/* ---- offload pool (offload.c) ---- */

/* gpy__offload_pending: offloaded calls in flight; gpy__offload_threads:
 * the pool's threads (idle ones cannot wake anyone). */
int gpy__offload_pending(void);
int gpy__offload_threads(void);
void gpy__offload_after_fork(void);

#endif

/* gpy.h: the public interface of the gpython runtime — goroutines on one OS
 * thread scheduled on libev, channels and select, timers, fd waits and the
 * offload pool. Plain C, no Python: launcher/, patches/ and binding/ use it.
 */
#ifndef GPY_H
#define GPY_H

#include <stddef.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct gpy_g gpy_g;
typedef struct gpy_chan gpy_chan;

/* ---- scheduler ------------------------------------------------------- */

/* gpy_sched_init makes the calling OS thread the scheduler thread and its
 * current flow of control the main goroutine (id 1). Call once, before any
 * other gpy_ function. Returns 0 or -errno. */
int gpy_sched_init(void);

/* gpy_sched_in_loop tells whether the caller runs inside the scheduler's
 * ev_run (libev's own epoll_wait and eventfd calls): it must not park. */
int gpy_sched_in_loop(void);

/* gpy_sched_active tells whether the caller may park: it runs on the
 * scheduler thread, the runtime is initialised and not shut down. Every
 * blocking entry point checks it and passes straight through to the OS
 * (blocks the thread) when it is false. */
int gpy_sched_active(void);

/* gpy_sched_thread returns the OS thread the goroutines run on (valid once
 * gpy_sched_init returned; the forking thread in a forked child). */
pthread_t gpy_sched_thread(void);

/* gpy_sched_shutdown stops switching goroutines: from now on only the
 * caller runs and parking operations block the OS thread (used when the
 * interpreter starts finalizing). Idempotent. */
void gpy_sched_shutdown(void);

/* gpy_sched_after_fork re-initialises the runtime in a forked child: only
 * the calling goroutine survives, libev is re-armed, the offload pool is
 * restarted lazily. */
void gpy_sched_after_fork(void);

/* gpy_hooks: everything the runtime calls out to, in one table. The
 * binding and patches/ each fill in theirs with gpy_sched_set_hooks, which
 * takes the non-NULL members and leaves the others. All are called on the
 * scheduler thread unless said otherwise.
 *
 * From the binding:
 * - switch_in(user): just before a goroutine resumes (its user pointer).
 * - deadlock(): no goroutine can ever run again; reports, must not return.
 * - park_enter()/park_exit(token): bracket the moment a channel operation
 *   blocks (the binding releases the GIL; park_exit gets what park_enter
 *   returned).
 * - run_ended(id, ns): a run gpy_sched_mark_reported marked has ended
 *   (the goroutine parked or returned) after ns; no GIL.
 * - stack_overflow(g): in the SIGSEGV handler (async-signal context, on an
 *   alternate stack) when g ran into its stack's guard page; reports, must
 *   not return.
 * - gil_released(): whether the caller released Python's GIL around the
 *   call it is in, i.e. may park (any thread; without the hook: yes).
 * From patches/:
 * - switched(to): as goroutine `to` is about to run, and with NULL before
 *   the scheduler blocks waiting for events (per-goroutine signal masks).
 * - signal_arrived(): whenever the scheduler takes note of
 *   gpy_sched_signal_arrived, GIL released, not in signal context, just
 *   before it interrupts the main goroutine (Python-level handlers held
 *   back while another goroutine ran are delivered there). */
typedef struct gpy_hooks {
    void (*switch_in)(void *user);
    void (*deadlock)(void);
    void *(*park_enter)(void);
    void (*park_exit)(void *token);
    void (*stack_overflow)(gpy_g *g);
    int (*gil_released)(void);
    void (*switched)(gpy_g *to);
    void (*signal_arrived)(void);
    void (*run_ended)(uint64_t id, int64_t ran_ns);
} gpy_hooks;
void gpy_sched_set_hooks(const gpy_hooks *hooks);

/* gpy_sched_hooks returns the hooks table (members never set are NULL).
 * Async-signal-safe. */
const gpy_hooks *gpy_sched_hooks(void);

/* ---- goroutines ------------------------------------------------------ */

/* gpy_go creates a goroutine that runs fn(arg) on its own stack and makes
 * it runnable; it starts once the caller parks or yields. user is an opaque
 * pointer kept with the goroutine (gpy_g_user). Returns the goroutine or
 * NULL with errno set (ENOMEM). When fn returns the goroutine is freed. */
gpy_g *gpy_go(void (*fn)(void *arg), void *arg, void *user);

/* gpy_g_current returns the running goroutine, NULL off the scheduler
 * thread. */
gpy_g *gpy_g_current(void);
uint64_t gpy_g_id(const gpy_g *g);
void *gpy_g_user(const gpy_g *g);
void gpy_g_set_user(gpy_g *g, void *user);
/* A second slot, for patches/: malloc()ed data the runtime free()s when
 * the goroutine ends. */
void *gpy_g_patch(const gpy_g *g);
void gpy_g_set_patch(gpy_g *g, void *data);

/* gpy_stack_left returns how many bytes of C stack the running goroutine
 * has left below the caller's frame, or -1 when the caller does not run on
 * a goroutine stack of the runtime (the main goroutine, another OS thread,
 * a signal's alternate stack). Async-signal-safe. */
long gpy_stack_left(void);

/* gpy_stack_guard_install makes a goroutine that runs into its stack's
 * guard page end in the stack_overflow hook (SIGSEGV/SIGBUS on an
 * alternate signal stack of the calling, scheduler, thread); other faults
 * go to the disposition installed before. Call once. */
void gpy_stack_guard_install(void);

/* gpy_stack_size returns the usable size of every goroutine's C stack
 * (8 MiB, or GPYTHON_STACK_SIZE). */
size_t gpy_stack_size(void);

/* gpy_g_count returns how many goroutines exist (main included). */
size_t gpy_g_count(void);

/* gpy_g_foreach calls fn for every live goroutine (for tracebacks in the
 * deadlock report). */
void gpy_g_foreach(void (*fn)(gpy_g *g, void *arg), void *arg);

/* gpy_yield puts the running goroutine at the back of the run queue and
 * runs others (and polls I/O). Returns at once off the scheduler. */
void gpy_yield(void);

/* gpy_sleep_ns parks the running goroutine for ns nanoseconds (ns <= 0
 * yields). Returns 0, or -EINTR when interrupted (gpy_g_interrupt). */
int gpy_sleep_ns(int64_t ns);

/* gpy_now_ns returns CLOCK_MONOTONIC in nanoseconds. */
int64_t gpy_now_ns(void);

/* gpy_fd_wait parks the running goroutine until fd is ready for events
 * (GPY_READ|GPY_WRITE) or the deadline (CLOCK_MONOTONIC ns, < 0 = none)
 * passes. Returns the ready events (> 0), -ETIMEDOUT, -EINTR
 * (interrupted) or -EBADF (fd closed under the waiter, gpy_fd_closing). */
#define GPY_READ 1
#define GPY_WRITE 2
int gpy_fd_wait(int fd, int events, int64_t deadline_ns);

/* gpy_fd_closing wakes every goroutine waiting on fd with -EBADF; call it
 * before closing fd. */
void gpy_fd_closing(int fd);

/* gpy_child_wait parks until child pid changes state (SIGCHLD through
 * libev) or the deadline passes. Returns 0, -ETIMEDOUT or -EINTR. The
 * caller then reaps with waitpid(WNOHANG). */
int gpy_child_wait(int pid, int64_t deadline_ns);

/* gpy_g_interrupt wakes g with -EINTR if it is parked in an interruptible
 * wait (sleep, fd wait, child wait, gpy_park_wait). Returns 1 if it was. */
int gpy_g_interrupt(gpy_g *g);

/* gpy_sched_signal_arrived tells the scheduler a signal was delivered; it
 * interrupts the main goroutine's wait so Python's handlers run there.
 * Async-signal-safe: call it from the signal handler. */
void gpy_sched_signal_arrived(void);

/* gpy_sched_switches counts context switches; gpy_sched_others_waiting
 * tells whether other goroutines are runnable or waiting on timers/fds.
 * Both may be read from any thread (racily: for the preemption monitor). */
unsigned long gpy_sched_switches(void);
int gpy_sched_others_waiting(void);

/* gpy_sched_running_user returns the user pointer of the goroutine the
 * scheduler thread runs (racy; the caller must know it is stable, e.g. by
 * holding the lock the binding parks without: the GIL). */
void *gpy_sched_running_user(void);

/* ---- handoff: OS threads for goroutines stuck in calls --------------- */

/* One OS thread at a time (the M holding P) runs goroutines. When the
 * running goroutine releases the GIL for a call that does not park (a long
 * hash, fsync, open of a FIFO) and stays in it, the monitor hands P to
 * another OS thread so the others keep running; when the call returns, its
 * goroutine waits for P again before it retakes the GIL. */

/* gpy_sched_syscall_enter: the running goroutine has released the GIL (the
 * binding's PyEval_SaveThread). gpy_sched_syscall_exit: it is about to
 * retake it; returns once its OS thread holds P again. Any thread. */
void gpy_sched_syscall_enter(void);
void gpy_sched_syscall_exit(void);

/* gpy_sched_handoff: the monitor's tick. If the M holding P has stayed in
 * one call for min_ns while others could run, P goes to a goroutine whose
 * call returned, an idle M, or a new one (at most the cap). Returns 1 when
 * P moved. Not thread-safe: the monitor alone calls it. */
int gpy_sched_handoff(int64_t min_ns);

/* The cap on OS threads that run goroutines (stuck ones included), and how
 * many have been started so far (1 until a handoff). */
#define GPY_MAX_THREADS_DEFAULT 256
void gpy_sched_set_max_threads(int n);
int gpy_sched_threads(void);

/* gpy_sched_m names the calling OS thread's M (NULL off the runtime's
 * threads). gpy_sched_return_home(m): the running goroutine goes on on M
 * m, waiting for it if it is busy; errno is kept. A goroutine parked in an
 * interposed call may resume on another OS thread; a caller that cached
 * &errno must see a failure's errno in its own thread's slot, so a failing
 * call returns home first (patches/). */
void *gpy_sched_m(void);

/* gpy_sched_rejoin: a goroutine of a detached M (its OS thread lost P in a
 * call) waits for P again, to park instead of blocking its thread.
 * Returns whether the caller holds P now (0: not a goroutine's thread, or
 * the runtime is shutting down). */
int gpy_sched_rejoin(void);
/* gpy_sched_holder: whether the caller's OS thread holds P, without
 * taking it out of the monitor's reach as gpy_sched_active does (an
 * interposer that may not park asks this first: a call that completes at
 * once leaves its goroutine's GIL-released region watched). */
int gpy_sched_holder(void);
/* gpy_sched_detached: the caller is such a goroutine (cheap). */
int gpy_sched_detached(void);

/* gpy_sched_pin_parks(1): the running goroutine's next parks keep it on
 * its OS thread (the code it parks in may hold thread-owned locks);
 * gpy_sched_pin_parks(0): they may move it. */
void gpy_sched_pin_parks(int on);
void gpy_sched_return_home(void *m);

/* gpy_sched_own_thread(+1/-1) declares a runtime helper thread (the
 * preemption monitor) that never wakes goroutines by itself, so deadlock
 * detection does not wait for it. */
void gpy_sched_own_thread(int delta);

/* gpy_sched_signal_waiters(+1/-1): signals are being relayed to channels
 * (golang.os.signal.Notify), so a signal from another process may still
 * wake a goroutine: while any is, waiting is no deadlock (as in Go). */
void gpy_sched_signal_waiters(int delta);

/* gpy_g_main returns the main goroutine. */
gpy_g *gpy_g_main(void);

/* ---- diagnostics (goroutine dumps) ----------------------------------- */

/* Why a parked goroutine waits, in Go's words (gpy_wait_reason_name). */
enum {
    GPY_WAIT_OTHER,
    GPY_WAIT_CHAN_SEND,
    GPY_WAIT_CHAN_RECV,
    GPY_WAIT_CHAN_SEND_NIL,
    GPY_WAIT_CHAN_RECV_NIL,
    GPY_WAIT_SELECT,
    GPY_WAIT_SELECT_NOCASES,
    GPY_WAIT_SLEEP,
    GPY_WAIT_IO,
    GPY_WAIT_LOCK,
    GPY_WAIT_SYSCALL,
    GPY_WAIT_SIGNAL,
    GPY_WAIT_COUNT
};
const char *gpy_wait_reason_name(int reason);

/* What a goroutine is doing, for dumps: GPY_STATE_RUNNING (the one the
 * scheduler thread runs), RUNNABLE, or WAITING with the waiter's reason,
 * fd and since when (CLOCK_MONOTONIC ns, coarse). Racy reads: callers
 * stop the scheduler first (hold the GIL, or run in a signal handler on
 * the scheduler thread). Async-signal-safe. */
enum { GPY_STATE_RUNNING, GPY_STATE_RUNNABLE, GPY_STATE_WAITING };
typedef struct gpy_g_status {
    int state;
    int reason;
    int fd;
    int64_t since_ns;
} gpy_g_status;
void gpy_g_get_status(const gpy_g *g, gpy_g_status *st);

/* gpy_sched_running_g returns the goroutine the scheduler thread runs
 * now, NULL when it is idle (racy, as gpy_g_get_status). */
gpy_g *gpy_sched_running_g(void);

/* gpy_sys_sigaction is libc's sigaction, past any interposer. */
int gpy_sys_sigaction(int sig, const struct sigaction *act,
                      struct sigaction *old);

/* A third slot for the binding's diagnostics (who started the goroutine
 * and with what); not freed by the runtime. */
void *gpy_g_info(const gpy_g *g);
void gpy_g_set_info(gpy_g *g, void *info);

/* Runs: how long the running goroutine has run without parking (yields
 * and preemption do not end a run). gpy_sched_track_runs(1) starts the
 * accounting (off: no cost); gpy_sched_current_run tells, from any thread
 * (racily), which goroutine runs and since when (coarse clock): 1, or 0
 * when the scheduler is idle; gpy_sched_mark_reported asks for the
 * run_ended hook when that run ends. */
void gpy_sched_track_runs(int on);
int gpy_sched_current_run(uint64_t *id, int64_t *start_ns, void **user);
void gpy_sched_mark_reported(uint64_t id, int64_t start_ns);

/* gpy_now_coarse_ns returns CLOCK_MONOTONIC_COARSE in nanoseconds. */
int64_t gpy_now_coarse_ns(void);

/* ---- low-level parking (for patches: semaphores, offload) ------------- */

/* A gpy_waiter lives on the parked goroutine's stack (dedicated stacks do
 * not move). gpy_park_wait parks until gpy_waiter_wake, the deadline or an
 * interrupt. Returns the value passed to gpy_waiter_wake, -ETIMEDOUT or
 * -EINTR. gpy_waiter_wake may be called from any OS thread; it returns 1
 * if it woke the waiter, 0 if the waiter was already woken. */
typedef struct gpy_waiter {
    gpy_g *g;   /* the parked goroutine */
    int done;   /* 0 armed, 1 being woken, 2 woken */
    int result; /* what gpy_park_wait returns */
    int intr;   /* gpy_g_interrupt may wake it (default 1) */
    int reason; /* GPY_WAIT_*: what the goroutine waits for (diagnostics) */
    int fd;     /* GPY_WAIT_IO: the fd */
} gpy_waiter;
void gpy_waiter_init(gpy_waiter *w);
int gpy_park_wait(gpy_waiter *w, int64_t deadline_ns);
int gpy_waiter_wake(gpy_waiter *w, int result);

/* gpy_offload runs fn(arg) on a pool thread and parks the calling goroutine
 * until it finishes (off the scheduler it calls fn directly). Returns 0 or
 * -errno. Not interruptible: fn always completes. */
int gpy_offload(void (*fn)(void *arg), void *arg);

/* gpy_thread_start starts fn(arg) on a detached OS thread of the
 * runtime's own (offload workers, the preemption monitor) with every
 * signal blocked. stack: its size, 0 for the default. Returns 0 or an
 * errno value. */
int gpy_thread_start(void *(*fn)(void *arg), void *arg, size_t stack);

/* ---- channels -------------------------------------------------------- */

/* Channel operations may be called from any OS thread at the same time
 * (one lock inside guards them; it is never held while parked). Elements
 * are copied by value, elemsize bytes each. */

/* gpy_chan_new makes a channel with a buffer of cap elements (0 =
 * unbuffered). Returns NULL with errno set. The creator holds one
 * reference. */
gpy_chan *gpy_chan_new(size_t cap, size_t elemsize);
/* gpy_chan_incref/decref take and drop a reference (NULL is ignored);
 * the last decref frees the channel (nobody may be blocked on it). */
void gpy_chan_incref(gpy_chan *ch);
void gpy_chan_decref(gpy_chan *ch);

/* gpy_chan_send sends *elem. Blocks (parks) until a receiver takes it or
 * it is buffered. Returns 0, or -EPIPE if the channel is or gets closed
 * ("send on closed channel"). A NULL channel blocks forever. */
int gpy_chan_send(gpy_chan *ch, const void *elem);

/* gpy_chan_recv receives into *elem (which may be NULL to drop it). Blocks
 * until a value is available. Returns 1 with a value, 0 if the channel is
 * closed and drained (*elem zeroed). A NULL channel blocks forever. */
int gpy_chan_recv(gpy_chan *ch, void *elem);

/* gpy_chan_close closes ch: blocked receivers get (zero, 0), blocked
 * senders get -EPIPE. Returns 0, -EPIPE if already closed ("close of
 * closed channel") or -EINVAL for NULL ("close of nil channel"). */
int gpy_chan_close(gpy_chan *ch);

size_t gpy_chan_len(const gpy_chan *ch);
size_t gpy_chan_cap(const gpy_chan *ch);
size_t gpy_chan_elemsize(const gpy_chan *ch);

/* gpy_chan_waits calls fn for every goroutine blocked in a channel
 * operation or select, with the (non-nil) channels it waits on; fn must
 * not use channels (the channel lock is held). Returns the count. For
 * leak reports. gpy_chan_refs: a channel's reference count. */
int gpy_chan_waits(void (*fn)(gpy_g *g, gpy_chan *const *chs, int n,
                              void *arg),
                   void *arg);
long gpy_chan_refs(const gpy_chan *ch);

/* gpy_chan_queued: how many receivers and senders wait in ch's queues
 * (a select waiting on ch counts once per case on it); 0, 0 for nil. */
void gpy_chan_queued(gpy_chan *ch, size_t *nrecv, size_t *nsend);

/* gpy_chan_count returns how many channels exist (for leak checks);
 * gpy_chan_debug whether gpy_chan_check knows freed channels. */
long gpy_chan_count(void);
int gpy_chan_debug(void);

/* gpy_chan_check: in a debug build (GPY_DEBUG) -EBADF for
 * a channel whose last reference was dropped (freed records are kept,
 * marked), -EINVAL for a pointer that was never a channel; else 0. */
int gpy_chan_check(const gpy_chan *ch);

/* gpy_chan_buffered returns the i-th buffered element (0 = next to be
 * received), NULL if i >= gpy_chan_len(ch). For garbage collectors. */
void *gpy_chan_buffered(const gpy_chan *ch, size_t i);

/* select */
enum { GPY_CASE_SEND = 1, GPY_CASE_RECV = 2 };
typedef struct gpy_case {
    gpy_chan *ch; /* NULL: a nil channel, never ready */
    int op;       /* GPY_CASE_SEND or GPY_CASE_RECV */
    void *data;   /* element to send / buffer to receive into */
    int ok;       /* recv: 1 got a value, 0 closed (set on return) */
} gpy_case;

/* gpy_select waits until one of the n cases can proceed and performs it,
 * choosing uniformly at random among those ready. With GPY_SELECT_NONBLOCK
 * it returns -EAGAIN instead of waiting (Go's default). With
 * GPY_SELECT_INTR a wait interrupted by a signal (gpy_g_interrupt) returns
 * -EINTR having done nothing; without it the wait resumes. Returns the
 * chosen index, or -EPIPE with *closed_idx set when the chosen case is a
 * send on a closed channel. n == 0 without NONBLOCK blocks forever. */
#define GPY_SELECT_NONBLOCK 1
#define GPY_SELECT_INTR 2
int gpy_select(gpy_case *cases, int n, int flags, int *closed_idx);

#ifdef __cplusplus
}
#endif
#endif

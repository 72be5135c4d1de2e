/* sched.c: goroutines and the scheduler — a run queue on one OS thread
 * polling libev when idle, switching, parking and waking (from any OS
 * thread), the hooks table, fork. Waits are in wait.c, deadlock facts from
 * outside the scheduler in deadlock.c. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifdef GPY_ASAN
#include <sanitizer/asan_interface.h>
#endif

/* How many dispatches may pass before I/O and timers are polled even though
 * goroutines are ready: an always-ready goroutine must not starve them. */
#define POLL_EVERY 61

static struct {
    struct ev_loop *loop;
    int inited;
    int shutdown; /* finalizing: only `owner` runs from now on */
    gpy_g *owner;
    gpy_g main_g;
    gpy_g *mainp; /* the main goroutine: main_g, or after a fork
                     from another goroutine, that goroutine */
    gpy_g *cur;
    gpy_g *prev; /* the goroutine that switched to cur */
    gpy_g *runq_head, *runq_tail;
    gpy_g *zombie; /* exited goroutine whose stack is freed by the next one */
    gpy_g *all;    /* every live goroutine but main, oldest first */
    gpy_g *all_tail; /* ... and the newest (dumps list them in order) */
    size_t count;
    uint64_t next_id;
    unsigned tick;
    unsigned long nswitch; /* context switches so far (read by sysmon) */
    long nwatchers;        /* started timers and io watchers: a sleeper
                              or fd waiter can still wake up */
    gpy_hooks hooks;

    pthread_mutex_t mu; /* guards what follows and waiter completion */
    gpy_g *remote_head, *remote_tail; /* readied from other OS threads */
    ev_async async;                   /* wakes the loop for remote readies */
    volatile sig_atomic_t signal_arrived;

    uint64_t rng;
    pthread_t thread; /* the OS thread that holds P */

    /* P, the right to run goroutines and to touch what S holds, belongs
     * to one M at a time: pstate is that M, with bit 0 set while its
     * goroutine is in a call that released the GIL (a "system call" in
     * Go's words), and 0 while the monitor hands P over. sysseq counts
     * the calls, so the monitor can tell one long call from many. */
    uintptr_t pstate;
    unsigned long sysseq;
    int nms;   /* Ms started besides the first */
    int maxms; /* ... at most (gpy_sched_set_max_threads) */
    /* Under mu: */
    gpy_m *idle_head; /* Ms waiting for P */
    int nidle;
    gpy_m *rj_head, *rj_tail; /* detached Ms whose call returned */
    int ndetached;            /* Ms that lost P in a call */
} S;

/* An M is an OS thread that can run goroutines. The first is the thread
 * that initialised the runtime; the monitor starts more (up to maxms) when
 * the one holding P is stuck in a call. */
struct gpy_m {
    gpy_g g0;         /* the M's own context, used only to give P away */
    gpy_g *cur;       /* the goroutine this M runs (also while detached) */
    int grant;        /* futex word: P was handed to this M */
    gpy_g *first;     /* what to run first once granted */
    gpy_m *give_to;   /* set before switching to g0: who gets P */
    gpy_m *idle_next; /* idle list link */
    gpy_m *rj_next;   /* rejoin list link */
    gpy_g *pin_head, *pin_tail; /* goroutines waiting to run on this M */
    int idle;                   /* in the idle list */
    int detached;               /* lost P while its goroutine was in a call */
    int rejoining;              /* waiting for P in gpy_sched_syscall_exit */
};

static gpy_m m0;
static __thread gpy_m *t_m;

#define P_SYSCALL ((uintptr_t)1)

/* holds_p tells whether the calling thread holds P. A thread whose
 * goroutine released the GIL takes its P back out of the monitor's reach
 * here (it uses the scheduler now, it is not stuck in a call). */
static inline int
holds_p(void)
{
    gpy_m *m = t_m;
    if (!m) {
        return 0;
    }
    uintptr_t s = __atomic_load_n(&S.pstate, __ATOMIC_ACQUIRE);
    if (s == (uintptr_t)m) {
        return 1;
    }
    if (s != ((uintptr_t)m | P_SYSCALL)) {
        return 0;
    }
    return __atomic_compare_exchange_n(&S.pstate, &s, (uintptr_t)m, 0,
                                       __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE);
}

static void g_trampoline(void *arg);
static void schedule(gpy_g *self);
static void ctx_init(gpy_g *g);
static int setup(gpy_g *g);

void
gpy__fatal(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("gpython: fatal: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    abort();
}

int
gpy__on_sched(void)
{
    return holds_p();
}

int
gpy__idle_ms(void)
{
    return __atomic_load_n(&S.nidle, __ATOMIC_RELAXED);
}

pthread_t
gpy_sched_thread(void)
{
    return S.thread;
}

void
gpy__lock(void)
{
    pthread_mutex_lock(&S.mu);
}

void
gpy__unlock(void)
{
    pthread_mutex_unlock(&S.mu);
}

uint32_t
gpy__rand32(void)
{
    /* xorshift64*: cheap and good enough for select fairness. */
    uint64_t x = S.rng;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    S.rng = x;
    return (uint32_t)((x * 0x2545F4914F6CDD1Dull) >> 32);
}

int64_t
gpy_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void
async_cb(struct ev_loop *loop, ev_async *w, int revents)
{
    (void)loop;
    (void)w;
    (void)revents;
}

/* new_loop makes the scheduler's libev loop and its async watcher. With
 * stdin, stdout or stderr closed, the loop's epoll fd and eventfd would
 * take those numbers and a later print() would write into the eventfd:
 * hold the free ones with /dev/null meanwhile. */
static struct ev_loop *
new_loop(void)
{
    int held[3], nheld = 0;
    for (int fd = 0; fd < 3; fd++) {
        if (fcntl(fd, F_GETFD) < 0 && errno == EBADF) {
            int h = gpy__sys_open("/dev/null", O_RDWR | O_CLOEXEC);
            if (h >= 0) {
                held[nheld++] = h;
            }
        }
    }
    /* Not ev_default_loop: the default loop installs a SIGCHLD handler
     * that reaps every child with waitpid(-1), stealing exit statuses from
     * subprocess/os.waitpid (and hiding SIG_DFL from signal.getsignal).
     * Child waits use pidfds instead. */
    struct ev_loop *loop = ev_loop_new(EVFLAG_AUTO | EVFLAG_NOSIGMASK);
    if (loop) {
        ev_async_init(&S.async, async_cb);
        ev_async_start(loop, &S.async);
        /* The async watcher alone must not keep the loop "alive":
         * deadlock detection counts the watchers that can wake a
         * goroutine. */
        ev_unref(loop);
    }
    while (nheld > 0) {
        gpy__sys_close(held[--nheld]);
    }
    return loop;
}

int
gpy_sched_init(void)
{
    if (S.inited) {
        return 0;
    }
    pthread_mutex_init(&S.mu, NULL);
    S.main_g.id = 1;
    S.main_g.state = GPY_G_RUNNING;
    S.mainp = &S.main_g;
    S.cur = &S.main_g;
    S.count = 1;
    S.next_id = 2;
    S.rng = (uint64_t)gpy_now_ns() * 0x9E3779B97F4A7C15ull | 1;
    m0.cur = &S.main_g;
    m0.g0.is_g0 = 1;
    m0.g0.state = GPY_G_PARKED;
    t_m = &m0;
    S.pstate = (uintptr_t)&m0;
    if (!S.maxms) {
        S.maxms = GPY_MAX_THREADS_DEFAULT;
    }
    S.thread = pthread_self();
    S.inited = 1;
    return 0;
}

/* loop_get returns the libev loop, creating it on first use: a program
 * whose goroutines never wait on time or fds never opens its epoll fd and
 * eventfd (a child process listing its fds sees none of ours). */
static struct ev_loop *
loop_get(void)
{
    if (!S.loop) {
        struct ev_loop *l = new_loop();
        if (!l) {
            gpy__fatal("cannot create the event loop");
        }
        __atomic_store_n(&S.loop, l, __ATOMIC_SEQ_CST);
    }
    return S.loop;
}

int
gpy_sched_in_loop(void)
{
    return S.loop && ev_depth(S.loop) != 0;
}

/* wake_loop wakes the scheduler out of ev_run from any thread or a signal
 * handler. Without a loop yet there is nothing to wake: the scheduler
 * drains the remote queue again after creating it, before it blocks. */
static void
wake_loop(void)
{
    struct ev_loop *l = __atomic_load_n(&S.loop, __ATOMIC_SEQ_CST);
    if (l) {
        ev_async_send(l, &S.async);
    }
}

int
gpy_sched_active(void)
{
    return S.inited && !S.shutdown && holds_p();
}

void
gpy_sched_shutdown(void)
{
    if (!S.inited || S.shutdown) {
        return;
    }
    S.shutdown = 1;
    S.owner = S.cur;
    /* Nobody else runs again; forget the queued ones. */
    gpy_g *g = S.runq_head;
    S.runq_head = S.runq_tail = NULL;
    for (; g; g = g->next) {
        if (g == S.owner) {
            S.runq_head = S.runq_tail = g;
        }
    }
    if (S.runq_head) {
        S.runq_head->next = NULL;
    }
}

void
gpy_sched_set_hooks(const gpy_hooks *h)
{
    /* Each layer fills in its own hooks; the others stay as they are. */
#define TAKE(f)                                                               \
    if (h->f) {                                                               \
        S.hooks.f = h->f;                                                     \
    }
    TAKE(switch_in)
    TAKE(deadlock)
    TAKE(park_enter)
    TAKE(park_exit)
    TAKE(stack_overflow)
    TAKE(gil_released)
    TAKE(switched)
    TAKE(signal_arrived)
    TAKE(run_ended)
#undef TAKE
}

const gpy_hooks *
gpy_sched_hooks(void)
{
    return &S.hooks;
}

struct ev_loop *
gpy__loop(void)
{
    return loop_get();
}

void
gpy__watchers_add(long delta)
{
    __atomic_store_n(&S.nwatchers, S.nwatchers + delta, __ATOMIC_RELAXED);
}

void *
gpy__park_enter(void)
{
    return S.hooks.park_enter ? S.hooks.park_enter() : NULL;
}

void
gpy__park_exit(void *token)
{
    if (S.hooks.park_exit) {
        S.hooks.park_exit(token);
    }
}

gpy_g *
gpy_g_current(void)
{
    gpy_m *m = t_m;
    return m ? m->cur : NULL;
}

gpy_g *
gpy_g_main(void)
{
    return S.mainp;
}

uint64_t
gpy_g_id(const gpy_g *g)
{
    return g->id;
}

void *
gpy_g_user(const gpy_g *g)
{
    return g->user;
}

void
gpy_g_set_user(gpy_g *g, void *user)
{
    g->user = user;
}

void *
gpy_g_patch(const gpy_g *g)
{
    return g->patch;
}

void
gpy_g_set_patch(gpy_g *g, void *data)
{
    g->patch = data;
}

void
gpy_g_get_status(const gpy_g *g, gpy_g_status *st)
{
    st->reason = GPY_WAIT_OTHER;
    st->fd = -1;
    st->since_ns = 0;
    if (g == S.cur && g->state == GPY_G_RUNNING) {
        st->state = GPY_STATE_RUNNING;
        return;
    }
    if (g->state != GPY_G_PARKED || !g->wait) {
        st->state = GPY_STATE_RUNNABLE;
        return;
    }
    st->state = GPY_STATE_WAITING;
    st->reason = g->wait->reason;
    st->fd = g->wait->fd;
    st->since_ns = g->wait_since;
}

gpy_g *
gpy_sched_running_g(void)
{
    gpy_g *g = __atomic_load_n(&S.cur, __ATOMIC_ACQUIRE);
    return g && __atomic_load_n(&g->state, __ATOMIC_RELAXED) == GPY_G_RUNNING
               ? g
               : NULL;
}

int
gpy_sys_sigaction(int sig, const struct sigaction *act, struct sigaction *old)
{
    return gpy__sys_sigaction(sig, act, old);
}

void *
gpy_g_info(const gpy_g *g)
{
    return g->info;
}

void
gpy_g_set_info(gpy_g *g, void *info)
{
    g->info = info;
}

size_t
gpy_g_count(void)
{
    return S.count;
}

void
gpy_g_foreach(void (*fn)(gpy_g *g, void *arg), void *arg)
{
    if (S.main_g.state != GPY_G_DEAD) {
        fn(&S.main_g, arg);
    }
    for (gpy_g *g = S.all; g; g = g->all_next) {
        fn(g, arg);
    }
}

/* ---- run queue ---- */

static void
runq_push(gpy_g *g)
{
    g->next = NULL;
    if (S.runq_tail) {
        S.runq_tail->next = g;
    } else {
        S.runq_head = g;
    }
    S.runq_tail = g;
}

static void
runq_push_front(gpy_g *g)
{
    g->next = S.runq_head;
    S.runq_head = g;
    if (!S.runq_tail) {
        S.runq_tail = g;
    }
}

static gpy_g *
runq_pop(void)
{
    gpy_g *g = S.runq_head;
    if (g) {
        S.runq_head = g->next;
        if (!S.runq_head) {
            S.runq_tail = NULL;
        }
        g->next = NULL;
    }
    return g;
}

static void
make_runnable(gpy_g *g)
{
    /* Only a parked goroutine can be readied: a waker racing with a
     * goroutine that has not parked yet finds it running and leaves it. */
    if (g->state != GPY_G_PARKED) {
        return;
    }
    if (S.shutdown && g != S.owner) {
        return;
    }
    g->state = GPY_G_RUNNABLE;
    runq_push(g);
}

/* remote_push queues a wakeup of g from another OS thread. A goroutine is
 * in the queue at most once (it may be woken again from another thread
 * before the scheduler drains the queue): later wakeups only add to its
 * count, which the drain takes off g->inflight. */
static void
remote_push(gpy_g *g)
{
    gpy__lock();
    g->rpending++;
    if (!g->rqueued) {
        g->rqueued = 1;
        g->rnext = NULL;
        if (S.remote_tail) {
            S.remote_tail->rnext = g;
        } else {
            S.remote_head = g;
        }
        S.remote_tail = g;
    }
    gpy__unlock();
    wake_loop();
}

static void
drain_remote(void)
{
    if (!__atomic_load_n(&S.remote_head, __ATOMIC_ACQUIRE)) {
        return;
    }
    gpy__lock();
    gpy_g *g = S.remote_head;
    S.remote_head = S.remote_tail = NULL;
    for (gpy_g *q = g; q; q = q->rnext) {
        q->rqueued = 0;
        q->rtaken = q->rpending;
        q->rpending = 0;
    }
    gpy__unlock();
    while (g) {
        gpy_g *next = g->rnext;
        if (g->state == GPY_G_NEW) {
            if (setup(g) < 0) {
                fprintf(stderr,
                        "gpython: cannot start goroutine %llu: "
                        "out of memory for its stack\n",
                        (unsigned long long)g->id);
                free(g);
            }
        } else {
            make_runnable(g);
            /* spawns (GPY_G_NEW) count no inflight: only wakeups do */
            __atomic_sub_fetch(&g->inflight, g->rtaken, __ATOMIC_ACQ_REL);
        }
        g = next;
    }
}

/* ---- switching ---- */

/* Run accounting (gpy_sched_track_runs): the running goroutine's run, and
 * the run the monitor reported (run_ended follows when it ends). */
static int track_runs;
static uint64_t run_id, reported_id;
static int64_t run_start, reported_start;

static void
run_begins(gpy_g *next)
{
    if (next->parked || !next->run_start) {
        next->run_start = gpy_now_coarse_ns();
    }
    next->parked = 0;
    __atomic_store_n(&run_id, 0, __ATOMIC_RELEASE);
    __atomic_store_n(&run_start, next->run_start, __ATOMIC_RELAXED);
    __atomic_store_n(&run_id, next->id, __ATOMIC_RELEASE);
}

/* run_ends: g parks or returns. */
static void
run_ends(gpy_g *g)
{
    g->parked = 1;
    if (track_runs &&
        g->id == __atomic_load_n(&reported_id, __ATOMIC_ACQUIRE) &&
        g->run_start == reported_start) {
        __atomic_store_n(&reported_id, 0, __ATOMIC_RELEASE);
        if (S.hooks.run_ended) {
            S.hooks.run_ended(g->id, gpy_now_coarse_ns() - g->run_start);
        }
    }
}

void
gpy_sched_track_runs(int on)
{
    track_runs = on;
}

int
gpy_sched_current_run(uint64_t *id, int64_t *start_ns, void **user)
{
    gpy_g *g = __atomic_load_n(&S.cur, __ATOMIC_ACQUIRE);
    if (!g || __atomic_load_n(&g->state, __ATOMIC_RELAXED) != GPY_G_RUNNING) {
        return 0;
    }
    *id = __atomic_load_n(&run_id, __ATOMIC_ACQUIRE);
    *start_ns = __atomic_load_n(&run_start, __ATOMIC_RELAXED);
    *user = __atomic_load_n(&g->user, __ATOMIC_RELAXED);
    return *id != 0;
}

void
gpy_sched_mark_reported(uint64_t id, int64_t start_ns)
{
    reported_start = start_ns;
    __atomic_store_n(&reported_id, id, __ATOMIC_RELEASE);
}

static void
switch_to(gpy_g *self, gpy_g *next)
{
    __atomic_store_n(&S.nswitch, S.nswitch + 1, __ATOMIC_RELAXED);
    if (next->is_g0) {
        /* The M gives P away from its own context (m_loop). */
        S.cur = NULL;
        t_m->cur = NULL;
        if (S.hooks.switched) {
            S.hooks.switched(NULL);
        }
    } else {
        if (track_runs) {
            run_begins(next);
        }
        S.cur = next;
        t_m->cur = next;
        next->state = GPY_G_RUNNING;
        if (S.hooks.switched) {
            S.hooks.switched(next);
        }
        if (S.hooks.switch_in) {
            S.hooks.switch_in(next->user);
        }
    }
#ifdef GPY_ASAN
    const void *bottom = next->stack ? next->stack->base : next->asan_bottom;
    size_t size = next->stack ? next->stack->size : next->asan_size;
    __sanitizer_start_switch_fiber(
        self->state == GPY_G_DEAD ? NULL : &self->asan_fake, bottom, size);
#endif
    S.prev = self;
    gpy__ctx_switch(&self->sp, next->sp);
#ifdef GPY_ASAN
    __sanitizer_finish_switch_fiber(self->asan_fake, &S.prev->asan_bottom,
                                    &S.prev->asan_size);
#endif
    /* Back on self's stack: free what the previous goroutine left behind. */
    if (S.zombie) {
        gpy_g *z = S.zombie;
        S.zombie = NULL;
        gpy__stack_put(z->stack);
        free(z);
    }
}

static int
deadlocked(void)
{
    if (S.runq_head || S.signal_arrived) {
        return 0;
    }
    /* A detached M's goroutine will come back (and may wake others). */
    if (__atomic_load_n(&S.ndetached, __ATOMIC_ACQUIRE) > 0) {
        return 0;
    }
    if (S.nwatchers > 0 || (S.loop && ev_pending_count(S.loop) > 0)) {
        return 0;
    }
    if (gpy__outside_wakers()) {
        return 0;
    }
    /* Only now look at the remote queue, under its lock: a thread that
     * woke us just before exiting has pushed its wakeup by then. */
    gpy__lock();
    int remote = S.remote_head != NULL;
    gpy__unlock();
    return !remote;
}

static void
handle_signal_arrival(void)
{
    if (!S.signal_arrived) {
        return;
    }
    S.signal_arrived = 0;
    if (S.hooks.signal_arrived) {
        S.hooks.signal_arrived();
    }
    /* Python runs signal handlers in the main goroutine: interrupt its
     * wait and let it run first so the handler (KeyboardInterrupt) runs
     * promptly there. */
    gpy_g *m = S.shutdown ? S.owner : S.mainp;
    if (m->state == GPY_G_PARKED && m->wait) {
        gpy_g_interrupt(m);
    }
    if (m->state == GPY_G_RUNNABLE && S.runq_head != m) {
        /* move it to the front */
        gpy_g *prev = NULL;
        for (gpy_g *g = S.runq_head; g; prev = g, g = g->next) {
            if (g == m) {
                prev->next = g->next;
                if (S.runq_tail == g) {
                    S.runq_tail = prev;
                }
                runq_push_front(g);
                break;
            }
        }
    } else if (m->state == GPY_G_PARKED && !m->wait) {
        m->interrupted = 1;
    }
}

unsigned long
gpy_sched_switches(void)
{
    return __atomic_load_n(&S.nswitch, __ATOMIC_RELAXED);
}

int
gpy_sched_others_waiting(void)
{
    /* Read racily from another thread: a heuristic, never trusted. */
    if (__atomic_load_n(&S.shutdown, __ATOMIC_RELAXED)) {
        return 0;
    }
    /* A signal that arrived while a goroutine computes must reach the
     * main goroutine (patches/signal.c holds Python's handlers back until
     * the scheduler runs): the hog has to yield even if nobody else waits. */
    return __atomic_load_n(&S.runq_head, __ATOMIC_RELAXED) != NULL ||
           __atomic_load_n(&S.nwatchers, __ATOMIC_RELAXED) > 0 ||
           __atomic_load_n(&S.rj_head, __ATOMIC_RELAXED) != NULL ||
           S.signal_arrived;
}

void *
gpy_sched_running_user(void)
{
    gpy_g *g = __atomic_load_n(&S.cur, __ATOMIC_ACQUIRE);
    return g ? __atomic_load_n(&g->user, __ATOMIC_RELAXED) : NULL;
}

void
gpy_sched_signal_arrived(void)
{
    S.signal_arrived = 1;
    if (S.inited) {
        wake_loop();
    }
}

/* ---- Ms and P: handoff ---- */

/* See DESIGN.md, "Handoff". In short: one M at a time holds P and runs
 * goroutines; when its goroutine stays in a call that released the GIL
 * (a long hash, fsync, a FIFO's open) the monitor takes P from it
 * (gpy_sched_handoff) and hands it to an idle M, which runs the others;
 * when the call returns, the detached M waits for P again before its
 * goroutine takes the GIL (gpy_sched_syscall_exit), so Python code runs
 * only on the M holding P. */

static void m_loop(void *arg);

static void
p_give(gpy_m *to)
{
    S.cur = NULL;
    __atomic_store_n(&S.pstate, (uintptr_t)to, __ATOMIC_RELEASE);
    __atomic_store_n(&to->grant, 1, __ATOMIC_RELEASE);
    gpy__sys_futex_wake(&to->grant, 1);
}

static void
wait_grant(gpy_m *m)
{
    while (!__atomic_load_n(&m->grant, __ATOMIC_ACQUIRE)) {
        gpy__sys_futex_wait(&m->grant, 0);
    }
    m->grant = 0;
}

/* p_acquired: m has just been handed P. */
static void
p_acquired(gpy_m *m)
{
    S.thread = pthread_self();
    if (m->detached) {
        m->detached = 0;
        __atomic_sub_fetch(&S.ndetached, 1, __ATOMIC_ACQ_REL);
    }
    /* Goroutines that waited for this M run first. */
    while (m->pin_head) {
        gpy_g *g = m->pin_head;
        m->pin_head = g->next;
        if (!m->pin_head) {
            m->pin_tail = NULL;
        }
        runq_push_front(g);
    }
}

static gpy_m *
rejoin_pop(void)
{
    gpy__lock();
    gpy_m *r = S.rj_head;
    if (r) {
        S.rj_head = r->rj_next;
        if (!S.rj_head) {
            S.rj_tail = NULL;
        }
    }
    gpy__unlock();
    return r;
}

static void
idle_push(gpy_m *m)
{
    gpy__lock();
    m->idle = 1;
    m->idle_next = S.idle_head;
    S.idle_head = m;
    S.nidle++;
    gpy__unlock();
}

/* idle_take takes an idle M (m itself if given and idle); NULL if none.
 * Under the lock. */
static gpy_m *
idle_take(gpy_m *want)
{
    gpy_m **pp = &S.idle_head;
    for (; *pp; pp = &(*pp)->idle_next) {
        if (!want || *pp == want) {
            gpy_m *m = *pp;
            *pp = m->idle_next;
            m->idle = 0;
            S.nidle--;
            return m;
        }
    }
    return NULL;
}

/* leave_p hands P to `to` from the running M: off any goroutine's stack
 * first (to may resume self at once), in the M's own context. Returns when
 * self runs again, on whichever M then holds P. */
static void
leave_p(gpy_g *self, gpy_m *to)
{
    gpy_m *m = t_m;
    m->give_to = to;
    if (self == &m->g0) {
        return; /* m_loop gives P once schedule returns */
    }
    if (!m->g0.sp) {
        /* The first M idles on a stack of its own (its thread's stack is
         * the main goroutine's). */
        m->g0.stack = gpy__stack_get();
        if (!m->g0.stack) {
            gpy__fatal("out of memory for an OS thread's stack");
        }
        m->g0.fn = m_loop;
        m->g0.arg = m;
        ctx_init(&m->g0);
    }
    switch_to(self, &m->g0);
}

/* to_pinned: next must run on another M. If that M idles, hand it P and
 * next (returns 1 once self runs again); else next waits for it. */
static int
to_pinned(gpy_g *self, gpy_g *next)
{
    gpy_m *pm = next->pin;
    gpy__lock();
    gpy_m *got = pm->idle ? idle_take(pm) : NULL;
    gpy__unlock();
    if (got) {
        runq_push_front(next); /* it runs first there */
        leave_p(self, got);
        return 1;
    }
    next->next = NULL;
    if (pm->pin_tail) {
        pm->pin_tail->next = next;
    } else {
        pm->pin_head = next;
    }
    pm->pin_tail = next;
    return 0;
}

/* m_loop is an M's own context: it gives P away, waits to be handed it,
 * and runs goroutines until it must give it away again. */
static void
m_loop(void *arg)
{
    gpy_m *m = arg;
    for (;;) {
        if (m->give_to) {
            gpy_m *to = m->give_to;
            m->give_to = NULL;
            idle_push(m);
            p_give(to);
        }
        wait_grant(m);
        p_acquired(m);
        schedule(&m->g0);
    }
}

static void *
m_thread(void *arg)
{
    gpy_m *m = arg;
    t_m = m;
    m->g0.is_g0 = 1;
    m->g0.state = GPY_G_PARKED;
#ifdef GPY_ASAN
    m->g0.asan_bottom = NULL;
#endif
    m_loop(m);
    return NULL;
}

void
gpy_sched_syscall_enter(void)
{
    gpy_m *m = t_m;
    if (m && __atomic_load_n(&S.pstate, __ATOMIC_RELAXED) == (uintptr_t)m) {
        __atomic_store_n(&S.sysseq, S.sysseq + 1, __ATOMIC_RELAXED);
        __atomic_store_n(&S.pstate, (uintptr_t)m | P_SYSCALL,
                         __ATOMIC_RELEASE);
    }
}

void
gpy_sched_syscall_exit(void)
{
    gpy_m *m = t_m;
    if (!m || holds_p() || !m->cur) {
        return;
    }
    /* The monitor gave P away while we were in the call: queue up and
     * wait to be handed it back (the M holding P does that at its next
     * switch, or the monitor if that M is stuck too). */
    gpy__lock();
    m->rj_next = NULL;
    if (S.rj_tail) {
        S.rj_tail->rj_next = m;
    } else {
        S.rj_head = m;
    }
    S.rj_tail = m;
    gpy__unlock();
    /* (libev's write to its eventfd reaches our write(), which must not
     * try to rejoin again) */
    m->rejoining = 1;
    wake_loop();
    wait_grant(m);
    m->rejoining = 0;
    p_acquired(m);
    gpy_g *g = m->cur;
    __atomic_store_n(&S.nswitch, S.nswitch + 1, __ATOMIC_RELAXED);
    S.cur = g;
    if (S.hooks.switched) {
        S.hooks.switched(g);
    }
    if (S.hooks.switch_in) {
        S.hooks.switch_in(g->user);
    }
}

void
gpy_sched_set_max_threads(int n)
{
    S.maxms = n < 1 ? 1 : n;
}

int
gpy_sched_threads(void)
{
    return 1 + __atomic_load_n(&S.nms, __ATOMIC_RELAXED);
}

void *
gpy_sched_m(void)
{
    return t_m;
}

int
gpy_sched_holder(void)
{
    gpy_m *m = t_m;
    return m && S.inited && !__atomic_load_n(&S.shutdown, __ATOMIC_RELAXED) &&
           (__atomic_load_n(&S.pstate, __ATOMIC_ACQUIRE) & ~P_SYSCALL) ==
               (uintptr_t)m;
}

int
gpy__p_take(void)
{
    return gpy_sched_active() || gpy_sched_rejoin();
}

int
gpy_sched_detached(void)
{
    gpy_m *m = t_m;
    return m && m->cur && !m->rejoining && S.inited && !holds_p();
}

int
gpy_sched_rejoin(void)
{
    if (!gpy_sched_detached() ||
        __atomic_load_n(&S.shutdown, __ATOMIC_RELAXED)) {
        return 0;
    }
    gpy_sched_syscall_exit();
    return gpy_sched_active();
}

void
gpy_sched_pin_parks(int on)
{
    gpy_m *m = t_m;
    if (m && m->cur) {
        m->cur->pin_parks = on;
    }
}

void
gpy_sched_return_home(void *home)
{
    gpy_m *h = home;
    if (!h || h == t_m || !gpy_sched_active()) {
        return;
    }
    int saved = errno;
    gpy_g *self = t_m->cur;
    self->pin = h;
    self->state = GPY_G_RUNNABLE;
    runq_push_front(self);
    schedule(self);
    self->pin = NULL;
    errno = saved;
}

int
gpy_sched_handoff(int64_t min_ns)
{
    /* The monitor's view, kept between its ticks. */
    static uintptr_t last;
    static unsigned long lastseq;
    static int64_t since;
    uintptr_t s = __atomic_load_n(&S.pstate, __ATOMIC_ACQUIRE);
    unsigned long seq = __atomic_load_n(&S.sysseq, __ATOMIC_RELAXED);
    int64_t now = gpy_now_ns();
    if (!(s & P_SYSCALL)) {
        last = 0;
        return 0;
    }
    if (s != last || seq != lastseq) {
        last = s;
        lastseq = seq;
        since = now;
        return 0;
    }
    if (now - since < min_ns || !gpy_sched_others_waiting()) {
        return 0;
    }
    gpy__lock();
    /* A goroutine whose call returned goes first; else an idle M; else a
     * new one, within the cap. */
    int rejoiner = 0, fresh = 0;
    gpy_m *to = S.rj_head;
    if (to) {
        rejoiner = 1;
        S.rj_head = to->rj_next;
        if (!S.rj_head) {
            S.rj_tail = NULL;
        }
    } else {
        to = idle_take(NULL);
    }
    if (!to && S.nms + 1 < S.maxms) {
        to = calloc(1, sizeof(*to));
        fresh = to != NULL;
    }
    if (!to) {
        gpy__unlock();
        return 0;
    }
    if (!__atomic_compare_exchange_n(&S.pstate, &s, 0, 0, __ATOMIC_ACQ_REL,
                                     __ATOMIC_ACQUIRE)) {
        /* The call returned meanwhile: put `to` back. */
        if (fresh) {
            free(to);
        } else if (rejoiner) {
            to->rj_next = S.rj_head;
            S.rj_head = to;
            if (!S.rj_tail) {
                S.rj_tail = to;
            }
        } else {
            to->idle = 1;
            to->idle_next = S.idle_head;
            S.idle_head = to;
            S.nidle++;
        }
        gpy__unlock();
        return 0;
    }
    gpy_m *stuck = (gpy_m *)(s & ~P_SYSCALL);
    stuck->detached = 1;
    __atomic_add_fetch(&S.ndetached, 1, __ATOMIC_ACQ_REL);
    gpy__unlock();
    if (fresh) {
        S.nms++;
        __atomic_store_n(&S.pstate, (uintptr_t)to, __ATOMIC_RELEASE);
        to->grant = 1;
        if (gpy_thread_start(m_thread, to, 256 << 10) != 0) {
            gpy__fatal("cannot start an OS thread for the scheduler");
        }
    } else {
        p_give(to);
    }
    last = 0;
    return 1;
}

/* schedule picks the next goroutine to run, polling I/O as needed, and
 * switches to it. self is the goroutine giving up the CPU (parked, yielded
 * or dead). */
static void
schedule(gpy_g *self)
{
    for (;;) {
        drain_remote();
        handle_signal_arrival();
        if (__atomic_load_n(&S.rj_head, __ATOMIC_ACQUIRE)) {
            /* A detached M's call returned: its goroutine goes next, on
             * its own thread. */
            gpy_m *r = rejoin_pop();
            if (r) {
                leave_p(self, r);
                return;
            }
        }
        if (S.runq_head) {
            if (++S.tick % POLL_EVERY == 0 && S.loop) {
                ev_run(S.loop, EVRUN_NOWAIT);
                drain_remote();
                handle_signal_arrival();
            }
            gpy_g *next = runq_pop();
            if (next->pin && next->pin != t_m) {
                if (to_pinned(self, next)) {
                    return;
                }
                continue;
            }
            if (next == self) {
                if (track_runs) {
                    run_begins(self);
                }
                self->state = GPY_G_RUNNING;
                if (S.hooks.switched) {
                    S.hooks.switched(self);
                }
                return;
            }
            switch_to(self, next);
            return;
        }
        if (deadlocked()) {
            if (S.hooks.deadlock) {
                S.hooks.deadlock();
            }
            fputs("fatal error: all goroutines are asleep - deadlock!\n",
                  stderr);
            _exit(2);
        }
        /* Idle: a good moment to give pooled stacks back. */
        gpy__stack_trim();
        /* libev does not block without an active watcher; count the async
         * watcher while idle so other threads can wake us. */
        if (!S.loop) {
            /* Create it, then look at the remote queue once more before
             * blocking: a wakeup pushed while there was no loop to wake. */
            loop_get();
            continue;
        }
        if (S.hooks.switched) {
            S.hooks.switched(NULL);
        }
        ev_ref(S.loop);
        ev_run(S.loop, EVRUN_ONCE);
        ev_unref(S.loop);
    }
}

void
gpy__p_ensure(void)
{
    if (!holds_p()) {
        gpy_sched_syscall_exit();
    }
}

void
gpy__park(void)
{
    gpy_g *self = S.cur;
    if (track_runs) {
        run_ends(self);
    }
    self->state = GPY_G_PARKED;
    if (self->pin_parks) {
        self->pin = t_m;
    }
    schedule(self);
    self->pin = NULL;
}

void
gpy_yield(void)
{
    if (!gpy_sched_active()) {
        return;
    }
    gpy_g *self = S.cur;
    self->state = GPY_G_RUNNABLE;
    /* A yield is also a moment to look at I/O and timers, or sleep(0)
     * loops (and preempted computations) would starve them: what became
     * ready queues ahead of the yielder, so that it runs before the
     * yielder's next slice, as Go puts a preempted goroutine behind the
     * ready ones. */
    if (S.loop) {
        ev_run(S.loop, EVRUN_NOWAIT);
    }
    drain_remote();
    runq_push(self);
    schedule(self);
}

/* ---- goroutines ---- */

static void
g_exit(void)
{
    /* The goroutine released the GIL on its way out: out of the monitor's
     * reach before it schedules. */
    gpy__p_ensure();
    gpy_g *self = S.cur;
    /* A wakeup from another OS thread may still be queued for us. */
    while (__atomic_load_n(&self->inflight, __ATOMIC_ACQUIRE)) {
        self->state = GPY_G_PARKED;
        schedule(self);
    }
    self->state = GPY_G_DEAD;
    free(self->patch);
    self->patch = NULL;
    if (S.all_tail == self) {
        S.all_tail = self->all_prev;
    }
    if (self->all_prev) {
        self->all_prev->all_next = self->all_next;
    } else {
        S.all = self->all_next;
    }
    if (self->all_next) {
        self->all_next->all_prev = self->all_prev;
    }
    S.count--;
    gpy__assert(S.zombie == NULL);
    S.zombie = self;
    schedule(self);
    gpy__fatal("dead goroutine resumed");
}

static void
g_trampoline(void *arg)
{
    gpy_g *g = arg;
#ifdef GPY_ASAN
    __sanitizer_finish_switch_fiber(NULL, &S.prev->asan_bottom,
                                    &S.prev->asan_size);
#endif
    if (S.zombie && S.zombie != g) {
        gpy_g *z = S.zombie;
        S.zombie = NULL;
        gpy__stack_put(z->stack);
        free(z);
    }
    g->fn(g->arg);
    if (track_runs) {
        run_ends(g);
    }
    g_exit();
}

/* setup gives a new goroutine its stack and initial frame; runs on the
 * scheduler thread. Returns 0 or -errno. */
static void
ctx_init(gpy_g *g)
{
    /* Lay out a frame gpy__ctx_switch can "return" into gpy__ctx_start. */
    uintptr_t top =
        (uintptr_t)(g->stack->base + g->stack->size) & ~(uintptr_t)15;
#if defined(__x86_64__)
    uint64_t *sp = (uint64_t *)top;
    *--sp = 0; /* fake return address slot */
    *--sp = (uint64_t)(uintptr_t)gpy__ctx_start;
    *--sp = 0;                                 /* rbp */
    *--sp = 0;                                 /* rbx */
    *--sp = (uint64_t)(uintptr_t)g_trampoline; /* r12: entry */
    *--sp = (uint64_t)(uintptr_t)g;            /* r13: arg */
    *--sp = 0;                                 /* r14 */
    *--sp = 0;                                 /* r15 */
    *--sp = 0x037F00001F80ull;                 /* mxcsr (low), x87 cw (high) */
    g->sp = sp;
#elif defined(__aarch64__)
    uint64_t *sp = (uint64_t *)(top - 176);
    memset(sp, 0, 176);
    sp[0] = (uint64_t)(uintptr_t)g_trampoline;    /* x19 */
    sp[1] = (uint64_t)(uintptr_t)g;               /* x20 */
    sp[11] = (uint64_t)(uintptr_t)gpy__ctx_start; /* x30 */
    sp[20] = 0;                                   /* fpcr */
    g->sp = sp;
#else
#error "unsupported architecture"
#endif
}

static int
setup(gpy_g *g)
{
    g->stack = gpy__stack_get();
    if (!g->stack) {
        return -errno;
    }
    ctx_init(g);
    g->all_next = NULL;
    g->all_prev = S.all_tail;
    if (S.all_tail) {
        S.all_tail->all_next = g;
    } else {
        S.all = g;
    }
    S.all_tail = g;
    S.count++;
    g->state = GPY_G_PARKED;
    make_runnable(g);
    return 0;
}

gpy_g *
gpy_go(void (*fn)(void *arg), void *arg, void *user)
{
    gpy_g *g = calloc(1, sizeof(*g));
    if (!g) {
        errno = ENOMEM;
        return NULL;
    }
    g->fn = fn;
    g->arg = arg;
    g->user = user;
    g->id = __atomic_fetch_add(&S.next_id, 1, __ATOMIC_RELAXED);
    if (!holds_p()) {
        /* From another OS thread: the scheduler thread finishes the job. */
        g->state = GPY_G_NEW;
        remote_push(g);
        return g;
    }
    int r = setup(g);
    if (r < 0) {
        free(g);
        errno = -r;
        return NULL;
    }
    return g;
}

/* ---- waking ---- */

int
gpy__claim(int *done)
{
    int expected = 0;
    return __atomic_compare_exchange_n(done, &expected, 1, 0, __ATOMIC_ACQ_REL,
                                       __ATOMIC_ACQUIRE);
}

void
gpy__complete(gpy_g *g, int *done)
{
    if (holds_p()) {
        __atomic_store_n(done, 2, __ATOMIC_RELEASE);
        make_runnable(g);
        return;
    }
    /* From another OS thread: once done is 2 the parker may leave and its
     * goroutine may exit; inflight keeps g alive until the scheduler
     * thread has consumed our wakeup. */
    __atomic_add_fetch(&g->inflight, 1, __ATOMIC_ACQ_REL);
    __atomic_store_n(done, 2, __ATOMIC_RELEASE);
    remote_push(g);
}

int
gpy_waiter_wake(gpy_waiter *w, int result)
{
    /* Whoever claims first owns the wakeup: a timer, an interrupt, a
     * semaphore post from another OS thread may race for it. */
    if (!gpy__claim(&w->done)) {
        return 0;
    }
    w->result = result;
    gpy__complete(w->g, &w->done);
    return 1;
}

/* ---- fork ---- */

void
gpy_sched_after_fork(void)
{
    if (!S.inited) {
        return;
    }
    /* Watchers of the goroutines that did not survive are still started;
     * a fresh loop forgets them. */
    if (S.loop) {
        ev_loop_destroy(S.loop);
        S.loop = NULL; /* made again on first use */
    }
    pthread_mutex_init(&S.mu, NULL);
    S.thread = pthread_self();
    /* Only the forking OS thread survives: it holds P, the other Ms are
     * gone (their records leak, as the goroutines' do). */
    gpy_m *m = t_m ? t_m : &m0;
    t_m = m;
    S.pstate = (uintptr_t)m;
    m->detached = 0;
    m->idle = 0;
    m->pin_head = m->pin_tail = NULL;
    S.idle_head = NULL;
    S.rj_head = S.rj_tail = NULL;
    S.nidle = S.ndetached = S.nms = 0;
    /* Only the forking goroutine survives. Other goroutines' stacks and
     * records are leaked on purpose: their frames may still be referenced
     * by Python objects that outlive them. */
    gpy_g *self = m->cur;
    S.cur = self;
    self->pin = NULL;
    /* The others become ghosts: dead, so that nothing readies them (a
     * channel, a semaphore post, a stale remote wakeup), and off every
     * channel's wait queue. */
    for (gpy_g *g = S.all; g; g = g->all_next) {
        if (g != self) {
            g->state = GPY_G_DEAD;
        }
    }
    if (self != &S.main_g) {
        S.main_g.state = GPY_G_DEAD;
    }
    gpy__chan_after_fork();
    S.runq_head = S.runq_tail = NULL;
    S.remote_head = S.remote_tail = NULL;
    S.all = S.all_tail = NULL;
    S.count = 1;
    S.nwatchers = 0;
    gpy__deadlock_after_fork();
    self->inflight = 0;
    self->rqueued = self->rpending = 0;
    if (self != &S.main_g) {
        /* The forking goroutine becomes the child's main goroutine (it is
         * the one Python runs signal handlers in now). */
        S.all = S.all_tail = self;
        self->all_prev = self->all_next = NULL;
        S.main_g.state = GPY_G_DEAD;
        S.main_g.user = NULL;
        S.mainp = self;
    }
    gpy__wait_after_fork();
    gpy__offload_after_fork();
}

/* chan.c: Go channels and select — buffered ring, wait queues of blocked
 * senders/receivers, direct hand-off, close, uniform random select.
 *
 * Callable from any OS thread, with or without Python's GIL (the C API
 * promises it): one lock, chan_mu, guards every channel's buffer and wait
 * queues and the list of blocked sels. It is never held across a park or
 * across the binding's hooks (which take the GIL), so the only order is
 * GIL -> chan_mu. A single lock rather than Go's per-channel ones: select
 * then needs no lock ordering, and with the GIL serialising Python code
 * it is almost never contended (one uncontended lock/unlock per
 * operation, measured in the channel benchmarks). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "internal.h"

#include <errno.h>
#include <string.h>

/* A blocked send, recv or select: one per blocked caller, on its stack. */
typedef struct sel {
    gpy_waiter w;       /* w.done is the claim: the first case to fire */
    int os;             /* the caller is an OS thread, not a goroutine */
    int signaled;       /* OS thread: woken */
    pthread_mutex_t mu; /* OS thread: guards signaled */
    pthread_cond_t cv;
    int fired;         /* index of the case that fired */
    int closed;        /* the fired case is a send on a closed channel */
    struct sudog *sds; /* its cases' queue entries */
    int n;
    struct sel *bprev, *bnext; /* the list of blocked sels (for fork) */
} sel;

/* One case of a blocked sel, queued on its channel. */
typedef struct sudog {
    struct sudog *prev, *next;
    sel *s;
    gpy_case *c;
    int idx;
    int linked; /* still in its channel's queue */
} sudog;

typedef struct waitq {
    sudog *head, *tail;
} waitq;

/* A debug build (GPY_DEBUG) keeps freed channel records (their buffers
 * are freed), marked dead, so that a use after the last decref through
 * the C API is reported (gpy_chan_check) rather than corrupting memory. */
#ifdef GPY_DEBUG
#define CHAN_QUARANTINE 1
#endif

/* Live channels, for leak checks (gpy_chan_count). */
static long nchans;

#ifdef CHAN_QUARANTINE
/* The dead records, linked through their buf (still reachable: no leak
 * for LeakSanitizer). */
static gpy_chan *graveyard;
static int graveyard_mu;
#endif
enum { CHAN_LIVE = 0x6368616e, CHAN_DEAD = 0xdeadc4a1 };

struct gpy_chan {
    unsigned magic; /* CHAN_LIVE; CHAN_DEAD once freed (quarantine) */
    long refcnt;    /* atomic */
    size_t cap;     /* buffer capacity in elements */
    size_t elemsize;
    size_t len;  /* buffered elements */
    size_t head; /* index of the oldest buffered element */
    int closed;
    waitq recvq, sendq;
    char *buf;
};

/* chan_mu: a futex lock (0 free, 1 held, 2 held with waiters). The
 * uncontended path is one atomic exchange each way: glibc's
 * pthread_mutex costs ~8% of a Python channel operation here. */
static int chan_mu;

#if defined(__x86_64__)
#define GPY_CPU_RELAX() __builtin_ia32_pause()
#elif defined(__aarch64__)
#define GPY_CPU_RELAX() __asm__ __volatile__("yield")
#else
#define GPY_CPU_RELAX() ((void)0)
#endif

static void
chan_lock(void)
{
    int c = 0;
    if (__atomic_compare_exchange_n(&chan_mu, &c, 1, 0, __ATOMIC_ACQUIRE,
                                    __ATOMIC_RELAXED)) {
        return;
    }
    /* Held: spin briefly (the holder never parks with it), then sleep. */
    for (int i = 0; i < 100; i++) {
        c = 0;
        if (__atomic_load_n(&chan_mu, __ATOMIC_RELAXED) == 0 &&
            __atomic_compare_exchange_n(&chan_mu, &c, 1, 0, __ATOMIC_ACQUIRE,
                                        __ATOMIC_RELAXED)) {
            return;
        }
        GPY_CPU_RELAX();
    }
    while (__atomic_exchange_n(&chan_mu, 2, __ATOMIC_ACQUIRE) != 0) {
        gpy__sys_futex_wait(&chan_mu, 2);
    }
}

static inline void
chan_unlock(void)
{
    if (__atomic_exchange_n(&chan_mu, 0, __ATOMIC_RELEASE) == 2) {
        gpy__sys_futex_wake(&chan_mu, 1);
    }
}

/* select's fairness: a per-OS-thread xorshift64* (seeded from the clock
 * and the thread), so no shared state is written outside chan_mu. */
static uint32_t
chan_rand32(void)
{
    static __thread uint64_t x;
    if (!x) {
        x = ((uint64_t)gpy_now_ns() ^ (uint64_t)(uintptr_t)&x) *
                0x9E3779B97F4A7C15ull |
            1;
    }
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    return (uint32_t)((x * 0x2545F4914F6CDD1Dull) >> 32);
}

gpy_chan *
gpy_chan_new(size_t cap, size_t elemsize)
{
    gpy_chan *ch = calloc(1, sizeof(*ch));
    if (!ch) {
        errno = ENOMEM;
        return NULL;
    }
    ch->magic = CHAN_LIVE;
    ch->refcnt = 1;
    __atomic_add_fetch(&nchans, 1, __ATOMIC_RELAXED);
    ch->cap = cap;
    ch->elemsize = elemsize;
    if (cap && elemsize) {
        /* Go's "makechan: size out of range": no buffer past 1 TiB. */
        if (cap > ((size_t)1 << 40) / elemsize) {
            free(ch);
            errno = ENOMEM;
            return NULL;
        }
        ch->buf = malloc(cap * elemsize);
        if (!ch->buf) {
            free(ch);
            errno = ENOMEM;
            return NULL;
        }
    }
    return ch;
}

void
gpy_chan_incref(gpy_chan *ch)
{
    if (ch) {
        __atomic_add_fetch(&ch->refcnt, 1, __ATOMIC_RELAXED);
    }
}

void
gpy_chan_decref(gpy_chan *ch)
{
    if (ch && __atomic_sub_fetch(&ch->refcnt, 1, __ATOMIC_ACQ_REL) == 0) {
        gpy__assert(!ch->recvq.head && !ch->sendq.head);
        __atomic_sub_fetch(&nchans, 1, __ATOMIC_RELAXED);
        free(ch->buf);
#ifdef CHAN_QUARANTINE
        ch->magic = CHAN_DEAD;
        while (__atomic_exchange_n(&graveyard_mu, 1, __ATOMIC_ACQUIRE)) {
        }
        ch->buf = (char *)graveyard;
        graveyard = ch;
        __atomic_store_n(&graveyard_mu, 0, __ATOMIC_RELEASE);
#else
        free(ch);
#endif
    }
}

long
gpy_chan_count(void)
{
    return __atomic_load_n(&nchans, __ATOMIC_RELAXED);
}

int
gpy_chan_debug(void)
{
#ifdef CHAN_QUARANTINE
    return 1;
#else
    return 0;
#endif
}

int
gpy_chan_check(const gpy_chan *ch)
{
#ifdef CHAN_QUARANTINE
    if (ch && ch->magic != CHAN_LIVE) {
        return ch->magic == CHAN_DEAD ? -EBADF : -EINVAL;
    }
#else
    (void)ch;
#endif
    return 0;
}

size_t
gpy_chan_len(const gpy_chan *ch)
{
    return ch ? __atomic_load_n(&ch->len, __ATOMIC_RELAXED) : 0;
}

void *
gpy_chan_buffered(const gpy_chan *ch, size_t i)
{
    if (!ch || i >= ch->len) {
        return NULL;
    }
    return ch->buf + ((ch->head + i) % ch->cap) * ch->elemsize;
}

size_t
gpy_chan_cap(const gpy_chan *ch)
{
    return ch ? ch->cap : 0;
}

size_t
gpy_chan_elemsize(const gpy_chan *ch)
{
    return ch ? ch->elemsize : 0;
}

/* Every sel blocked right now, whoever owns it (a goroutine or an OS
 * thread): in a forked child none of their owners exists, and their
 * entries must leave the channels' queues (gpy__chan_after_fork). Guarded
 * like the queues themselves. */
static sel *blocked;

/* ---- wait queues ---- */

static void
q_push(waitq *q, sudog *sd)
{
    sd->next = NULL;
    sd->prev = q->tail;
    if (q->tail) {
        q->tail->next = sd;
    } else {
        q->head = sd;
    }
    q->tail = sd;
    sd->linked = 1;
}

static void
q_unlink(waitq *q, sudog *sd)
{
    if (!sd->linked) {
        return;
    }
    if (sd->prev) {
        sd->prev->next = sd->next;
    } else {
        q->head = sd->next;
    }
    if (sd->next) {
        sd->next->prev = sd->prev;
    } else {
        q->tail = sd->prev;
    }
    sd->prev = sd->next = NULL;
    sd->linked = 0;
}

/* q_take dequeues the first waiter whose sel can still fire and claims it;
 * waiters of sels already fired elsewhere are dropped on the way. */
static sudog *
q_take(waitq *q)
{
    sudog *sd;
    while ((sd = q->head)) {
        q_unlink(q, sd);
        if (gpy__claim(&sd->s->w.done)) {
            return sd;
        }
    }
    return NULL;
}

/* fire wakes the owner of a claimed sudog; its results are written. */
static void
fire(sudog *sd)
{
    sel *s = sd->s;
    s->fired = sd->idx;
    if (s->os) {
        pthread_mutex_lock(&s->mu);
        s->signaled = 1;
        pthread_cond_signal(&s->cv);
        pthread_mutex_unlock(&s->mu);
    } else {
        s->w.result = 0;
        gpy__complete(s->w.g, &s->w.done);
    }
}

static void
copy_elem(gpy_chan *ch, void *dst, const void *src)
{
    if (dst && ch->elemsize) {
        if (src) {
            memcpy(dst, src, ch->elemsize);
        } else {
            memset(dst, 0, ch->elemsize);
        }
    }
}

/* ---- the non-blocking attempts ---- */

/* try_send: 1 done, 0 would block, -EPIPE closed. */
static int
try_send(gpy_chan *ch, const void *elem)
{
    if (ch->closed) {
        return -EPIPE;
    }
    sudog *r = q_take(&ch->recvq);
    if (r) {
        copy_elem(ch, r->c->data, elem);
        r->c->ok = 1;
        fire(r);
        return 1;
    }
    if (ch->len < ch->cap) {
        size_t tail = (ch->head + ch->len) % ch->cap;
        copy_elem(ch, ch->buf + tail * ch->elemsize, elem);
        ch->len++;
        return 1;
    }
    return 0;
}

/* try_recv: 1 done (*ok set), 0 would block. */
static int
try_recv(gpy_chan *ch, void *elem, int *ok)
{
    if (ch->len > 0) {
        copy_elem(ch, elem, ch->buf + ch->head * ch->elemsize);
        ch->head = (ch->head + 1) % ch->cap;
        ch->len--;
        /* a blocked sender can now put its value in the freed slot */
        sudog *s = q_take(&ch->sendq);
        if (s) {
            size_t tail = (ch->head + ch->len) % ch->cap;
            copy_elem(ch, ch->buf + tail * ch->elemsize, s->c->data);
            ch->len++;
            fire(s);
        }
        *ok = 1;
        return 1;
    }
    sudog *s = q_take(&ch->sendq);
    if (s) {
        copy_elem(ch, elem, s->c->data);
        fire(s);
        *ok = 1;
        return 1;
    }
    if (ch->closed) {
        copy_elem(ch, elem, NULL);
        *ok = 0;
        return 1;
    }
    return 0;
}

int
gpy_chan_close(gpy_chan *ch)
{
    if (!ch) {
        return -EINVAL;
    }
    chan_lock();
    if (ch->closed) {
        chan_unlock();
        return -EPIPE;
    }
    ch->closed = 1;
    sudog *sd;
    while ((sd = q_take(&ch->recvq))) {
        copy_elem(ch, sd->c->data, NULL);
        sd->c->ok = 0;
        fire(sd);
    }
    while ((sd = q_take(&ch->sendq))) {
        sd->s->closed = 1;
        fire(sd);
    }
    chan_unlock();
    return 0;
}

/* ---- blocking ---- */

/* wait_sel blocks until s fires or, for goroutines, a signal interrupts.
 * Returns 0 or -EINTR. */
static int
wait_sel(sel *s)
{
    void *token = gpy__park_enter();
    int r = 0;
    if (s->os) {
        pthread_mutex_lock(&s->mu);
        while (!s->signaled) {
            pthread_cond_wait(&s->cv, &s->mu);
        }
        pthread_mutex_unlock(&s->mu);
    } else if (gpy_park_wait(&s->w, -1) == -EINTR) {
        /* An interrupt claims s like a firing case would: the caller
         * unqueues and either reports it or starts the select over. */
        r = -EINTR;
    }
    gpy__park_exit(token);
    return r;
}

static void
sel_init(sel *s)
{
    memset(s, 0, sizeof(*s));
    s->os = !gpy__on_sched();
    if (s->os) {
        pthread_mutex_init(&s->mu, NULL);
        pthread_cond_init(&s->cv, NULL);
    } else {
        gpy_waiter_init(&s->w);
    }
}

static void
blocked_add(sel *s)
{
    s->bprev = NULL;
    s->bnext = blocked;
    if (blocked) {
        blocked->bprev = s;
    }
    blocked = s;
}

static void
blocked_remove(sel *s)
{
    if (s->bprev) {
        s->bprev->bnext = s->bnext;
    } else {
        blocked = s->bnext;
    }
    if (s->bnext) {
        s->bnext->bprev = s->bprev;
    }
}

static void
unqueue_all(sel *s)
{
    for (int i = 0; i < s->n; i++) {
        gpy_case *c = s->sds[i].c;
        if (c->ch) {
            q_unlink(c->op == GPY_CASE_SEND ? &c->ch->sendq : &c->ch->recvq,
                     &s->sds[i]);
        }
    }
}

int
gpy_chan_waits(void (*fn)(gpy_g *g, gpy_chan *const *chs, int n, void *arg),
               void *arg)
{
    int count = 0;
    chan_lock();
    for (sel *s = blocked; s; s = s->bnext) {
        if (s->os) {
            continue;
        }
        gpy_chan *small[16];
        gpy_chan **chs = s->n <= 16 ? small : malloc(s->n * sizeof(*chs));
        if (!chs) {
            continue;
        }
        int k = 0;
        for (int i = 0; i < s->n; i++) {
            if (s->sds[i].c->ch) {
                chs[k++] = s->sds[i].c->ch;
            }
        }
        fn(s->w.g, chs, k, arg);
        count++;
        if (chs != small) {
            free(chs);
        }
    }
    chan_unlock();
    return count;
}

/* q_count: the waiters still waiting (a select that another case has
 * already claimed may not have unlinked this one yet). */
static size_t
q_count(const waitq *q)
{
    size_t n = 0;
    for (const sudog *sd = q->head; sd; sd = sd->next) {
        n += __atomic_load_n(&sd->s->w.done, __ATOMIC_ACQUIRE) == 0;
    }
    return n;
}

void
gpy_chan_queued(gpy_chan *ch, size_t *nrecv, size_t *nsend)
{
    *nrecv = *nsend = 0;
    if (!ch) {
        return;
    }
    chan_lock();
    *nrecv = q_count(&ch->recvq);
    *nsend = q_count(&ch->sendq);
    chan_unlock();
}

long
gpy_chan_refs(const gpy_chan *ch)
{
    return ch ? __atomic_load_n(&ch->refcnt, __ATOMIC_RELAXED) : 0;
}

void
gpy__chan_after_fork(void)
{
    /* The forking goroutine runs, so it is not among them. Their memory
     * (stacks of goroutines and threads that do not exist here) stays
     * mapped in the child: unlinking is safe. */
    /* The lock may have been held by a thread that is gone. */
    chan_mu = 0;
    for (sel *s = blocked; s; s = s->bnext) {
        unqueue_all(s);
    }
    blocked = NULL;
}

static void
sel_fini(sel *s)
{
    if (s->os) {
        pthread_mutex_destroy(&s->mu);
        pthread_cond_destroy(&s->cv);
    }
}

#define SMALL_N 8

int
gpy_select(gpy_case *cases, int n, int flags, int *closed_idx)
{
    int order_small[SMALL_N];
    sudog sd_small[SMALL_N];
    int *order = order_small;
    sudog *sds = sd_small;
    int ret;

    if (n > SMALL_N) {
        order = malloc((size_t)n * sizeof(*order));
        sds = malloc((size_t)n * sizeof(*sds));
        if (!order || !sds) {
            free(order);
            free(sds);
            return -ENOMEM;
        }
    }
again:
    chan_lock();
    /* Visit the cases in a random permutation: the first ready one wins,
     * so each ready case is equally likely. */
    if (n == 1) {
        order[0] = 0;
    }
    for (int i = 0; n > 1 && i < n; i++) {
        int j = (int)(chan_rand32() % (uint32_t)(i + 1));
        order[i] = order[j];
        order[j] = i;
    }
    for (int k = 0; k < n; k++) {
        int i = order[k];
        gpy_case *c = &cases[i];
        if (!c->ch) {
            continue;
        }
        if (c->op == GPY_CASE_SEND) {
            int r = try_send(c->ch, c->data);
            if (r < 0) {
                if (closed_idx) {
                    *closed_idx = i;
                }
                ret = -EPIPE;
                goto out_locked;
            }
            if (r) {
                ret = i;
                goto out_locked;
            }
        } else {
            if (try_recv(c->ch, c->data, &c->ok)) {
                ret = i;
                goto out_locked;
            }
        }
    }
    if (flags & GPY_SELECT_NONBLOCK) {
        ret = -EAGAIN;
        goto out_locked;
    }

    sel s;
    sel_init(&s);
    s.sds = sds;
    s.n = n;
    for (int i = 0; i < n; i++) {
        gpy_case *c = &cases[i];
        sds[i].s = &s;
        sds[i].c = c;
        sds[i].idx = i;
        sds[i].linked = 0;
        if (c->ch) {
            q_push(c->op == GPY_CASE_SEND ? &c->ch->sendq : &c->ch->recvq,
                   &sds[i]);
        }
    }
    if (!s.os) {
        /* What a goroutine dump says it waits for. */
        s.w.reason =
            n == 0  ? GPY_WAIT_SELECT_NOCASES
            : n > 1 ? GPY_WAIT_SELECT
            : cases[0].op == GPY_CASE_SEND
                ? (cases[0].ch ? GPY_WAIT_CHAN_SEND : GPY_WAIT_CHAN_SEND_NIL)
                : (cases[0].ch ? GPY_WAIT_CHAN_RECV : GPY_WAIT_CHAN_RECV_NIL);
    }
    blocked_add(&s);
    chan_unlock();
    int r = wait_sel(&s);
    chan_lock();
    blocked_remove(&s);
    unqueue_all(&s);
    chan_unlock();
    sel_fini(&s);
    if (r == -EINTR) {
        ret = -EINTR;
        goto out;
    }
    if (s.closed) {
        if (closed_idx) {
            *closed_idx = s.fired;
        }
        ret = -EPIPE;
        goto out;
    }
    ret = s.fired;
    goto out;
out_locked:
    chan_unlock();
out:
    if (ret == -EINTR && !(flags & GPY_SELECT_INTR)) {
        goto again;
    }
    if (order != order_small) {
        free(order);
        free(sds);
    }
    return ret;
}

int
gpy_chan_send(gpy_chan *ch, const void *elem)
{
    gpy_case c = {ch, GPY_CASE_SEND, (void *)elem, 0};
    int r = gpy_select(&c, 1, 0, NULL);
    return r < 0 ? r : 0;
}

int
gpy_chan_recv(gpy_chan *ch, void *elem)
{
    gpy_case c = {ch, GPY_CASE_RECV, elem, 0};
    int r = gpy_select(&c, 1, 0, NULL);
    if (r < 0) {
        return r;
    }
    return c.ok;
}

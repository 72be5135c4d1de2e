/* offload.c: a pool of real OS threads for calls that cannot be made
 * non-blocking (getaddrinfo and friends, system()); the caller parks
 * meanwhile. Threads are made on demand, up to POOL_MAX, and then kept. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "internal.h"

#include <errno.h>
#include <signal.h>
#include <string.h>

#define POOL_MAX 64

typedef struct job {
    void (*fn)(void *arg);
    void *arg;
    gpy_waiter w;
    int finished; /* set by the worker before it wakes the caller */
    struct job *next;
} job;

static struct {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    job *head, *tail;
    int nthreads;
    int nidle;
    int nqueued; /* jobs in the list, not yet taken by a worker */
    int pending; /* jobs submitted and not yet collected */
} O = {PTHREAD_MUTEX_INITIALIZER,
       PTHREAD_COND_INITIALIZER,
       NULL,
       NULL,
       0,
       0,
       0,
       0};

int
gpy__offload_threads(void)
{
    return __atomic_load_n(&O.nthreads, __ATOMIC_ACQUIRE);
}

int
gpy__offload_pending(void)
{
    return __atomic_load_n(&O.pending, __ATOMIC_ACQUIRE);
}

static void *
worker(void *unused)
{
    (void)unused;
    pthread_mutex_lock(&O.mu);
    for (;;) {
        while (!O.head) {
            O.nidle++;
            pthread_cond_wait(&O.cv, &O.mu);
            O.nidle--;
        }
        job *j = O.head;
        O.head = j->next;
        O.nqueued--;
        if (!O.head) {
            O.tail = NULL;
        }
        pthread_mutex_unlock(&O.mu);
        j->fn(j->arg);
        __atomic_store_n(&j->finished, 1, __ATOMIC_SEQ_CST);
        gpy_waiter_wake(&j->w, 0);
        pthread_mutex_lock(&O.mu);
    }
    return NULL;
}

int
gpy_offload(void (*fn)(void *arg), void *arg)
{
    if (!gpy__p_take()) {
        fn(arg);
        return 0;
    }
    job j;
    memset(&j, 0, sizeof(j));
    j.fn = fn;
    j.arg = arg;
    gpy_waiter_init(&j.w);
    j.w.reason = GPY_WAIT_SYSCALL;

    pthread_mutex_lock(&O.mu);
    /* An idle worker counts only if no queued job has claimed it yet: after
     * a burst of submissions nidle still counts workers that are waking up
     * for the earlier jobs. */
    if (O.nqueued >= O.nidle && O.nthreads < POOL_MAX) {
        if (gpy_thread_start(worker, NULL, 0) == 0) {
            __atomic_add_fetch(&O.nthreads, 1, __ATOMIC_ACQ_REL);
        }
        if (O.nthreads == 0) {
            pthread_mutex_unlock(&O.mu);
            fn(arg);
            return 0;
        }
    }
    if (O.tail) {
        O.tail->next = &j;
    } else {
        O.head = &j;
    }
    O.tail = &j;
    O.nqueued++;
    __atomic_add_fetch(&O.pending, 1, __ATOMIC_ACQ_REL);
    pthread_cond_signal(&O.cv);
    pthread_mutex_unlock(&O.mu);

    /* The job lives on this stack: wait for it even across interrupts. */
    for (;;) {
        gpy_park_wait(&j.w, -1);
        if (__atomic_load_n(&j.finished, __ATOMIC_SEQ_CST)) {
            break;
        }
        __atomic_store_n(&j.w.done, 0, __ATOMIC_SEQ_CST);
        if (__atomic_load_n(&j.finished, __ATOMIC_SEQ_CST)) {
            break;
        }
    }
    __atomic_sub_fetch(&O.pending, 1, __ATOMIC_ACQ_REL);
    return 0;
}

void
gpy__offload_after_fork(void)
{
    pthread_mutex_init(&O.mu, NULL);
    pthread_cond_init(&O.cv, NULL);
    O.head = O.tail = NULL;
    O.nthreads = 0;
    O.nidle = 0;
    O.nqueued = 0;
    O.pending = 0;
}

int
gpy_thread_start(void *(*fn)(void *), void *arg, size_t stack)
{
    pthread_t t;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    if (stack) {
        pthread_attr_setstacksize(&attr, stack);
    }
    /* Signals are for the program's threads: a process-directed one must
     * never land here (default action, or missed by sigwait in main). */
    sigset_t all;
    sigfillset(&all);
    pthread_attr_setsigmask_np(&attr, &all);
    int r = pthread_create(&t, &attr, fn, arg);
    pthread_attr_destroy(&attr);
    return r;
}

/* sem.c: cooperative POSIX semaphores — CPython's locks (threading.Lock,
 * the import lock, queue's conditions) are sem_t. A goroutine blocked in
 * sem_wait parks on a waiter filed under the semaphore's address; sem_post,
 * from any goroutine or OS thread, wakes the oldest one. */
#include "internal.h"

#include <stdint.h>

#define NBUCKETS 64

/* semwait lives on the parked goroutine's stack (which never moves). */
typedef struct semwait {
    sem_t *sem;
    gpy_waiter w;
    int linked; /* still filed: no sem_post took it out */
    struct semwait *prev, *next;
} semwait;

static struct {
    pthread_mutex_t mu; /* guards the buckets; never held across a park */
    struct {
        semwait *head, *tail;
    } b[NBUCKETS];
    int nwaiting; /* filed waiters, read without mu by sem_post */
} T = {PTHREAD_MUTEX_INITIALIZER, {{NULL, NULL}}, 0};

/* In a forked child only the forking goroutine survives, and it is not
 * waiting on a semaphore: every filed waiter belongs to a goroutine that
 * must never be woken there. The lock may have been held by another
 * thread at the fork. */
static void
forget_waiters(void)
{
    pthread_mutex_init(&T.mu, NULL);
    for (int i = 0; i < NBUCKETS; i++) {
        T.b[i].head = T.b[i].tail = NULL;
    }
    __atomic_store_n(&T.nwaiting, 0, __ATOMIC_SEQ_CST);
}

static void
register_atfork(void)
{
    pthread_atfork(NULL, NULL, forget_waiters);
}

void
gpy_patch_sem_init(void)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, register_atfork);
}

static unsigned
bucket(sem_t *s)
{
    uintptr_t a = (uintptr_t)s;
    return (unsigned)((a >> 4) ^ (a >> 12)) % NBUCKETS;
}

static void
unlink_locked(semwait *n)
{
    unsigned b = bucket(n->sem);
    if (n->prev) {
        n->prev->next = n->next;
    } else {
        T.b[b].head = n->next;
    }
    if (n->next) {
        n->next->prev = n->prev;
    } else {
        T.b[b].tail = n->prev;
    }
    n->linked = 0;
    __atomic_sub_fetch(&T.nwaiting, 1, __ATOMIC_SEQ_CST);
}

static void
file_waiter(semwait *n, sem_t *s)
{
    n->sem = s;
    n->linked = 1;
    n->next = NULL;
    gpy_waiter_init(&n->w);
    n->w.reason = GPY_WAIT_LOCK;
    unsigned b = bucket(s);
    pthread_mutex_lock(&T.mu);
    n->prev = T.b[b].tail;
    if (n->prev) {
        n->prev->next = n;
    } else {
        T.b[b].head = n;
    }
    T.b[b].tail = n;
    __atomic_add_fetch(&T.nwaiting, 1, __ATOMIC_SEQ_CST);
    pthread_mutex_unlock(&T.mu);
}

static void
unfile_waiter(semwait *n)
{
    pthread_mutex_lock(&T.mu);
    if (n->linked) {
        unlink_locked(n);
    }
    pthread_mutex_unlock(&T.mu);
}

/* A process-shared semaphore (multiprocessing's SemLock, sem_open) may
 * be posted by another process, which cannot wake our waiters: poll it
 * with a growing sleep instead (filed waiters still wake at once on a post
 * from this process). glibc's 64-bit sem_t is {u64 value; int private;
 * ...}: private is 0 (LLL_PRIVATE) for a process-private semaphore and
 * FUTEX_PRIVATE_FLAG (128, LLL_SHARED: it is xor-ed into the futex op)
 * for a shared one, sem_open's included. */
#define SHARED_POLL_MIN_NS 1000000LL
#define SHARED_POLL_MAX_NS 50000000LL

static int
sem_is_shared(sem_t *s)
{
    return ((const int *)(const void *)s)[2] != 0;
}

/* sem_park waits for a token of s until the CLOCK_MONOTONIC deadline (-1:
 * none). Returns 0 with the token taken, or -1 with errno ETIMEDOUT,
 * EINTR or EINVAL, like sem_timedwait. */
static int
sem_park(sem_t *s, int64_t deadline)
{
    int shared = sem_is_shared(s);
    int64_t step = SHARED_POLL_MIN_NS;
    for (;;) {
        if (sem_trywait(s) == 0) {
            return 0;
        }
        if (errno != EAGAIN) {
            return -1;
        }
        semwait n;
        file_waiter(&n, s);
        /* Filed before this second look: a sem_post that slips in
         * between sees us and wakes us, so its token cannot be missed. */
        if (sem_trywait(s) == 0) {
            unfile_waiter(&n);
            return 0;
        }
        int64_t until = deadline;
        if (shared) {
            int64_t poll = gpy_now_ns() + step;
            if (until < 0 || poll < until) {
                until = poll;
            }
            if (step < SHARED_POLL_MAX_NS) {
                step *= 2;
            }
        }
        int r = gpy_park_wait(&n.w, until);
        unfile_waiter(&n);
        if (r == -EINTR) {
            errno = EINTR;
            return -1;
        }
        if (r == -ETIMEDOUT && until != deadline) {
            continue; /* a shared semaphore's poll interval: look again */
        }
        if (r == -ETIMEDOUT) {
            if (sem_trywait(s) == 0) {
                return 0;
            }
            errno = ETIMEDOUT;
            return -1;
        }
        /* Woken by a sem_post: the token may already be gone to a faster
         * taker; look again. */
    }
}

GPY_EXPORT int
sem_post(sem_t *s)
{
    int r = GPY_REAL(sem_post)(s);
    if (r != 0) {
        return r;
    }
    /* Pairs with the waiter's "file, then sem_trywait": either it sees
     * our token or we see it filed. */
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    if (__atomic_load_n(&T.nwaiting, __ATOMIC_SEQ_CST) == 0) {
        return 0;
    }
    int saved = errno;
    unsigned b = bucket(s);
    pthread_mutex_lock(&T.mu);
    semwait *n = T.b[b].head;
    while (n) {
        semwait *next = n->next;
        if (n->sem == s) {
            unlink_locked(n);
            /* A waiter whose timer or interrupt won the race is already
             * done: give the token's wakeup to the next one. */
            if (gpy_waiter_wake(&n->w, 0)) {
                break;
            }
        }
        n = next;
    }
    pthread_mutex_unlock(&T.mu);
    errno = saved;
    return 0;
}

GPY_EXPORT int
sem_wait(sem_t *s)
{
    if (!gpy_patch_may_park()) {
        return GPY_REAL(sem_wait)(s);
    }
    return GPY_HOMED(sem_park(s, -1));
}

/* timed_park is sem_timedwait and sem_clockwait for a goroutine that may
 * park: a free count is taken at once, as the real calls do, before the
 * deadline is checked. */
static int
timed_park(sem_t *s, clockid_t clock, const struct timespec *abs)
{
    if (sem_trywait(s) == 0) {
        return 0;
    }
    if (errno != EAGAIN) {
        return -1;
    }
    if (!abs || abs->tv_nsec < 0 || abs->tv_nsec >= 1000000000) {
        errno = EINVAL;
        return -1;
    }
    if (abs->tv_sec < 0) {
        errno = ETIMEDOUT;
        return -1;
    }
    return sem_park(s, gpy_patch_deadline_abs(clock, abs));
}

GPY_EXPORT int
sem_timedwait(sem_t *restrict s, const struct timespec *restrict abs)
{
    if (!gpy_patch_may_park()) {
        return GPY_REAL(sem_timedwait)(s, abs);
    }
    return GPY_HOMED(timed_park(s, CLOCK_REALTIME, abs));
}

GPY_EXPORT int
sem_clockwait(sem_t *restrict s, clockid_t clock,
              const struct timespec *restrict abs)
{
    if (!GPY_REAL(sem_clockwait)) {
        errno = ENOSYS;
        return -1;
    }
    if (!gpy_patch_may_park() ||
        (clock != CLOCK_MONOTONIC && clock != CLOCK_REALTIME)) {
        return GPY_REAL(sem_clockwait)(s, clock, abs);
    }
    return GPY_HOMED(timed_park(s, clock, abs));
}

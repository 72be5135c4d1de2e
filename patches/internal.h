/* internal.h: what the files of patches/ share — the table of real libc
 * functions, the "may this call park?" test and the waiting helpers. */
#ifndef GPY_PATCHES_INTERNAL_H
#define GPY_PATCHES_INTERNAL_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
/* The interposers define the plain names (sendfile, not sendfile64); a
 * build-wide _FILE_OFFSET_BITS=64 would rename them behind our back. 64-bit
 * targets only: off_t is 64 bits either way. */
#undef _FILE_OFFSET_BITS

#include "gpy.h"
#include "patches.h"

#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* errno is per OS thread, and a goroutine parked in this code may resume
 * on another one (DESIGN.md, "Handoff"). glibc declares __errno_location
 * const, so GCC keeps its result in a register across calls -- across a
 * park, that is the first thread's errno. Ours is an ordinary function:
 * every use asks again. */
int *gpy__errno_location(void);
#undef errno
#define errno (*gpy__errno_location())

/* GPY_EXPORT marks an interposer: it must land in the executable's dynamic
 * symbol table even when the build hides symbols by default. */
#define GPY_EXPORT __attribute__((visibility("default")))

/* The real libc functions, found with dlsym(RTLD_NEXT). */
typedef struct gpy_real_fns {
    ssize_t (*read)(int, void *, size_t);
    ssize_t (*write)(int, const void *, size_t);
    ssize_t (*readv)(int, const struct iovec *, int);
    ssize_t (*writev)(int, const struct iovec *, int);
    int (*close)(int);
    int (*dup2)(int, int);
    int (*dup3)(int, int, int);
    ssize_t (*recv)(int, void *, size_t, int);
    ssize_t (*recvfrom)(int, void *, size_t, int, struct sockaddr *,
                        socklen_t *);
    ssize_t (*recvmsg)(int, struct msghdr *, int);
    ssize_t (*send)(int, const void *, size_t, int);
    ssize_t (*sendto)(int, const void *, size_t, int, const struct sockaddr *,
                      socklen_t);
    ssize_t (*sendmsg)(int, const struct msghdr *, int);
    int (*accept)(int, struct sockaddr *, socklen_t *);
    int (*accept4)(int, struct sockaddr *, socklen_t *, int);
    int (*connect)(int, const struct sockaddr *, socklen_t);
    ssize_t (*sendfile)(int, int, off_t *, size_t);
    int (*poll)(struct pollfd *, nfds_t, int);
    int (*ppoll)(struct pollfd *, nfds_t, const struct timespec *,
                 const sigset_t *);
    int (*select)(int, fd_set *, fd_set *, fd_set *, struct timeval *);
    int (*pselect)(int, fd_set *, fd_set *, fd_set *, const struct timespec *,
                   const sigset_t *);
    int (*epoll_wait)(int, struct epoll_event *, int, int);
    int (*epoll_pwait)(int, struct epoll_event *, int, int, const sigset_t *);
    int (*epoll_pwait2)(int, struct epoll_event *, int,
                        const struct timespec *, const sigset_t *);
    int (*nanosleep)(const struct timespec *, struct timespec *);
    int (*clock_nanosleep)(clockid_t, int, const struct timespec *,
                           struct timespec *);
    int (*usleep)(useconds_t);
    unsigned int (*sleep)(unsigned int);
    pid_t (*waitpid)(pid_t, int *, int);
    pid_t (*wait4)(pid_t, int *, int, struct rusage *);
    int (*waitid)(idtype_t, id_t, siginfo_t *, int);
    int (*sem_wait)(sem_t *);
    int (*sem_timedwait)(sem_t *, const struct timespec *);
    int (*sem_clockwait)(sem_t *, clockid_t, const struct timespec *);
    int (*sem_post)(sem_t *);
    int (*getaddrinfo)(const char *, const char *, const struct addrinfo *,
                       struct addrinfo **);
    int (*getnameinfo)(const struct sockaddr *, socklen_t, char *, socklen_t,
                       char *, socklen_t, int);
    int (*gethostbyname_r)(const char *, struct hostent *, char *, size_t,
                           struct hostent **, int *);
    int (*gethostbyname2_r)(const char *, int, struct hostent *, char *,
                            size_t, struct hostent **, int *);
    int (*gethostbyaddr_r)(const void *, socklen_t, int, struct hostent *,
                           char *, size_t, struct hostent **, int *);
    int (*system)(const char *);
    int (*flock)(int, int);
    int (*pthread_kill)(pthread_t, int);
    int (*pthread_getcpuclockid)(pthread_t, clockid_t *);
    int (*pthread_sigmask)(int, const sigset_t *, sigset_t *);
    int (*sigprocmask)(int, const sigset_t *, sigset_t *);
} gpy_real_fns;

extern gpy_real_fns gpy_real;
extern int gpy_real_ready;

/* gpy_real_resolve fills gpy_real (once; thread-safe). */
void gpy_real_resolve(void);

/* GPY_REAL(fn) is the real libc fn, resolved on first use. */
#define GPY_REAL(fn)                                                          \
    (__builtin_expect(__atomic_load_n(&gpy_real_ready, __ATOMIC_ACQUIRE), 1)  \
         ? gpy_real.fn                                                        \
         : (gpy_real_resolve(), gpy_real.fn))

/* gpy_patch_may_park tells whether an interposed call may take the
 * cooperative path: the caller is a goroutine on the scheduler thread (not
 * the scheduler itself polling in libev) and does not hold the GIL
 * (park.c). */
int gpy_patch_may_park_from(const void *caller);
/* Every interposer asks with its own return address: a call made from
 * outside the gpython executable (an extension module, libsqlite3,
 * libssl) keeps its goroutine on its OS thread while parked, because that
 * code may hold locks owned by the thread (recursive pthread mutexes,
 * rwlocks) or thread-local state across the call; calls from libpython
 * may resume on another OS thread (DESIGN.md, "Handoff"). */
#define gpy_patch_may_park()                                                  \
    gpy_patch_may_park_from(__builtin_return_address(0))
/* A _FORTIFY_SOURCE twin (__read_chk) passes its own caller on to the
 * interposer it calls. */
void gpy_patch_twin_caller(const void *caller);

/* GPY_HOMED(expr): the cooperative path of an interposer that returns -1
 * with errno on failure. A caller may keep &errno across the call (GCC
 * treats __errno_location as const: libpython's _Py_read does), so a
 * failure returns on the OS thread the call was made on, with its errno;
 * a success may return anywhere (errno is unspecified after one). */
#define GPY_HOMED(expr)                                                       \
    __extension__({                                                           \
        void *home_ = gpy_sched_m();                                          \
        __typeof__(expr) r_ = (expr);                                         \
        if (r_ < 0) {                                                         \
            gpy_sched_return_home(home_);                                     \
        }                                                                     \
        r_;                                                                   \
    })

/* gpy_patch_in_signal_handler tells whether the calling thread is running a
 * signal handler through signal.c's wrapper (or a held-back Python handler
 * from the scheduler): no interposed call made there may park.
 * gpy_patch_handler_depth(+1/-1) brackets such a handler (park.c, so that
 * the files asking do not depend on signal.c). Async-signal-safe. */
int gpy_patch_in_signal_handler(void);
void gpy_patch_handler_depth(int delta);

/* gpy_patch_releases_gil tells whether the calling thread does not hold the
 * GIL (the runtime's gil_released hook, which the binding answers). */
int gpy_patch_releases_gil(void);

/* gpy_patch_real_sigmask is the thread's own pthread_sigmask, whatever
 * the calling goroutine's mask (sigmask.c). */
int gpy_patch_real_sigmask(int how, const sigset_t *set, sigset_t *old);

/* gpy_patch_sem_init arranges for a forked child to forget the parent's
 * semaphore waiters (sem.c). Called by gpy_patches_init; idempotent. */
void gpy_patch_sem_init(void);

/* ---- waiting helpers (park.c) ---- */

/* gpy_patch_deadline_ms turns a poll-style timeout (ms, < 0 = none) into
 * an absolute CLOCK_MONOTONIC deadline in ns (-1 = none). */
int64_t gpy_patch_deadline_ms(int timeout_ms);

/* gpy_patch_deadline_rel turns a relative timespec (NULL = none) into an
 * absolute CLOCK_MONOTONIC deadline in ns (-1 = none). */
int64_t gpy_patch_deadline_rel(const struct timespec *ts);

/* gpy_patch_deadline_abs turns an absolute time on clock into a
 * CLOCK_MONOTONIC deadline in ns. */
int64_t gpy_patch_deadline_abs(clockid_t clock, const struct timespec *ts);

/* gpy_patch_wait_fd parks until fd may be ready for events (GPY_READ,
 * GPY_WRITE) or the deadline passes. Returns 1 (maybe ready: the caller
 * retries the operation, which also reports a closed fd), 0 on timeout or
 * -EINTR. Never fails otherwise: if the runtime cannot watch fd it falls
 * back to sleeping briefly. */
int gpy_patch_wait_fd(int fd, int events, int64_t deadline_ns);

/* gpy_patch_wait_pollfds parks until one of the n pollfds may be ready for
 * its events, the deadline passes or an interrupt comes. Same returns as
 * gpy_patch_wait_fd. */
int gpy_patch_wait_pollfds(const struct pollfd *fds, nfds_t n,
                           int64_t deadline_ns);

/* gpy_patch_nonblocking tells whether fd's file description has
 * O_NONBLOCK set (then the real call never blocks). errno is preserved. */
int gpy_patch_nonblocking(int fd);

/* gpy_patch_poll1 polls fd for events without blocking: > 0 ready (or an
 * error condition the real call will report), 0 not ready, -1 with errno
 * (EINTR). */
int gpy_patch_poll1(int fd, short events);

/* ---- socket engines (socket.c), also used by read/write on sockets ---- */

/* Each behaves like the real call on a blocking or non-blocking socket,
 * with flags honoured (MSG_DONTWAIT, MSG_WAITALL), SO_RCVTIMEO/SO_SNDTIMEO
 * giving EAGAIN, and a send on a blocking stream socket sending everything
 * (a short count only when interrupted or timed out after some progress).
 * They park instead of blocking; callers check gpy_patch_may_park first. */
ssize_t gpy_patch_sock_recvfrom(int fd, void *buf, size_t n, int flags,
                                struct sockaddr *addr, socklen_t *alen);
ssize_t gpy_patch_sock_recvmsg(int fd, struct msghdr *msg, int flags);
ssize_t gpy_patch_sock_sendto(int fd, const void *buf, size_t n, int flags,
                              const struct sockaddr *addr, socklen_t alen);
ssize_t gpy_patch_sock_sendmsg(int fd, const struct msghdr *msg, int flags);

#endif

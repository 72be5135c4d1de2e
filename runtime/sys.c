/* sys.c: the runtime's own system calls, made raw: the executable's
 * interposers (patches/) would otherwise take the runtime's close, poll,
 * nanosleep, waitid, write and sigaction for a goroutine's, and call back
 * into it. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "internal.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

/* glibc's syscall() returns -1 with errno set, as the libc calls do. */

int
gpy__sys_open(const char *path, int flags)
{
    return (int)syscall(SYS_openat, AT_FDCWD, path, flags, 0);
}

int
gpy__sys_close(int fd)
{
    return (int)syscall(SYS_close, fd);
}

ssize_t
gpy__sys_write(int fd, const void *buf, size_t n)
{
    return (ssize_t)syscall(SYS_write, fd, buf, n);
}

int
gpy__sys_poll(struct pollfd *fds, nfds_t n, int timeout_ms)
{
    struct timespec ts, *tp = NULL;
    if (timeout_ms >= 0) {
        ts.tv_sec = timeout_ms / 1000;
        ts.tv_nsec = (long)(timeout_ms % 1000) * 1000000;
        tp = &ts;
    }
    return (int)syscall(SYS_ppoll, fds, n, tp, NULL, (size_t)8);
}

int
gpy__sys_sleep(const struct timespec *req, struct timespec *rem)
{
    return (int)syscall(SYS_clock_nanosleep, CLOCK_MONOTONIC, 0, req, rem);
}

int
gpy__sys_sigaction(int sig, const struct sigaction *act, struct sigaction *old)
{
    /* libc's own, past the executable's interposer: a raw rt_sigaction
     * would need libc's signal-return trampoline. */
    static int (*real)(int, const struct sigaction *, struct sigaction *);
    if (!real) {
        *(void **)&real = dlsym(RTLD_NEXT, "sigaction");
        if (!real) {
            errno = ENOSYS;
            return -1;
        }
    }
    return real(sig, act, old);
}

int
gpy__sys_waitid(idtype_t type, id_t id, siginfo_t *si, int options)
{
    return (int)syscall(SYS_waitid, type, id, si, options, NULL);
}

int
gpy__sys_futex_wait(int *addr, int val)
{
    return (int)syscall(SYS_futex, addr, FUTEX_WAIT_PRIVATE, val, NULL, NULL,
                        0);
}

int
gpy__sys_futex_wake(int *addr, int n)
{
    return (int)syscall(SYS_futex, addr, FUTEX_WAKE_PRIVATE, n, NULL, NULL, 0);
}

int *
gpy__errno_location(void)
{
    return __errno_location();
}

/* fdio.c: cooperative read/write/readv/writev on pipes, ttys and sockets
 * (regular files pass through: they never block on readiness), close/
 * dup2/dup3, which wake goroutines waiting on the fd being replaced, and
 * flock, whose contended wait goes to the thread pool. */
#include "internal.h"

#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>

/* fd_kind sorts an fd by how writes to it can block. */
enum { KIND_FILE, KIND_SOCK, KIND_STREAM };

static int
fd_kind(int fd)
{
    struct stat st;
    int saved = errno;
    if (fstat(fd, &st) < 0) {
        errno = saved;
        return KIND_FILE; /* let the real call report the error */
    }
    if (S_ISREG(st.st_mode) || S_ISBLK(st.st_mode) || S_ISDIR(st.st_mode)) {
        return KIND_FILE;
    }
    if (S_ISSOCK(st.st_mode)) {
        return KIND_SOCK;
    }
    return KIND_STREAM; /* pipes, ttys, char devices, eventfds, ... */
}

/* wont_block tells whether the real call in direction dir (GPY_READ,
 * GPY_WRITE) returns at once whatever the fd's readiness: the description
 * is non-blocking, or the call fails outright (EBADF: a bad fd, a read of
 * a write-only end, an O_PATH fd) where a readiness wait would never end. */
static int
wont_block(int fd, int dir)
{
    int saved = errno;
    int fl = fcntl(fd, F_GETFL);
    errno = saved;
    if (fl < 0 || (fl & (O_NONBLOCK | O_PATH))) {
        return 1;
    }
    int acc = fl & O_ACCMODE;
    return dir == GPY_READ ? acc == O_WRONLY : acc == O_RDONLY;
}

/* ---- reading ---- */

/* A read after poll() reported the fd readable returns what is there
 * without blocking. On one OS thread no other goroutine can drain the fd
 * between the poll and the read; another process reading the same pipe or
 * tty can, and then the real read blocks until more data comes. */

/* coop_readv reads into iov (cnt segments); from read() it gets the one
 * segment `one`, and read() is what reaches the kernel. */
static ssize_t
coop_readv(int fd, const struct iovec *iov, int cnt, const struct iovec *one)
{
    for (;;) {
        int r = gpy_patch_poll1(fd, POLLIN);
        if (r < 0 && errno == EINTR) {
            return -1;
        }
        if (r == 0 && fd_kind(fd) == KIND_SOCK && cnt >= 0) {
            /* Honours SO_RCVTIMEO like the real read would. */
            struct msghdr m;
            memset(&m, 0, sizeof(m));
            m.msg_iov = (struct iovec *)iov;
            m.msg_iovlen = (size_t)cnt;
            return gpy_patch_sock_recvmsg(fd, &m, 0);
        }
        if (r != 0 || wont_block(fd, GPY_READ)) {
            return iov == one ? GPY_REAL(read)(fd, one->iov_base, one->iov_len)
                              : GPY_REAL(readv)(fd, iov, cnt);
        }
        if (gpy_patch_wait_fd(fd, GPY_READ, -1) == -EINTR) {
            errno = EINTR;
            return -1;
        }
    }
}

GPY_EXPORT ssize_t
read(int fd, void *buf, size_t n)
{
    if (n == 0 || !gpy_patch_may_park()) {
        return GPY_REAL(read)(fd, buf, n);
    }
    struct iovec one = {buf, n};
    return GPY_HOMED(coop_readv(fd, &one, 1, &one));
}

GPY_EXPORT ssize_t
readv(int fd, const struct iovec *iov, int cnt)
{
    if (!gpy_patch_may_park()) {
        return GPY_REAL(readv)(fd, iov, cnt);
    }
    return GPY_HOMED(coop_readv(fd, iov, cnt, NULL));
}

extern void __chk_fail(void) __attribute__((noreturn));

GPY_EXPORT ssize_t
__read_chk(int fd, void *buf, size_t n, size_t buflen)
{
    if (n > buflen) {
        __chk_fail();
    }
    gpy_patch_twin_caller(__builtin_return_address(0));
    return read(fd, buf, n);
}

/* ---- writing ---- */

/* A blocking write to a pipe or tty writes everything before it returns,
 * and once poll() reports POLLOUT the kernel has room for at least PIPE_BUF
 * bytes. So write in PIPE_BUF pieces, parking for POLLOUT in between, and
 * return the whole count (a short one only if interrupted after progress).
 * Writes of at most PIPE_BUF bytes stay atomic. */
static ssize_t
stream_write(int fd, const char *buf, size_t n)
{
    if (n > PIPE_BUF && wont_block(fd, GPY_WRITE)) {
        return GPY_REAL(write)(fd, buf, n);
    }
    size_t done = 0;
    int checked = n > PIPE_BUF;
    for (;;) {
        int r = gpy_patch_poll1(fd, POLLOUT);
        if (r < 0 && errno == EINTR) {
            return done ? (ssize_t)done : -1;
        }
        if (r != 0) {
            size_t chunk = n - done;
            if (chunk > PIPE_BUF) {
                chunk = PIPE_BUF;
            }
            ssize_t w = GPY_REAL(write)(fd, buf + done, chunk);
            if (w < 0) {
                return done ? (ssize_t)done : -1;
            }
            done += (size_t)w;
            if (done >= n) {
                return (ssize_t)done;
            }
            continue;
        }
        if (!checked) {
            checked = 1;
            if (wont_block(fd, GPY_WRITE)) {
                return GPY_REAL(write)(fd, buf, n);
            }
        }
        if (gpy_patch_wait_fd(fd, GPY_WRITE, -1) == -EINTR) {
            if (done) {
                return (ssize_t)done;
            }
            errno = EINTR;
            return -1;
        }
    }
}

GPY_EXPORT ssize_t
write(int fd, const void *buf, size_t n)
{
    if (n == 0 || !gpy_patch_may_park()) {
        return GPY_REAL(write)(fd, buf, n);
    }
    switch (fd_kind(fd)) {
    case KIND_SOCK:
        return GPY_HOMED(gpy_patch_sock_sendto(fd, buf, n, 0, NULL, 0));
    case KIND_STREAM:
        return GPY_HOMED(stream_write(fd, buf, n));
    default:
        return GPY_REAL(write)(fd, buf, n);
    }
}

/* writev on a pipe or tty: the same piecewise plan, over the iovecs. */
static ssize_t
stream_writev(int fd, const struct iovec *iov, int cnt)
{
    size_t total = 0;
    for (int i = 0; i < cnt; i++) {
        total += iov[i].iov_len;
    }
    if (total <= PIPE_BUF) {
        for (;;) {
            int r = gpy_patch_poll1(fd, POLLOUT);
            if (r < 0 && errno == EINTR) {
                return -1;
            }
            if (r != 0 || wont_block(fd, GPY_WRITE)) {
                return GPY_REAL(writev)(fd, iov, cnt);
            }
            if (gpy_patch_wait_fd(fd, GPY_WRITE, -1) == -EINTR) {
                errno = EINTR;
                return -1;
            }
        }
    }
    if (wont_block(fd, GPY_WRITE)) {
        return GPY_REAL(writev)(fd, iov, cnt);
    }
    size_t done = 0;
    for (int i = 0; i < cnt; i++) {
        if (iov[i].iov_len == 0) {
            continue;
        }
        ssize_t w = stream_write(fd, iov[i].iov_base, iov[i].iov_len);
        if (w < 0) {
            return done ? (ssize_t)done : -1;
        }
        done += (size_t)w;
        if ((size_t)w < iov[i].iov_len) {
            break;
        }
    }
    return (ssize_t)done;
}

GPY_EXPORT ssize_t
writev(int fd, const struct iovec *iov, int cnt)
{
    if (cnt <= 0 || cnt > IOV_MAX || !gpy_patch_may_park()) {
        return GPY_REAL(writev)(fd, iov, cnt);
    }
    switch (fd_kind(fd)) {
    case KIND_SOCK: {
        struct msghdr m;
        memset(&m, 0, sizeof(m));
        m.msg_iov = (struct iovec *)iov;
        m.msg_iovlen = (size_t)cnt;
        return GPY_HOMED(gpy_patch_sock_sendmsg(fd, &m, 0));
    }
    case KIND_STREAM:
        return GPY_HOMED(stream_writev(fd, iov, cnt));
    default:
        return GPY_REAL(writev)(fd, iov, cnt);
    }
}

/* ---- closing ---- */

/* Goroutines parked on an fd must learn it is going away before its number
 * can be reused. Only callers that may park notify the runtime: with the
 * GIL held we may be in the child of _posixsubprocess's vfork(), which
 * shares our memory and must not touch the scheduler. */

GPY_EXPORT int
close(int fd)
{
    if (gpy_patch_may_park()) {
        gpy_fd_closing(fd);
    }
    return GPY_REAL(close)(fd);
}

GPY_EXPORT int
dup2(int oldfd, int newfd)
{
    if (oldfd != newfd && gpy_patch_may_park()) {
        gpy_fd_closing(newfd);
    }
    return GPY_REAL(dup2)(oldfd, newfd);
}

GPY_EXPORT int
dup3(int oldfd, int newfd, int flags)
{
    if (oldfd != newfd && gpy_patch_may_park()) {
        gpy_fd_closing(newfd);
    }
    return GPY_REAL(dup3)(oldfd, newfd, flags);
}

/* A blocking flock waits for another process; the lock belongs to the
 * open file description, not the thread, so a pool thread may take it. */
typedef struct flock_call {
    int fd, op;
    int ret, err;
} flock_call;

static void
flock_run(void *p)
{
    flock_call *c = p;
    c->ret = GPY_REAL(flock)(c->fd, c->op);
    c->err = errno;
}

GPY_EXPORT int
flock(int fd, int op)
{
    if ((op & LOCK_NB) || (op & LOCK_UN) || !gpy_patch_may_park()) {
        return GPY_REAL(flock)(fd, op);
    }
    /* Try first: the common uncontended case needs no thread hop. */
    int saved = errno;
    if (GPY_REAL(flock)(fd, op | LOCK_NB) == 0) {
        return 0;
    }
    if (errno != EWOULDBLOCK) {
        return -1;
    }
    errno = saved;
    flock_call c = {fd, op, 0, 0};
    void *home = gpy_sched_m();
    gpy_offload(flock_run, &c);
    if (c.ret < 0) {
        gpy_sched_return_home(home);
    }
    errno = c.err;
    return c.ret;
}

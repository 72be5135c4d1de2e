/* socket.c: cooperative sockets — recv*, send*, accept*, connect and
 * sendfile park the calling goroutine instead of blocking the OS thread,
 * without changing the socket's user-visible O_NONBLOCK flag. */
#include "internal.h"

#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/stat.h>

/* Partial-transfer continuations keep up to this many iovecs on the stack. */
#define IOV_STACK 64

/* How blocking calls on one socket wait, learnt on the first EAGAIN. */
typedef struct sockwait {
    int checked;      /* nonblock and deadline are known */
    int nonblock;     /* O_NONBLOCK: the real call would not block */
    int64_t deadline; /* SO_RCVTIMEO/SO_SNDTIMEO as a deadline, -1 none */
} sockwait;

static int
sw_nonblock(int fd, int dir, sockwait *sw)
{
    if (!sw->checked) {
        int saved = errno;
        sw->checked = 1;
        sw->nonblock = gpy_patch_nonblocking(fd);
        sw->deadline = -1;
        if (!sw->nonblock) {
            struct timeval tv;
            socklen_t len = sizeof(tv);
            int opt = dir == GPY_READ ? SO_RCVTIMEO : SO_SNDTIMEO;
            if (getsockopt(fd, SOL_SOCKET, opt, &tv, &len) == 0 &&
                (tv.tv_sec > 0 || tv.tv_usec > 0)) {
                sw->deadline = gpy_now_ns() + (int64_t)tv.tv_sec * 1000000000 +
                               (int64_t)tv.tv_usec * 1000;
            }
        }
        errno = saved;
    }
    return sw->nonblock;
}

/* sock_block is called when an operation tried with MSG_DONTWAIT found
 * nothing to do. Returns 1 to try again, or 0 with errno set for the
 * caller to fail with: EAGAIN (non-blocking socket, SO_*TIMEO expired) or
 * EINTR. */
static int
sock_block(int fd, int dir, sockwait *sw)
{
    if (sw_nonblock(fd, dir, sw)) {
        errno = EAGAIN;
        return 0;
    }
    int r = gpy_patch_wait_fd(fd, dir, sw->deadline);
    if (r == -EINTR) {
        errno = EINTR;
        return 0;
    }
    if (r == 0) {
        errno = EAGAIN;
        return 0;
    }
    return 1;
}

static int
is_stream(int fd)
{
    int saved = errno;
    int type = 0;
    socklen_t len = sizeof(type);
    int r = getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len);
    errno = saved;
    return r == 0 && type == SOCK_STREAM;
}

static int
would_block(void)
{
    return errno == EAGAIN || errno == EWOULDBLOCK;
}

static size_t
iov_total(const struct iovec *iov, size_t cnt)
{
    size_t n = 0;
    for (size_t i = 0; i < cnt; i++) {
        n += iov[i].iov_len;
    }
    return n;
}

/* iov_advance stores in out the part of iov[0..cnt) after its first skip
 * bytes and returns how many entries that takes (out holds cnt). */
static size_t
iov_advance(const struct iovec *iov, size_t cnt, size_t skip,
            struct iovec *out)
{
    size_t k = 0;
    for (size_t i = 0; i < cnt; i++) {
        if (skip >= iov[i].iov_len) {
            skip -= iov[i].iov_len;
            continue;
        }
        out[k].iov_base = (char *)iov[i].iov_base + skip;
        out[k].iov_len = iov[i].iov_len - skip;
        skip = 0;
        k++;
    }
    return k;
}

/* ---- receiving ---- */

ssize_t
gpy_patch_sock_recvfrom(int fd, void *buf, size_t n, int flags,
                        struct sockaddr *addr, socklen_t *alen)
{
    if (flags & MSG_DONTWAIT) {
        return GPY_REAL(recvfrom)(fd, buf, n, flags, addr, alen);
    }
    sockwait sw = {0, 0, -1};
    size_t got = 0;
    int stream = -1;
    for (;;) {
        ssize_t r = GPY_REAL(recvfrom)(fd, (char *)buf + got, n - got,
                                       flags | MSG_DONTWAIT, addr, alen);
        if (r > 0 && (flags & MSG_WAITALL) && !(flags & MSG_PEEK)) {
            /* MSG_WAITALL on a stream: keep reading until n bytes, EOF or
             * an error; with MSG_DONTWAIT the kernel returns what it has. */
            got += (size_t)r;
            if (got >= n) {
                return (ssize_t)got;
            }
            if (stream < 0) {
                stream = is_stream(fd);
            }
            if (!stream) {
                return (ssize_t)got;
            }
            continue;
        }
        if (r >= 0) {
            return (ssize_t)got + r;
        }
        if (!would_block() || !sock_block(fd, GPY_READ, &sw)) {
            return got ? (ssize_t)got : -1;
        }
    }
}

ssize_t
gpy_patch_sock_recvmsg(int fd, struct msghdr *msg, int flags)
{
    if (flags & MSG_DONTWAIT) {
        return GPY_REAL(recvmsg)(fd, msg, flags);
    }
    sockwait sw = {0, 0, -1};
    ssize_t r;
    for (;;) {
        r = GPY_REAL(recvmsg)(fd, msg, flags | MSG_DONTWAIT);
        if (r >= 0) {
            break;
        }
        if (!would_block() || !sock_block(fd, GPY_READ, &sw)) {
            return -1;
        }
    }
    size_t total = iov_total(msg->msg_iov, msg->msg_iovlen);
    if (!(flags & MSG_WAITALL) || (flags & MSG_PEEK) || r == 0 ||
        (size_t)r >= total || !is_stream(fd)) {
        return r;
    }
    /* MSG_WAITALL on a stream: fill the rest of the buffers. Ancillary
     * data and the address came with the first part. */
    size_t got = (size_t)r;
    struct iovec small[IOV_STACK];
    struct iovec *rest = small;
    if (msg->msg_iovlen > IOV_STACK) {
        rest = malloc(msg->msg_iovlen * sizeof(*rest));
        if (!rest) {
            return (ssize_t)got;
        }
    }
    while (got < total) {
        struct msghdr m;
        memset(&m, 0, sizeof(m));
        m.msg_iov = rest;
        m.msg_iovlen = iov_advance(msg->msg_iov, msg->msg_iovlen, got, rest);
        r = GPY_REAL(recvmsg)(fd, &m, flags | MSG_DONTWAIT);
        if (r > 0) {
            got += (size_t)r;
            continue;
        }
        if (r == 0 || !would_block() || !sock_block(fd, GPY_READ, &sw)) {
            break;
        }
    }
    if (rest != small) {
        int saved = errno;
        free(rest);
        errno = saved;
    }
    return (ssize_t)got;
}

/* ---- sending ---- */

ssize_t
gpy_patch_sock_sendto(int fd, const void *buf, size_t n, int flags,
                      const struct sockaddr *addr, socklen_t alen)
{
    if (flags & MSG_DONTWAIT) {
        return GPY_REAL(sendto)(fd, buf, n, flags, addr, alen);
    }
    sockwait sw = {0, 0, -1};
    size_t done = 0;
    for (;;) {
        ssize_t r = GPY_REAL(sendto)(fd, (const char *)buf + done, n - done,
                                     flags | MSG_DONTWAIT, addr, alen);
        if (r >= 0) {
            done += (size_t)r;
            /* A blocking stream socket sends everything before it
             * returns; a non-blocking one returns the short count. */
            if (done >= n || sw_nonblock(fd, GPY_WRITE, &sw)) {
                return (ssize_t)done;
            }
            continue;
        }
        if (!would_block() || !sock_block(fd, GPY_WRITE, &sw)) {
            return done ? (ssize_t)done : -1;
        }
    }
}

ssize_t
gpy_patch_sock_sendmsg(int fd, const struct msghdr *msg, int flags)
{
    if (flags & MSG_DONTWAIT) {
        return GPY_REAL(sendmsg)(fd, msg, flags);
    }
    sockwait sw = {0, 0, -1};
    size_t total = iov_total(msg->msg_iov, msg->msg_iovlen);
    size_t done = 0;
    struct msghdr m = *msg;
    struct iovec small[IOV_STACK];
    struct iovec *rest = NULL;
    ssize_t ret;
    for (;;) {
        ssize_t r = GPY_REAL(sendmsg)(fd, &m, flags | MSG_DONTWAIT);
        if (r >= 0) {
            done += (size_t)r;
            if (done >= total || sw_nonblock(fd, GPY_WRITE, &sw)) {
                ret = (ssize_t)done;
                break;
            }
            if (r > 0) {
                /* Continue after what was sent; the ancillary data went
                 * with the first part. */
                if (!rest) {
                    rest = msg->msg_iovlen <= IOV_STACK
                               ? small
                               : malloc(msg->msg_iovlen * sizeof(*rest));
                    if (!rest) {
                        ret = (ssize_t)done;
                        break;
                    }
                }
                m.msg_iovlen =
                    iov_advance(msg->msg_iov, msg->msg_iovlen, done, rest);
                m.msg_iov = rest;
                m.msg_control = NULL;
                m.msg_controllen = 0;
            }
            continue;
        }
        if (!would_block() || !sock_block(fd, GPY_WRITE, &sw)) {
            ret = done ? (ssize_t)done : -1;
            break;
        }
    }
    if (rest && rest != small) {
        int saved = errno;
        free(rest);
        errno = saved;
    }
    return ret;
}

/* ---- the interposed socket calls ---- */

GPY_EXPORT ssize_t
recv(int fd, void *buf, size_t n, int flags)
{
    if (!gpy_patch_may_park()) {
        return GPY_REAL(recv)(fd, buf, n, flags);
    }
    return GPY_HOMED(gpy_patch_sock_recvfrom(fd, buf, n, flags, NULL, NULL));
}

GPY_EXPORT ssize_t
recvfrom(int fd, void *restrict buf, size_t n, int flags, __SOCKADDR_ARG addr,
         socklen_t *restrict alen)
{
    if (!gpy_patch_may_park()) {
        return GPY_REAL(recvfrom)(fd, buf, n, flags, addr.__sockaddr__, alen);
    }
    return GPY_HOMED(
        gpy_patch_sock_recvfrom(fd, buf, n, flags, addr.__sockaddr__, alen));
}

GPY_EXPORT ssize_t
recvmsg(int fd, struct msghdr *msg, int flags)
{
    if (!gpy_patch_may_park()) {
        return GPY_REAL(recvmsg)(fd, msg, flags);
    }
    return GPY_HOMED(gpy_patch_sock_recvmsg(fd, msg, flags));
}

GPY_EXPORT ssize_t
send(int fd, const void *buf, size_t n, int flags)
{
    if (!gpy_patch_may_park()) {
        return GPY_REAL(send)(fd, buf, n, flags);
    }
    return GPY_HOMED(gpy_patch_sock_sendto(fd, buf, n, flags, NULL, 0));
}

GPY_EXPORT ssize_t
sendto(int fd, const void *buf, size_t n, int flags, __CONST_SOCKADDR_ARG addr,
       socklen_t alen)
{
    if (!gpy_patch_may_park()) {
        return GPY_REAL(sendto)(fd, buf, n, flags, addr.__sockaddr__, alen);
    }
    return GPY_HOMED(
        gpy_patch_sock_sendto(fd, buf, n, flags, addr.__sockaddr__, alen));
}

GPY_EXPORT ssize_t
sendmsg(int fd, const struct msghdr *msg, int flags)
{
    if (!gpy_patch_may_park()) {
        return GPY_REAL(sendmsg)(fd, msg, flags);
    }
    return GPY_HOMED(gpy_patch_sock_sendmsg(fd, msg, flags));
}

/* accept cannot be asked not to block. Poll first, then accept: on one OS
 * thread nobody else in this process can take the connection in between
 * (another goroutine blocked on the same listener re-polls when it runs).
 * Another process sharing the listener still can; then the real accept
 * blocks until the next connection. */
/* listening tells whether fd is a listening socket: accept on anything
 * else fails at once (EINVAL, ENOTSOCK, EOPNOTSUPP), which a readiness wait
 * would never see for, e.g., an unconnected AF_UNIX socket. */
static int
listening(int fd)
{
    int saved = errno;
    int on = 0;
    socklen_t len = sizeof(on);
    int r = getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &on, &len);
    errno = saved;
    return r == 0 && on;
}

static int
coop_accept(int fd, struct sockaddr *addr, socklen_t *alen, int flags,
            int four)
{
    sockwait sw = {0, 0, -1};
    for (;;) {
        int r = gpy_patch_poll1(fd, POLLIN);
        if (r < 0 && errno == EINTR) {
            return -1;
        }
        if (r != 0 || sw_nonblock(fd, GPY_READ, &sw) || !listening(fd)) {
            return four ? GPY_REAL(accept4)(fd, addr, alen, flags)
                        : GPY_REAL(accept)(fd, addr, alen);
        }
        if (!sock_block(fd, GPY_READ, &sw)) {
            return -1;
        }
    }
}

GPY_EXPORT int
accept(int fd, __SOCKADDR_ARG addr, socklen_t *restrict alen)
{
    if (!gpy_patch_may_park()) {
        return GPY_REAL(accept)(fd, addr.__sockaddr__, alen);
    }
    return GPY_HOMED(coop_accept(fd, addr.__sockaddr__, alen, 0, 0));
}

GPY_EXPORT int
accept4(int fd, __SOCKADDR_ARG addr, socklen_t *restrict alen, int flags)
{
    if (!gpy_patch_may_park()) {
        return GPY_REAL(accept4)(fd, addr.__sockaddr__, alen, flags);
    }
    return GPY_HOMED(coop_accept(fd, addr.__sockaddr__, alen, flags, 1));
}

/* connect has no per-call "don't block" either: on a blocking socket, set
 * O_NONBLOCK just around each real connect (nothing else runs on this
 * thread meanwhile) and park until the socket is writable. The attempt is
 * then finished by connect itself, not SO_ERROR, so the socket ends in
 * the state a blocking connect leaves (a second connect after a refusal
 * starts afresh, as in python3). */
static int
nb_connect(int fd, int fl, const struct sockaddr *addr, socklen_t alen)
{
    if (fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0) {
        return GPY_REAL(connect)(fd, addr, alen);
    }
    int r = GPY_REAL(connect)(fd, addr, alen);
    int err = errno;
    fcntl(fd, F_SETFL, fl);
    errno = err;
    return r;
}

static int
coop_connect(int fd, const struct sockaddr *addr, socklen_t alen)
{
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0 || (fl & O_NONBLOCK)) {
        return GPY_REAL(connect)(fd, addr, alen);
    }
    int64_t backoff = 1000000;
    for (;;) {
        if (nb_connect(fd, fl, addr, alen) == 0) {
            return 0;
        }
        if (errno == EAGAIN && addr && addr->sa_family == AF_UNIX) {
            /* The listener's backlog is full; a blocking connect would
             * wait for room, which no fd event announces. */
            if (gpy_sleep_ns(backoff) == -EINTR) {
                errno = EINTR;
                return -1;
            }
            if (backoff < 50000000) {
                backoff *= 2;
            }
            continue;
        }
        break;
    }
    if (errno != EINPROGRESS) {
        return -1;
    }
    sockwait sw = {0, 0, -1};
    sw_nonblock(fd, GPY_WRITE, &sw);
    for (;;) {
        int w = gpy_patch_wait_fd(fd, GPY_WRITE, sw.deadline);
        if (w == -EINTR) {
            /* As a blocking connect interrupted by a signal: the
             * connection goes on in the background. */
            errno = EINTR;
            return -1;
        }
        if (w == 0) {
            /* SO_SNDTIMEO expired: Linux says EINPROGRESS. */
            errno = EINPROGRESS;
            return -1;
        }
        if (nb_connect(fd, fl, addr, alen) == 0 || errno == EISCONN) {
            return 0;
        }
        if (errno != EALREADY && errno != EINPROGRESS) {
            return -1;
        }
    }
}

GPY_EXPORT int
connect(int fd, __CONST_SOCKADDR_ARG addr, socklen_t alen)
{
    if (!gpy_patch_may_park()) {
        return GPY_REAL(connect)(fd, addr.__sockaddr__, alen);
    }
    return GPY_HOMED(coop_connect(fd, addr.__sockaddr__, alen));
}

/* sendfile into a blocking socket or pipe: like connect, O_NONBLOCK is set
 * only around each real call, and a blocking sendfile's "transfer it all"
 * is kept by looping. */
static ssize_t
coop_sendfile(int out, int in, off_t *off, size_t count)
{
    struct stat st;
    if (fstat(out, &st) < 0 || S_ISREG(st.st_mode) || S_ISBLK(st.st_mode)) {
        return GPY_REAL(sendfile)(out, in, off, count);
    }
    int fl = fcntl(out, F_GETFL);
    if (fl < 0 || (fl & O_NONBLOCK)) {
        return GPY_REAL(sendfile)(out, in, off, count);
    }
    sockwait sw = {0, 0, -1};
    size_t done = 0;
    while (done < count) {
        if (fcntl(out, F_SETFL, fl | O_NONBLOCK) < 0) {
            ssize_t r = GPY_REAL(sendfile)(out, in, off, count - done);
            return r < 0 ? (done ? (ssize_t)done : -1) : (ssize_t)(done + r);
        }
        ssize_t r = GPY_REAL(sendfile)(out, in, off, count - done);
        int err = errno;
        fcntl(out, F_SETFL, fl);
        if (r > 0) {
            done += (size_t)r;
            continue;
        }
        if (r == 0) {
            break;
        }
        if (err != EAGAIN) {
            errno = err;
            return done ? (ssize_t)done : -1;
        }
        int w;
        if (S_ISSOCK(st.st_mode)) {
            w = sock_block(out, GPY_WRITE, &sw);
        } else {
            w = gpy_patch_wait_fd(out, GPY_WRITE, -1);
            if (w == -EINTR) {
                errno = EINTR;
                w = 0;
            }
        }
        if (w <= 0) {
            return done ? (ssize_t)done : -1;
        }
    }
    return (ssize_t)done;
}

GPY_EXPORT ssize_t
sendfile(int out, int in, off_t *off, size_t count)
{
    if (!gpy_patch_may_park()) {
        return GPY_REAL(sendfile)(out, in, off, count);
    }
    return GPY_HOMED(coop_sendfile(out, in, off, count));
}

/* On 64-bit glibc sendfile64 is the same function (libpython imports this
 * name, OpenSSL the other). */
GPY_EXPORT ssize_t
sendfile64(int out, int in, off64_t *off, size_t count)
{
    return sendfile(out, in, (off_t *)off, count);
}

/* ---- _FORTIFY_SOURCE twins ---- */

extern void __chk_fail(void) __attribute__((noreturn));

GPY_EXPORT ssize_t
__recv_chk(int fd, void *buf, size_t n, size_t buflen, int flags)
{
    if (n > buflen) {
        __chk_fail();
    }
    gpy_patch_twin_caller(__builtin_return_address(0));
    return recv(fd, buf, n, flags);
}

GPY_EXPORT ssize_t
__recvfrom_chk(int fd, void *restrict buf, size_t n, size_t buflen, int flags,
               __SOCKADDR_ARG addr, socklen_t *restrict alen)
{
    if (n > buflen) {
        __chk_fail();
    }
    gpy_patch_twin_caller(__builtin_return_address(0));
    return recvfrom(fd, buf, n, flags, addr, alen);
}

/* netdb.c: name resolution (getaddrinfo, getnameinfo, gethostby*_r), which
 * has no non-blocking form: offloaded to the runtime's thread pool while
 * the calling goroutine parks. */
#include "internal.h"

/* Each call's arguments and results live on the parked goroutine's stack;
 * errno is per thread, so the pool thread's errno is carried back. */

typedef struct gai_call {
    const char *node, *service;
    const struct addrinfo *hints;
    struct addrinfo **res;
    int ret, err;
} gai_call;

static void
gai_run(void *p)
{
    gai_call *c = p;
    c->ret = GPY_REAL(getaddrinfo)(c->node, c->service, c->hints, c->res);
    c->err = errno;
}

GPY_EXPORT int
getaddrinfo(const char *restrict node, const char *restrict service,
            const struct addrinfo *restrict hints,
            struct addrinfo **restrict res)
{
    if (!gpy_patch_may_park()) {
        return GPY_REAL(getaddrinfo)(node, service, hints, res);
    }
    gai_call c = {node, service, hints, res, 0, 0};
    gpy_offload(gai_run, &c);
    errno = c.err;
    return c.ret;
}

typedef struct gni_call {
    const struct sockaddr *sa;
    socklen_t salen;
    char *host;
    socklen_t hostlen;
    char *serv;
    socklen_t servlen;
    int flags;
    int ret, err;
} gni_call;

static void
gni_run(void *p)
{
    gni_call *c = p;
    c->ret = GPY_REAL(getnameinfo)(c->sa, c->salen, c->host, c->hostlen,
                                   c->serv, c->servlen, c->flags);
    c->err = errno;
}

GPY_EXPORT int
getnameinfo(const struct sockaddr *restrict sa, socklen_t salen,
            char *restrict host, socklen_t hostlen, char *restrict serv,
            socklen_t servlen, int flags)
{
    if (!gpy_patch_may_park()) {
        return GPY_REAL(getnameinfo)(sa, salen, host, hostlen, serv, servlen,
                                     flags);
    }
    gni_call c = {sa, salen, host, hostlen, serv, servlen, flags, 0, 0};
    gpy_offload(gni_run, &c);
    errno = c.err;
    return c.ret;
}

/* gethostbyname_r, gethostbyname2_r and gethostbyaddr_r share one record:
 * which = 0, 1, 2. h_errno comes back through h_errnop. */
typedef struct ghb_call {
    int which;
    const char *name;
    const void *addr;
    socklen_t len;
    int af;
    struct hostent *ret;
    char *buf;
    size_t buflen;
    struct hostent **result;
    int *h_errnop;
    int rc, err;
} ghb_call;

static void
ghb_run(void *p)
{
    ghb_call *c = p;
    switch (c->which) {
    case 0:
        c->rc = GPY_REAL(gethostbyname_r)(c->name, c->ret, c->buf, c->buflen,
                                          c->result, c->h_errnop);
        break;
    case 1:
        c->rc = GPY_REAL(gethostbyname2_r)(c->name, c->af, c->ret, c->buf,
                                           c->buflen, c->result, c->h_errnop);
        break;
    default:
        c->rc =
            GPY_REAL(gethostbyaddr_r)(c->addr, c->len, c->af, c->ret, c->buf,
                                      c->buflen, c->result, c->h_errnop);
        break;
    }
    c->err = errno;
}

static int
ghb_offload(ghb_call *c)
{
    gpy_offload(ghb_run, c);
    errno = c->err;
    return c->rc;
}

GPY_EXPORT int
gethostbyname_r(const char *restrict name, struct hostent *restrict ret,
                char *restrict buf, size_t buflen,
                struct hostent **restrict result, int *restrict h_errnop)
{
    if (!gpy_patch_may_park()) {
        return GPY_REAL(gethostbyname_r)(name, ret, buf, buflen, result,
                                         h_errnop);
    }
    ghb_call c = {0,   name,   NULL,   0,        0, ret,
                  buf, buflen, result, h_errnop, 0, 0};
    return ghb_offload(&c);
}

GPY_EXPORT int
gethostbyname2_r(const char *restrict name, int af,
                 struct hostent *restrict ret, char *restrict buf,
                 size_t buflen, struct hostent **restrict result,
                 int *restrict h_errnop)
{
    if (!gpy_patch_may_park()) {
        return GPY_REAL(gethostbyname2_r)(name, af, ret, buf, buflen, result,
                                          h_errnop);
    }
    ghb_call c = {1,   name,   NULL,   0,        af, ret,
                  buf, buflen, result, h_errnop, 0,  0};
    return ghb_offload(&c);
}

GPY_EXPORT int
gethostbyaddr_r(const void *restrict addr, socklen_t len, int af,
                struct hostent *restrict ret, char *restrict buf,
                size_t buflen, struct hostent **restrict result,
                int *restrict h_errnop)
{
    if (!gpy_patch_may_park()) {
        return GPY_REAL(gethostbyaddr_r)(addr, len, af, ret, buf, buflen,
                                         result, h_errnop);
    }
    ghb_call c = {2,   NULL,   addr,   len,      af, ret,
                  buf, buflen, result, h_errnop, 0,  0};
    return ghb_offload(&c);
}

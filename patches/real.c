/* real.c: finds the real libc functions behind the interposers with
 * dlsym(RTLD_NEXT), once, eagerly from gpy_patches_init or lazily from the
 * first interposed call. */
#include "internal.h"

#include <dlfcn.h>

gpy_real_fns gpy_real;
int gpy_real_ready;

static pthread_once_t resolve_once = PTHREAD_ONCE_INIT;

#define RESOLVE(fn) (*(void **)&gpy_real.fn = dlsym(RTLD_NEXT, #fn))

static void
resolve_all(void)
{
    /* dlsym may allocate (dlerror's buffer); malloc is not interposed, so
     * this cannot recurse into an interposer. */
    RESOLVE(read);
    RESOLVE(write);
    RESOLVE(readv);
    RESOLVE(writev);
    RESOLVE(close);
    RESOLVE(dup2);
    RESOLVE(dup3);
    RESOLVE(recv);
    RESOLVE(recvfrom);
    RESOLVE(recvmsg);
    RESOLVE(send);
    RESOLVE(sendto);
    RESOLVE(sendmsg);
    RESOLVE(accept);
    RESOLVE(accept4);
    RESOLVE(connect);
    RESOLVE(sendfile);
    RESOLVE(poll);
    RESOLVE(ppoll);
    RESOLVE(select);
    RESOLVE(pselect);
    RESOLVE(epoll_wait);
    RESOLVE(epoll_pwait);
    RESOLVE(epoll_pwait2);
    RESOLVE(nanosleep);
    RESOLVE(clock_nanosleep);
    RESOLVE(usleep);
    RESOLVE(sleep);
    RESOLVE(waitpid);
    RESOLVE(wait4);
    RESOLVE(waitid);
    RESOLVE(sem_wait);
    RESOLVE(sem_timedwait);
    RESOLVE(sem_clockwait);
    RESOLVE(sem_post);
    RESOLVE(getaddrinfo);
    RESOLVE(getnameinfo);
    RESOLVE(gethostbyname_r);
    RESOLVE(gethostbyname2_r);
    RESOLVE(gethostbyaddr_r);
    RESOLVE(system);
    RESOLVE(flock);
    RESOLVE(pthread_kill);
    RESOLVE(pthread_getcpuclockid);
    RESOLVE(pthread_sigmask);
    RESOLVE(sigprocmask);
    __atomic_store_n(&gpy_real_ready, 1, __ATOMIC_RELEASE);
}

void
gpy_real_resolve(void)
{
    pthread_once(&resolve_once, resolve_all);
}

void
gpy_patches_init(void)
{
    gpy_real_resolve();
    gpy_patch_sem_init();
}

/* patches.h: the interposed libc entry points (read, recv, poll, sleep,
 * sem_wait, getaddrinfo, ...) that make blocking calls park only the calling
 * goroutine. The launcher includes this; patches/README.md lists them all. */
#ifndef GPY_PATCHES_H
#define GPY_PATCHES_H

#ifdef __cplusplus
extern "C" {
#endif

/* gpy_patches_init resolves the real libc functions (dlsym RTLD_NEXT) so
 * that no interposed call has to do it later. Call once at startup, before
 * Py_Initialize; calling it again is harmless. The interposers resolve
 * lazily by themselves if they run earlier. Does not block. */
void gpy_patches_init(void);

#ifdef __cplusplus
}
#endif
#endif

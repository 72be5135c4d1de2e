/* arena.c: CPython's arena allocator, with the 16 KiB chunks of thread
 * states' frame data stacks served from slabs. */
#include "binding.h"

#include <sys/mman.h>

/* Every thread state's first frame push takes a 16 KiB chunk from the
 * arena allocator, which mmaps it: one kernel mapping per goroutine, and
 * the kernel caps mappings per process. Serve that size from slabs. */
#define CHUNK (16u << 10)
#define SLAB (4u << 20)

typedef struct chunk_free {
    struct chunk_free *next;
} chunk_free;

static struct {
    PyObjectArenaAllocator orig;
    chunk_free *free;
    char *slab;
    size_t slab_left;
} A;

static void *
arena_alloc(void *ctx, size_t size)
{
    (void)ctx;
    if (size != CHUNK) {
        return A.orig.alloc(A.orig.ctx, size);
    }
    if (A.free) {
        chunk_free *c = A.free;
        A.free = c->next;
        return c;
    }
    if (A.slab_left < CHUNK) {
        void *p = mmap(NULL, SLAB, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED) {
            return NULL;
        }
        A.slab = p;
        A.slab_left = SLAB;
    }
    void *p = A.slab;
    A.slab += CHUNK;
    A.slab_left -= CHUNK;
    return p;
}

static void
arena_free(void *ctx, void *ptr, size_t size)
{
    (void)ctx;
    if (size != CHUNK) {
        A.orig.free(A.orig.ctx, ptr, size);
        return;
    }
    chunk_free *c = ptr;
    c->next = A.free;
    A.free = c;
}

void
gpy_py_arena_install(void)
{
    PyObject_GetArenaAllocator(&A.orig);
    PyObjectArenaAllocator mine = {NULL, arena_alloc, arena_free};
    PyObject_SetArenaAllocator(&mine);
}

/* stack.c: goroutine C stacks — lazily committed MAP_NORESERVE mappings,
 * pooled for reuse, with a guard page while the kernel's map budget allows. */
#include "internal.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/* Python's default recursion limit through C-level calls (sorted(key=...)
 * recursing into itself) needs between 1 and 2 MiB of stack; a program
 * that raises the limit goes as deep as python3's threads (glibc gives them
 * 8 MiB) before it faults. Only touched pages cost memory, and 1,000,000
 * stacks take 8 TiB of the 128 TiB address space. */
#define DEFAULT_STACK_SIZE (8u << 20)
/* Pooled stacks keep the pages their goroutine touched (a few KiB each);
 * the scheduler trims the pool down to POOL_KEEP when it goes idle. */
#define POOL_KEEP 1024
/* When the pool is trimmed, the pages of kept stacks deeper than this
 * below the top go back to the kernel (a goroutine that recursed deep
 * must not pin megabytes in the pool). */
#define KEEP_DEPTH (64u << 10)

static struct {
    size_t size; /* usable bytes per stack */
    size_t page;
    long guard_budget; /* guarded stacks we may still create */
    gpy_stack *free;   /* pooled stacks, LIFO */
    int nfree;
    int changed; /* stacks were pooled since the last trim */
} P;

static void
init_params(void)
{
    if (P.size) {
        return;
    }
    P.page = (size_t)sysconf(_SC_PAGESIZE);
    size_t size = DEFAULT_STACK_SIZE;
    const char *env = getenv("GPYTHON_STACK_SIZE");
    if (env && *env) {
        char *end;
        unsigned long long v = strtoull(env, &end, 0);
        if (*end == 'k' || *end == 'K') {
            v <<= 10;
        } else if (*end == 'm' || *end == 'M') {
            v <<= 20;
        }
        if (v >= (64u << 10)) {
            size = (size_t)v;
        }
    }
    P.size = (size + P.page - 1) & ~(P.page - 1);

    /* A guard page splits a mapping in two VMAs; the kernel caps VMAs per
     * process (vm.max_map_count, 65530 by default). Keep half of the budget
     * for everything else and give goroutines beyond it unguarded stacks,
     * which the kernel merges into a few large mappings. */
    long maxmap = 65530;
    FILE *f = fopen("/proc/sys/vm/max_map_count", "r");
    if (f) {
        if (fscanf(f, "%ld", &maxmap) != 1) {
            maxmap = 65530;
        }
        fclose(f);
    }
    P.guard_budget = maxmap / 2 - 8192;
    if (P.guard_budget < 0) {
        P.guard_budget = 0;
    }
}

size_t
gpy_stack_size(void)
{
    init_params();
    return P.size;
}

long
gpy_stack_left(void)
{
    gpy_g *g = gpy_g_current();
    if (!g || !g->stack) {
        return -1;
    }
    char *sp = __builtin_frame_address(0);
    if (sp < g->stack->base || sp > g->stack->base + g->stack->size) {
        return -1;
    }
    return (long)(sp - g->stack->base);
}

/* ---- guard pages ---- */

/* A fault this far below a stack's usable part is an overflow even when a
 * large frame jumped past the guard page into unmapped memory. */
#define OVERFLOW_REACH (64u << 10)
#define ALTSTACK_SIZE (64u << 10)

static struct sigaction prev_segv, prev_bus;

static void
on_fault(int sig, siginfo_t *si, void *uc)
{
    (void)uc;
    gpy_g *g = gpy_g_current();
    char *a = si->si_addr;
    if (g && g->stack && a < g->stack->base &&
        a >= g->stack->base - OVERFLOW_REACH) {
        const gpy_hooks *h = gpy_sched_hooks();
        if (h->stack_overflow) {
            h->stack_overflow(g);
        }
        static const char msg[] = "fatal error: stack overflow\n";
        ssize_t w = gpy__sys_write(2, msg, sizeof(msg) - 1);
        (void)w;
        _exit(2);
    }
    /* Not ours: the previous disposition takes the fault again when the
     * faulting instruction restarts, or, for a signal sent by kill() or
     * raise(), when we send it again. */
    gpy__sys_sigaction(sig, sig == SIGSEGV ? &prev_segv : &prev_bus, NULL);
    if (si->si_code <= 0) {
        raise(sig);
    }
}

void
gpy_stack_guard_install(void)
{
    stack_t ss = {0};
    ss.ss_sp = malloc(ALTSTACK_SIZE);
    ss.ss_size = ALTSTACK_SIZE;
    if (!ss.ss_sp || sigaltstack(&ss, NULL) < 0) {
        free(ss.ss_sp);
        return;
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_sigaction = on_fault;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_NODEFER;
    sigemptyset(&sa.sa_mask);
    gpy__sys_sigaction(SIGSEGV, &sa, &prev_segv);
    gpy__sys_sigaction(SIGBUS, &sa, &prev_bus);
}

gpy_stack *
gpy__stack_get(void)
{
    init_params();
    gpy_stack *s = P.free;
    if (s) {
        P.free = s->next_free;
        P.nfree--;
        s->next_free = NULL;
        s->dirty = 1;
        return s;
    }
    s = calloc(1, sizeof(*s));
    if (!s) {
        return NULL;
    }
    int guarded = P.guard_budget > 0;
    s->maplen = P.size + (guarded ? P.page : 0);
    s->map =
        mmap(NULL, s->maplen, PROT_READ | PROT_WRITE,
             MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_STACK, -1, 0);
    if (s->map == MAP_FAILED) {
        int e = errno;
        free(s);
        errno = e;
        return NULL;
    }
    if (guarded) {
        if (mprotect(s->map, P.page, PROT_NONE) == 0) {
            P.guard_budget--;
            s->base = s->map + P.page;
        } else {
            s->base = s->map;
        }
    } else {
        s->base = s->map;
    }
    s->size = s->maplen - (size_t)(s->base - s->map);
    s->dirty = 1;
    return s;
}

static void
unmap(gpy_stack *s)
{
    if (s->base != s->map) {
        P.guard_budget++;
    }
    munmap(s->map, s->maplen);
    free(s);
}

void
gpy__stack_put(gpy_stack *s)
{
    if (!s) {
        return;
    }
    s->next_free = P.free;
    P.free = s;
    P.nfree++;
    P.changed = 1;
}

void
gpy__stack_trim(void)
{
    /* The most recently freed stacks are the warmest: keep the head of the
     * LIFO, release the tail. */
    if (!P.changed) {
        return;
    }
    P.changed = 0;
    gpy_stack *s = P.free;
    for (int i = 0; s && i < POOL_KEEP; i++) {
        /* Keep the top pages (the next goroutine touches them anyway) and
         * drop the deep ones a goroutine may have dirtied. */
        if (s->dirty && s->size > KEEP_DEPTH) {
            madvise(s->base, s->size - KEEP_DEPTH, MADV_DONTNEED);
            s->dirty = 0;
        }
        if (i == POOL_KEEP - 1 || !s->next_free) {
            break;
        }
        s = s->next_free;
    }
    if (P.nfree <= POOL_KEEP || !s) {
        return;
    }
    gpy_stack *rest = s->next_free;
    s->next_free = NULL;
    P.nfree = POOL_KEEP;
    while (rest) {
        gpy_stack *next = rest->next_free;
        unmap(rest);
        rest = next;
    }
}

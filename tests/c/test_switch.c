/* test_switch.c: goroutine creation and context switching without Python. */
#include "ctest.h"
#include "gpy.h"

#include <math.h>

static int trace[64];
static int ntrace;

static void
worker(void *arg)
{
    int id = (int)(long)arg;
    for (int i = 0; i < 3; i++) {
        trace[ntrace++] = id * 10 + i;
        gpy_yield();
    }
}

static void
test_round_robin(void)
{
    CHECK_EQ(gpy_sched_init(), 0);
    gpy_go(worker, (void *)1L, NULL);
    gpy_go(worker, (void *)2L, NULL);
    while (gpy_g_count() > 1) {
        gpy_yield();
    }
    /* goroutines alternate: 10 20 11 21 12 22 */
    int want[] = {10, 20, 11, 21, 12, 22};
    CHECK_EQ(ntrace, 6);
    for (int i = 0; i < 6; i++) {
        CHECK_EQ(trace[i], want[i]);
    }
}

static int done_count;

static void
counter(void *arg)
{
    (void)arg;
    gpy_yield();
    done_count++;
}

static void
test_many(void)
{
    CHECK_EQ(gpy_sched_init(), 0);
    for (int i = 0; i < 20000; i++) {
        CHECK(gpy_go(counter, NULL, NULL) != NULL);
    }
    CHECK_EQ(gpy_g_count(), 20001);
    while (gpy_g_count() > 1) {
        gpy_yield();
    }
    CHECK_EQ(done_count, 20000);
}

static long
recurse(int n)
{
    volatile unsigned char pad[1024];
    pad[0] = (unsigned char)n;
    if (n == 0) {
        return pad[0];
    }
    return recurse(n - 1) + pad[0];
}

static long deep_result = -1;

static void
deep(void *arg)
{
    (void)arg;
    recurse(1500); /* ~1.5 MiB of stack */
    deep_result = 1;
}

static void
test_deep_stack(void)
{
    CHECK_EQ(gpy_sched_init(), 0);
    gpy_go(deep, NULL, NULL);
    gpy_yield();
    CHECK(deep_result >= 0);
}

static double fp_result;

static void
fp(void *arg)
{
    double x = *(double *)arg;
    gpy_yield();
    fp_result = sqrt(x) * 2.5;
}

static void
test_fp_and_ids(void)
{
    CHECK_EQ(gpy_sched_init(), 0);
    double x = 16.0;
    gpy_g *g = gpy_go(fp, &x, (void *)0x1234);
    CHECK(g != NULL);
    CHECK(gpy_g_id(g) > 1);
    CHECK(gpy_g_user(g) == (void *)0x1234);
    CHECK_EQ(gpy_g_id(gpy_g_current()), 1);
    gpy_yield();
    gpy_yield();
    CHECK(fp_result == 10.0);
}

static void
test_reuse_stacks(void)
{
    CHECK_EQ(gpy_sched_init(), 0);
    for (int round = 0; round < 50; round++) {
        for (int i = 0; i < 500; i++) {
            gpy_go(counter, NULL, NULL);
        }
        while (gpy_g_count() > 1) {
            gpy_yield();
        }
    }
    CHECK_EQ(done_count, 25000);
}

int
main(int argc, char **argv)
{
    static const test_case cases[] = {
        {"round_robin", test_round_robin},   {"many", test_many},
        {"deep_stack", test_deep_stack},     {"fp_and_ids", test_fp_and_ids},
        {"reuse_stacks", test_reuse_stacks}, {NULL, NULL},
    };
    return run_cases(cases, argc, argv);
}

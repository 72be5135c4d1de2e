/* ctest.h: tiny test harness for the runtime's C tests. Each case runs in
 * its own forked child, so a crash fails that case only; assertions print
 * both values. */
#ifndef GPY_CTEST_H
#define GPY_CTEST_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define CHECK(cond)                                                           \
    do {                                                                      \
        if (!(cond)) {                                                        \
            fprintf(stderr, "%s:%d: CHECK(%s) failed\n", __FILE__, __LINE__,  \
                    #cond);                                                   \
            exit(1);                                                          \
        }                                                                     \
    } while (0)

#define CHECK_EQ(a, b)                                                        \
    do {                                                                      \
        long long va_ = (long long)(a), vb_ = (long long)(b);                 \
        if (va_ != vb_) {                                                     \
            fprintf(stderr, "%s:%d: %s == %s failed: %lld != %lld\n",         \
                    __FILE__, __LINE__, #a, #b, va_, vb_);                    \
            exit(1);                                                          \
        }                                                                     \
    } while (0)

typedef struct {
    const char *name;
    void (*fn)(void);
} test_case;

static inline int
run_cases(const test_case *cases, int argc, char **argv)
{
    int failed = 0, ran = 0;
    for (const test_case *c = cases; c->name; c++) {
        if (argc > 1 && strcmp(argv[1], c->name) != 0) {
            continue;
        }
        ran++;
        fflush(stdout);
        pid_t pid = fork();
        if (pid == 0) {
            alarm(30);
            c->fn();
            exit(0);
        }
        int st = 0;
        waitpid(pid, &st, 0);
        if (WIFEXITED(st) && WEXITSTATUS(st) == 0) {
            printf("ok   %s\n", c->name);
        } else {
            printf("FAIL %s (%s %d)\n", c->name,
                   WIFSIGNALED(st) ? "signal" : "status",
                   WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st));
            failed++;
        }
    }
    printf("%d/%d passed\n", ran - failed, ran);
    return failed || !ran ? 1 : 0;
}

#endif

/* main.c: the gpython executable — python3's command line through PyConfig,
 * UTF-8 mode by default, the runtime and patches installed, Py_RunMain(). */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include "gpy.h"
#include "gpy_py.h"

#include <ev.h>

#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* patches/ provides it; a build without patches still runs. */
void gpy_patches_init(void) __attribute__((weak));

static int
exit_status(PyStatus status)
{
    if (PyStatus_IsExit(status)) {
        return status.exitcode;
    }
    Py_ExitStatusException(status);
    return 1;
}

/* shims_dir finds stdlib_shims/: next to an installed binary
 * (<prefix>/bin/gpython -> <prefix>/lib/gpython/stdlib_shims), else the
 * copy in the build tree the binary was built in. */
static int
shims_dir(char *buf, size_t len)
{
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    if (n > 0) {
        exe[n] = 0;
        char *slash = strrchr(exe, '/');
        if (slash) {
            *slash = 0;
            char *prefix = strrchr(exe, '/');
            if (prefix) {
                *prefix = 0; /* <prefix>/bin -> <prefix> */
                snprintf(buf, len, "%s/lib/gpython/stdlib_shims",
                         exe[0] ? exe : "/");
                if (access(buf, R_OK) == 0) {
                    return 0;
                }
            }
        }
    }
    snprintf(buf, len, "%s", GPY_BUILD_SHIMS);
    return access(buf, R_OK) == 0 ? 0 : -1;
}

static int
install_shims(void)
{
    char dir[PATH_MAX + 64];
    if (shims_dir(dir, sizeof(dir)) == 0) {
        PyObject *path = PySys_GetObject("path");
        PyObject *d = PyUnicode_DecodeFSDefault(dir);
        if (!path || !d || PyList_Append(path, d) < 0) {
            Py_XDECREF(d);
            return -1;
        }
        Py_DECREF(d);
    }
    PyObject *m = PyImport_ImportModule("_gpython_init");
    if (!m) {
        if (PyErr_ExceptionMatches(PyExc_ModuleNotFoundError)) {
            PyErr_Clear();
            return 0;
        }
        return -1;
    }
    Py_DECREF(m);
    return 0;
}

/* utf8_explicit counts -V/--version in *nversion and tells whether the command
 * line (-X utf8[=N]) or, unless -E/-I, the environment (PYTHONUTF8) chooses
 * the UTF-8 mode; then CPython decides as python3 would. Only the
 * interpreter's own options are looked at: they end at the script, -c/-m's
 * argument, '-' or '--'. */
static int
utf8_explicit(int argc, char **argv, int *nversion)
{
    int ignore_env = 0, chosen = 0;
    *nversion = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (a[0] != '-' || a[1] == 0 || strcmp(a, "--") == 0) {
            break;
        }
        if (a[1] == '-') {
            if (strcmp(a, "--check-hash-based-pycs") == 0) {
                i++;
            } else if (strcmp(a, "--version") == 0) {
                ++*nversion;
            }
            continue;
        }
        for (const char *p = a + 1; *p; p++) {
            if (*p == 'V') {
                ++*nversion;
            } else if (*p == 'E' || *p == 'I') {
                ignore_env = 1;
            } else if (*p == 'c' || *p == 'm') {
                goto done;
            } else if (*p == 'X' || *p == 'W') {
                const char *arg =
                    p[1] ? p + 1 : (i + 1 < argc ? argv[++i] : "");
                if (*p == 'X' && strncmp(arg, "utf8", 4) == 0 &&
                    (arg[4] == 0 || arg[4] == '=')) {
                    chosen = 1;
                }
                break;
            }
        }
    }
done:
    if (chosen) {
        return 1;
    }
    const char *env = getenv("PYTHONUTF8");
    return !ignore_env && env && *env;
}

int
main(int argc, char **argv)
{
    if (gpy_patches_init) {
        gpy_patches_init();
    }
    if (gpy_py_preinit() < 0) {
        fprintf(stderr, "gpython: cannot start the scheduler\n");
        return 1;
    }
    if (PyImport_AppendInittab("_gpython", PyInit__gpython) < 0) {
        fprintf(stderr, "gpython: cannot register _gpython\n");
        return 1;
    }

    /* UTF-8 mode whatever the locale, unless the user chose with -X utf8=N
     * or PYTHONUTF8 (CPython lets an explicit preconfig value win over
     * both, so only set it when they are silent). */
    PyPreConfig preconfig;
    PyPreConfig_InitPythonConfig(&preconfig);
    int nversion;
    if (!utf8_explicit(argc, argv, &nversion)) {
        preconfig.utf8_mode = 1;
    }
    if (nversion >= 2) {
        /* python3's -VV line, then ours. */
        printf("Python %s\ngpython %s [libev %d.%d]\n", Py_GetVersion(),
               GPY_VERSION, ev_version_major(), ev_version_minor());
        return 0;
    }
    PyStatus status = Py_PreInitializeFromBytesArgs(&preconfig, argc, argv);
    if (PyStatus_Exception(status)) {
        return exit_status(status);
    }

    PyConfig config;
    PyConfig_InitPythonConfig(&config);
    status = PyConfig_SetBytesArgv(&config, argc, argv);
    if (PyStatus_Exception(status)) {
        goto fail;
    }
    status = Py_InitializeFromConfig(&config);
    if (PyStatus_Exception(status)) {
        goto fail;
    }
    PyConfig_Clear(&config);

    if (gpy_py_install() < 0 || install_shims() < 0) {
        PyErr_Print();
        Py_Finalize();
        return 1;
    }
    return Py_RunMain();

fail:
    PyConfig_Clear(&config);
    return exit_status(status);
}

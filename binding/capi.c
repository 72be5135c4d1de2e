/* capi.c: the C API extension modules reach through the capsule
 * _gpython._C_API (include/gpython/gpython.h) — the runtime's goroutines,
 * channels, select and sleep, callable without the GIL, and channels
 * wrapped as Python chan objects. */
#include "binding.h"

#define GPYTHON_CAPI_IMPLEMENTATION
#include "gpython/gpython.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

/* checked reports a channel used after its last decref (debug builds) and
 * tells the caller to fail with -EBADF. */
static int
checked(const char *fn, gpy_chan *ch)
{
    int r = gpy_chan_check(ch);
    if (r < 0) {
        fprintf(stderr,
                "gpython: %s: %p is %s (a use after the last "
                "gpy_chan_decref?)\n",
                fn, (void *)ch,
                r == -EBADF ? "a freed channel" : "not a channel");
    }
    return r;
}

static int
capi_go(void (*fn)(void *arg), void *arg)
{
    if (!fn) {
        return -EINVAL;
    }
    return gpy_go(fn, arg, NULL) ? 0 : -errno;
}

static gpy_chan *
capi_chan_new(size_t elemsize, size_t cap)
{
    return gpy_chan_new(cap, elemsize);
}

static void
capi_chan_incref(gpy_chan *ch)
{
    if (checked("gpy_chan_incref", ch) == 0) {
        gpy_chan_incref(ch);
    }
}

static void
capi_chan_decref(gpy_chan *ch)
{
    if (checked("gpy_chan_decref", ch) == 0) {
        gpy_chan_decref(ch);
    }
}

/* A channel operation from an extension's C code keeps its goroutine on
 * its OS thread if it parks: that code may hold thread-owned locks or
 * per-thread state across the call (DESIGN.md, "Handoff"). */
static int
capi_chan_send(gpy_chan *ch, const void *elem)
{
    int r = checked("gpy_chan_send", ch);
    if (r < 0) {
        return r;
    }
    gpy_py_capi_call++;
    r = gpy_chan_send(ch, elem);
    gpy_py_capi_call--;
    return r;
}

static int
capi_chan_recv(gpy_chan *ch, void *elem)
{
    int r = checked("gpy_chan_recv", ch);
    if (r < 0) {
        return r;
    }
    gpy_py_capi_call++;
    r = gpy_chan_recv(ch, elem);
    gpy_py_capi_call--;
    return r;
}

static int
capi_chan_close(gpy_chan *ch)
{
    int r = checked("gpy_chan_close", ch);
    return r < 0 ? r : gpy_chan_close(ch);
}

static size_t
capi_chan_len(gpy_chan *ch)
{
    return checked("gpy_chan_len", ch) < 0 ? 0 : gpy_chan_len(ch);
}

static size_t
capi_chan_cap(gpy_chan *ch)
{
    return checked("gpy_chan_cap", ch) < 0 ? 0 : gpy_chan_cap(ch);
}

static size_t
capi_chan_elemsize(gpy_chan *ch)
{
    return checked("gpy_chan_elemsize", ch) < 0 ? 0 : gpy_chan_elemsize(ch);
}

#define CAPI_SMALL 8

static int
capi_select(struct gpython_case *pc, int n, int flags)
{
    gpy_case small[CAPI_SMALL];
    if (n < 0 || (n > 0 && !pc) || (flags & ~GPY_SELECT_NONBLOCK)) {
        return -EINVAL;
    }
    for (int i = 0; i < n; i++) {
        if ((pc[i].op != GPY_CASE_SEND && pc[i].op != GPY_CASE_RECV) ||
            checked("gpy_select", pc[i].ch) < 0) {
            return -EINVAL;
        }
    }
    gpy_case *c = small;
    if (n > CAPI_SMALL && !(c = malloc((size_t)n * sizeof(*c)))) {
        return -ENOMEM;
    }
    for (int i = 0; i < n; i++) {
        c[i].ch = pc[i].ch;
        c[i].op = pc[i].op;
        c[i].data = pc[i].elem;
        c[i].ok = 0;
    }
    /* Without GPY_SELECT_INTR a signal does not end the wait. */
    gpy_py_capi_call++;
    int r = gpy_select(c, n, flags & GPY_SELECT_NONBLOCK, NULL);
    gpy_py_capi_call--;
    if (r >= 0 && pc[r].op == GPY_CASE_RECV && pc[r].ok) {
        *pc[r].ok = c[r].ok;
    }
    if (c != small) {
        free(c);
    }
    return r == -EAGAIN ? -1 : r;
}

static PyObject *
capi_chan_wrap(gpy_chan *ch, const char *dtype)
{
    if (checked("gpy_chan_wrap", ch) < 0) {
        PyErr_SetString(PyExc_ValueError,
                        "gpy_chan_wrap: the channel was freed");
        return NULL;
    }
    return gpy_py_chan_wrap(ch, dtype);
}

static gpy_chan *
capi_chan_unwrap(PyObject *o, size_t elemsize)
{
    gpy_chan *ch = NULL;
    if (!o) {
        PyErr_SetString(PyExc_TypeError, "gpy_chan_unwrap: NULL object");
        return NULL;
    }
    return gpy_py_chan_unwrap(o, elemsize, &ch) < 0 ? NULL : ch;
}

static int
capi_sleep_ns(int64_t ns)
{
    if (!gpy_sched_active()) {
        /* Another OS thread, or the interpreter is exiting. */
        PyThreadState *save = gpy_cpy_gil_held() ? PyEval_SaveThread() : NULL;
        if (ns > 0) {
            struct timespec ts = {ns / 1000000000, ns % 1000000000};
            while (nanosleep(&ts, &ts) < 0 && errno == EINTR) {
            }
        }
        if (save) {
            PyEval_RestoreThread(save);
        }
        return 0;
    }
    /* A goroutine: parks. The GIL is released while it is parked (the
     * scheduler switches only goroutines that do not hold it). */
    PyThreadState *save = gpy_cpy_gil_held() ? PyEval_SaveThread() : NULL;
    int64_t deadline = gpy_now_ns() + (ns > 0 ? ns : 0);
    do {
        gpy_sleep_ns(ns > 0 ? deadline - gpy_now_ns() : 0);
    } while (ns > 0 && gpy_now_ns() < deadline);
    if (save) {
        PyEval_RestoreThread(save);
    }
    return 0;
}

static int
capi_in_goroutine(void)
{
    return gpy_sched_active();
}

static uint64_t
capi_goid(void)
{
    gpy_g *g = gpy_g_current();
    return g ? gpy_g_id(g) : 0;
}

static const struct gpython_capi capi = {
    .version = GPYTHON_API_VERSION,
    .size = sizeof(struct gpython_capi),
    .go = capi_go,
    .chan_new = capi_chan_new,
    .chan_incref = capi_chan_incref,
    .chan_decref = capi_chan_decref,
    .chan_send = capi_chan_send,
    .chan_recv = capi_chan_recv,
    .chan_close = capi_chan_close,
    .chan_len = capi_chan_len,
    .chan_cap = capi_chan_cap,
    .chan_elemsize = capi_chan_elemsize,
    .select = capi_select,
    .chan_wrap = capi_chan_wrap,
    .chan_unwrap = capi_chan_unwrap,
    .sleep_ns = capi_sleep_ns,
    .in_goroutine = capi_in_goroutine,
    .goid = capi_goid,
};

static PyObject *
capi_channels(PyObject *module, PyObject *unused)
{
    (void)module;
    (void)unused;
    return PyLong_FromLong(gpy_chan_count());
}

static PyMethodDef capi_methods[] = {
    {"_channels", capi_channels, METH_NOARGS,
     "how many runtime channels exist (Python's and C's): for leak checks."},
    {NULL, NULL, 0, NULL},
};

int
gpy_py_capi_add(PyObject *module, gpy_py_state *st)
{
    gpy_py_chan_capi_type(st->chan_type);
    if (PyModule_AddFunctions(module, capi_methods) < 0 ||
        PyModule_AddIntConstant(module, "_chan_debug", gpy_chan_debug()) < 0) {
        return -1;
    }
    PyObject *c = PyCapsule_New((void *)&capi, GPYTHON_CAPSULE_NAME, NULL);
    if (!c) {
        return -1;
    }
    int r = PyModule_AddObjectRef(module, "_C_API", c);
    Py_DECREF(c);
    return r;
}

/* gpython.h: the C API of gpython's runtime for extension modules —
 * goroutines that run C code, channels of fixed-size C elements shared
 * with Python code, select, sleep.
 *
 * An extension links against nothing of gpython's: its init function calls
 * gpython_import(), which finds the API in the running gpython (a capsule,
 * as CPython's datetime shares its C API) and fails with ImportError under
 * any other Python:
 *
 *     #include <gpython/gpython.h>
 *
 *     PyMODINIT_FUNC
 *     PyInit_mymod(void)
 *     {
 *         if (gpython_import() < 0)
 *             return NULL;
 *         return PyModule_Create(&mymod);
 *     }
 *
 * Build with `pkg-config --cflags gpython` (this directory and Python's).
 * As with CPython's datetime.h, the API pointer is per translation unit:
 * call gpython_import() in each file that uses these functions (it is
 * cheap after the first).
 *
 * Every function below but gpy_chan_wrap/gpy_chan_unwrap may be called
 * without the GIL. Called from a goroutine, a blocking one parks only that
 * goroutine; from any other OS thread it blocks that thread; called with
 * the GIL held it releases the GIL while it waits, as CPython's blocking
 * calls do.
 *
 * Reference counting: gpy_chan_new returns a channel with one reference,
 * the caller's. gpy_chan_incref/gpy_chan_decref take and drop more; the
 * last gpy_chan_decref frees it. A goroutine or thread handed a channel
 * pointer uses the reference of whoever keeps it alive; hand over a
 * reference of its own when the giver may drop its one first.
 */
#ifndef GPYTHON_H
#define GPYTHON_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <errno.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The API's version: new functions raise it; gpython_import() refuses a
 * runtime older than the header an extension was built with. */
#define GPYTHON_API_VERSION 1

/* Where the API lives: the attribute of the _gpython module. */
#define GPYTHON_CAPSULE_NAME "_gpython._C_API"

typedef struct gpy_chan gpy_chan;

/* A case of gpy_select: build it with gpy_case_send or gpy_case_recv. */
struct gpython_case {
    gpy_chan *ch; /* NULL: a nil channel, never ready */
    int op;       /* 1 send, 2 receive */
    void *elem;   /* send: the element; receive: where it goes (or NULL) */
    int *ok;      /* receive: set to 1 for a value, 0 closed (or NULL) */
};

/* The table the capsule holds (do not use it directly: use the functions
 * below). Members are only ever appended. */
struct gpython_capi {
    unsigned int version; /* GPYTHON_API_VERSION of the runtime */
    unsigned int size;    /* sizeof(struct gpython_capi) of the runtime */
    int (*go)(void (*fn)(void *arg), void *arg);
    gpy_chan *(*chan_new)(size_t elemsize, size_t cap);
    void (*chan_incref)(gpy_chan *ch);
    void (*chan_decref)(gpy_chan *ch);
    int (*chan_send)(gpy_chan *ch, const void *elem);
    int (*chan_recv)(gpy_chan *ch, void *elem);
    int (*chan_close)(gpy_chan *ch);
    size_t (*chan_len)(gpy_chan *ch);
    size_t (*chan_cap)(gpy_chan *ch);
    size_t (*chan_elemsize)(gpy_chan *ch);
    int (*select)(struct gpython_case *cases, int n, int flags);
    PyObject *(*chan_wrap)(gpy_chan *ch, const char *dtype);
    gpy_chan *(*chan_unwrap)(PyObject *chan, size_t elemsize);
    int (*sleep_ns)(int64_t ns);
    int (*in_goroutine)(void);
    uint64_t (*goid)(void);
};

#ifndef GPYTHON_CAPI_IMPLEMENTATION

typedef struct gpython_case gpy_case;

/* gpy_select's flag: do not wait (Go's `default`). */
#define GPY_SELECT_NONBLOCK 1

static const struct gpython_capi *gpython_capi_;

/* gpython_import gets the API; 0, or -1 with ImportError set (not running
 * under gpython, or a gpython older than this header). Needs the GIL. */
static inline int
gpython_import(void)
{
    if (gpython_capi_) {
        return 0;
    }
    PyObject *m = PyImport_ImportModule("_gpython");
    if (!m) {
        if (PyErr_ExceptionMatches(PyExc_ImportError)) {
            PyErr_Clear();
            PyErr_SetString(PyExc_ImportError,
                            "this extension needs the gpython runtime: run "
                            "it with gpython, not python3");
        }
        return -1;
    }
    Py_DECREF(m);
    const struct gpython_capi *api =
        (const struct gpython_capi *)PyCapsule_Import(GPYTHON_CAPSULE_NAME, 0);
    if (!api) {
        return -1;
    }
    if (api->version < GPYTHON_API_VERSION) {
        PyErr_Format(PyExc_ImportError,
                     "this extension needs gpython C API version %d, the "
                     "running gpython has %u",
                     GPYTHON_API_VERSION, api->version);
        return -1;
    }
    gpython_capi_ = api;
    return 0;
}

/* gpy_go starts a goroutine running fn(arg): C code only (it has no
 * Python thread state and must not call Python). 0, or -errno (-ENOMEM).
 * It is not joined: make it signal its end on a channel. */
static inline int
gpy_go(void (*fn)(void *arg), void *arg)
{
    return gpython_capi_->go(fn, arg);
}

/* gpy_chan_new makes a channel of elemsize-byte elements (any C type; 0
 * for Go's struct{}) buffering cap of them (0: unbuffered). NULL with
 * errno set (ENOMEM). */
static inline gpy_chan *
gpy_chan_new(size_t elemsize, size_t cap)
{
    return gpython_capi_->chan_new(elemsize, cap);
}

static inline void
gpy_chan_incref(gpy_chan *ch)
{
    gpython_capi_->chan_incref(ch);
}

static inline void
gpy_chan_decref(gpy_chan *ch)
{
    gpython_capi_->chan_decref(ch);
}

/* gpy_chan_send copies *elem into the channel, waiting for a receiver or
 * room in the buffer. 0, or -EPIPE if the channel is or gets closed (Go's
 * "send on closed channel"). A NULL channel waits forever. */
static inline int
gpy_chan_send(gpy_chan *ch, const void *elem)
{
    return gpython_capi_->chan_send(ch, elem);
}

/* gpy_chan_recv waits for an element and copies it to *elem (elem may be
 * NULL). 1 received; 0 the channel is closed and drained (*elem zeroed).
 * A NULL channel waits forever. */
static inline int
gpy_chan_recv(gpy_chan *ch, void *elem)
{
    return gpython_capi_->chan_recv(ch, elem);
}

/* gpy_chan_close: 0; -EPIPE if already closed; -EINVAL for NULL. Waiting
 * receivers get 0 (zeroed elements), waiting senders -EPIPE. */
static inline int
gpy_chan_close(gpy_chan *ch)
{
    return gpython_capi_->chan_close(ch);
}

static inline size_t
gpy_chan_len(gpy_chan *ch)
{
    return gpython_capi_->chan_len(ch);
}

static inline size_t
gpy_chan_cap(gpy_chan *ch)
{
    return gpython_capi_->chan_cap(ch);
}

static inline size_t
gpy_chan_elemsize(gpy_chan *ch)
{
    return gpython_capi_->chan_elemsize(ch);
}

static inline gpy_case
gpy_case_send(gpy_chan *ch, const void *elem)
{
    gpy_case c = {ch, 1, (void *)elem, NULL};
    return c;
}

static inline gpy_case
gpy_case_recv(gpy_chan *ch, void *elem, int *ok)
{
    gpy_case c = {ch, 2, elem, ok};
    return c;
}

/* gpy_select waits until one of the n cases can proceed and does it,
 * choosing at random among the ready ones, as Go's select. Returns the
 * index of the case done; -1 with GPY_SELECT_NONBLOCK when none was ready
 * (Go's default); -EPIPE when the case chosen is a send on a closed
 * channel; -EINVAL for bad arguments. n == 0 without GPY_SELECT_NONBLOCK
 * waits forever. */
static inline int
gpy_select(gpy_case *cases, int n, int flags)
{
    return gpython_capi_->select(cases, n, flags);
}

/* gpy_chan_wrap returns a new Python chan sharing ch (it takes its own
 * reference; the caller keeps its one), typed dtype: "C.int", "C.double",
 * "C.bool" (C's bool), "C.structZ" (0-byte elements) or "C.bytes:N"
 * (N-byte elements, bytes in Python). NULL channel: the typed nil
 * channel. GIL held. NULL with TypeError if the element sizes differ. */
static inline PyObject *
gpy_chan_wrap(gpy_chan *ch, const char *dtype)
{
    return gpython_capi_->chan_wrap(ch, dtype);
}

/* gpy_chan_unwrap returns the channel of Python chan `chan` (borrowed:
 * keep `chan` alive, or gpy_chan_incref it) if its elements are elemsize
 * bytes: a chan(dtype='C.int'/...) made in Python or one gpy_chan_wrap
 * made. NULL with TypeError when it is not such a channel; NULL without
 * an exception for a typed nil channel. GIL held. */
static inline gpy_chan *
gpy_chan_unwrap(PyObject *chan, size_t elemsize)
{
    return gpython_capi_->chan_unwrap(chan, elemsize);
}

/* gpy_sleep_ns waits ns nanoseconds (parks a goroutine; ns <= 0 lets
 * other goroutines run). 0. */
static inline int
gpy_sleep_ns(int64_t ns)
{
    return gpython_capi_->sleep_ns(ns);
}

/* gpy_in_goroutine tells whether the caller runs as a goroutine (a C one,
 * or Python code's: parks there block nothing else) rather than on some
 * other OS thread. */
static inline int
gpy_in_goroutine(void)
{
    return gpython_capi_->in_goroutine();
}

/* gpy_goid returns the calling goroutine's id (as gpython.goid() /
 * threading.get_ident() say), 0 off the goroutines' thread. */
static inline uint64_t
gpy_goid(void)
{
    return gpython_capi_->goid();
}

#endif /* GPYTHON_CAPI_IMPLEMENTATION */

#ifdef __cplusplus
}
#endif
#endif

/* binding.h: what the files of the Python binding share — the module state,
 * the chan object, and the functions one file gives another. The binding
 * alone includes Python.h; CPython's internals stay in cpython311.c. */
#ifndef GPY_BINDING_H
#define GPY_BINDING_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include "cpython.h"
#include "gpy.h"

#include <errno.h>

/* ---- the module (module.c) ---- */

/* Element types, as pygolang's chan(dtype=...): what a channel accepts and
 * what a receive from a closed channel yields (Go's zero value). Every
 * type but DT_OBJECT is carried raw, as C sees it (C.int is a C int,
 * C.bytes:N N bytes), so C code shares such channels (gpython.h).
 * DT_SIGNAL ("C.os::Signal", golang.os.Signal's dtype) carries a C int
 * signal number. DT_BYTES has no cached nil channel (its size is part of
 * the type). */
enum {
    DT_OBJECT,
    DT_STRUCTZ,
    DT_BOOL,
    DT_INT,
    DT_DOUBLE,
    DT_SIGNAL,
    DT_BYTES,
    DT_COUNT
};

/* The `_gpython` module's state. */
typedef struct {
    PyTypeObject *chan_type;
    PyObject *panic_error; /* _PanicError */
    PyObject *case_error;  /* _SelectCaseError(AttributeError, TypeError) */
    PyObject *signal_type; /* golang.os.Signal, once a C.os::Signal is used */
    PyObject *default_obj; /* the `default` select case */
    PyObject
        *typed_nil[DT_COUNT]; /* chan.nil(dtype); [DT_OBJECT] is nilchan */
} gpy_py_state;

extern PyModuleDef gpy_py_module;

/* gpy_py_state_of returns the state of the module that made type tp. */
static inline gpy_py_state *
gpy_py_state_of(PyTypeObject *tp)
{
    return (gpy_py_state *)PyType_GetModuleState(tp);
}

/* ---- channels (chan.c) and select (select.c) ---- */

enum { OP_SEND, OP_RECV, OP_RECV_, OP_COUNT }; /* chan_methods[] order */

typedef struct {
    PyObject_HEAD
    gpy_chan *ch; /* NULL: the nil channel */
    int dtype;    /* DT_* */
    size_t esize; /* the element's size (DT_OBJECT: a PyObject pointer) */
    PyObject *weakreflist;
    /* ch.send, ch.recv, ch.recv_ bound once (chan_getattro); their
     * __self__ is borrowed and they are untracked while only the channel
     * holds them. */
    PyObject *bound[OP_COUNT];
    int nocache; /* finalized: bound anew each time */
} ChanObject;

/* gpy_py_chan_init makes the chan type and the nil channels in st. */
int gpy_py_chan_init(PyObject *module, gpy_py_state *st);

/* The chan type's methods, send, recv and recv_ first (OP_* order). */
extern PyMethodDef gpy_py_chan_methods[];

/* gpy_py_chan_op returns the channel of o if o is ch.send, ch.recv or
 * ch.recv_ (op), else NULL (borrowed). CPython binds the chan type's
 * functions only to channels. */
static inline ChanObject *
gpy_py_chan_op(PyObject *o, int op)
{
    if (!PyCFunction_Check(o) ||
        PyCFunction_GET_FUNCTION(o) != gpy_py_chan_methods[op].ml_meth) {
        return NULL;
    }
    return (ChanObject *)PyCFunction_GET_SELF(o);
}

/* Elements staged for a send or a receive: raw ones up to ELEM_INLINE
 * bytes in place, larger (C.bytes:N) in p; objects in obj. */
#define ELEM_INLINE 16
typedef struct {
    void *p; /* where the element is: &obj, inl or a PyMem block */
    union {
        PyObject *obj;
        unsigned char inl[ELEM_INLINE];
        double align_;
    } u;
} gpy_py_elem;

/* gpy_py_elem_init points e at room for co's element (-1 with
 * MemoryError); gpy_py_elem_fini frees it (not the object it may hold).
 * Inline for objects: select's hot path. */
int gpy_py_elem_init_raw(gpy_py_elem *e, const ChanObject *co);

static inline int
gpy_py_elem_init(gpy_py_elem *e, const ChanObject *co)
{
    if (co->dtype == DT_OBJECT) {
        e->u.obj = NULL;
        e->p = &e->u.obj;
        return 0;
    }
    return gpy_py_elem_init_raw(e, co);
}

static inline void
gpy_py_elem_fini(gpy_py_elem *e)
{
    if (e->p != &e->u.obj && e->p != e->u.inl) {
        PyMem_Free(e->p);
    }
    e->p = NULL;
}

/* gpy_py_elem_pack stores what co carries for v in e: for objects a new
 * reference, raw types converted (TypeError/OverflowError: -1).
 * gpy_py_elem_unpack returns e's value as a new Python object, taking the
 * reference an object element holds; a zeroed element (closed channel)
 * gives the zero value: None, False, 0, 0.0, b'\0' * N. */
int gpy_py_elem_pack(const ChanObject *co, PyObject *v, gpy_py_elem *e);
PyObject *gpy_py_elem_unpack(const ChanObject *co, gpy_py_elem *e);

/* gpy_py_chan_wrap returns a new chan object sharing ch (it takes its own
 * reference) typed dtype ("C.int", "C.double", "C.bool", "C.structZ",
 * "C.bytes:N"); gpy_py_chan_unwrap returns o's runtime channel
 * (borrowed; NULL for the nil channel is valid: *nil set) if o is a raw
 * channel of elements of elemsize bytes. Both -1/NULL with TypeError. */
PyObject *gpy_py_chan_wrap(gpy_chan *ch, const char *dtype);
/* gpy_py_chan_capi_type records the chan type gpy_py_chan_wrap makes. */
void gpy_py_chan_capi_type(PyTypeObject *tp);
int gpy_py_chan_unwrap(PyObject *o, size_t elemsize, gpy_chan **ch);

/* gpy_py_do_select runs gpy_select, taking signals (KeyboardInterrupt)
 * while blocked. Returns the case index, -1 with an exception set, -2 for
 * the nonblocking "nothing ready", or -3 for a send on a closed channel
 * (*closed is its index; the caller raises the Go panic). */
static inline int
gpy_py_do_select(gpy_case *cases, int n, int nonblock, int *closed)
{
    for (;;) {
        int flags = GPY_SELECT_INTR | (nonblock ? GPY_SELECT_NONBLOCK : 0);
        int r = gpy_select(cases, n, flags, closed);
        if (r >= 0) {
            return r;
        }
        if (r == -EAGAIN) {
            return -2;
        }
        if (r == -EPIPE) {
            return -3;
        }
        if (r == -EINTR) {
            if (PyErr_CheckSignals() < 0) {
                return -1;
            }
            continue;
        }
        errno = -r;
        PyErr_SetFromErrno(PyExc_OSError);
        return -1;
    }
}

/* select(*cases) and the `default` case's type. */
PyObject *gpy_py_select(PyObject *module, PyObject *const *args,
                        Py_ssize_t nargs);
extern PyType_Spec gpy_py_default_spec;

/* ---- goroutines, thread states, _thread (goroutine.c) ---- */

/* The main goroutine's thread state (the forking one in a fork child). */
extern PyThreadState *gpy_py_main_tstate;

/* The runtime's hooks around a switch and a park: the GILState key
 * follows the running goroutine; the GIL is released while parked. */
void gpy_py_switch_in(void *user);
void *gpy_py_park_enter(void);
void gpy_py_park_exit(void *token);

/* The module's functions about goroutines and threads. */
extern PyMethodDef gpy_py_goroutine_methods[];

/* gpy_py_goroutines_install makes the calling thread state the main
 * goroutine's; gpy_py_goroutines_shutdown stops scheduling others and
 * frees the pool (interpreter exit); gpy_py_goroutines_after_fork re-arms
 * the runtime in a fork child. */
void gpy_py_goroutines_install(void);
void gpy_py_goroutines_shutdown(void);
void gpy_py_goroutines_after_fork(void);

/* ---- preemption (preempt.c) ---- */

/* gpy_py_preempt_init makes the preemption tracer's type; GIL held. */
int gpy_py_preempt_init(void);
/* gpy_py_preempt_stop: no more preemption (shutdown, before
 * finalization); GIL held. */
void gpy_py_preempt_stop(void);
/* gpy_py_preempt_start starts the monitor thread if it is not running. */
void gpy_py_preempt_start(void);
/* gpy_py_preempt_after_fork forgets the monitor (it did not survive). */
void gpy_py_preempt_after_fork(void);

/* ---- fatal reports (report.c) ---- */

/* gpy_py_flush_std flushes sys.stdout and sys.stderr, keeping any pending
 * exception. */
void gpy_py_flush_std(void);

/* gpy_py_report_escaped reports the exception set, which escaped goroutine
 * id, and ends the process: status 2 as Go does, or SystemExit's code. */
void gpy_py_report_escaped(uint64_t id) __attribute__((noreturn));

/* gpy_py_err_note adds a note (PEP 678) to the exception set: where the
 * peers' exact message is kept for compatibility, ours goes there. Keeps
 * the exception if the note cannot be added. */
void gpy_py_err_note(const char *fmt, ...);

/* The runtime's hooks for fatal ends: deadlock, stack overflow. */
void gpy_py_report_deadlock(void);
void gpy_py_report_stack_overflow(gpy_g *g);

/* ---- diagnostics: goroutine dumps, blocking and leak reports (diag.c) */

/* What a dump says about a goroutine started from Python beside what the
 * runtime knows: its function (a threading.Thread's name) and who started
 * it where. Kept in the goroutine's start record (gpy_g_info). */
typedef struct gpy_py_ginfo {
    PyObject *f;     /* borrowed: the start record holds it */
    PyObject *name;  /* a threading.Thread's name, or NULL */
    PyObject *ccode; /* the creator's code object (owned), or NULL */
    int clasti;      /* ... and its instruction */
    uint64_t cid;    /* the creating goroutine's id */
} gpy_py_ginfo;

void gpy_py_ginfo_init(gpy_py_ginfo *gi, PyObject *f, int thread);
void gpy_py_ginfo_clear(gpy_py_ginfo *gi);

/* gpy_py_capi_call: the calling thread is inside a channel operation of
 * the C API (capi.c): a park there keeps the goroutine on this thread. */
extern __thread int gpy_py_capi_call;

/* gpy_py_sched_options reads -X gpython.maxthreads=N and
 * GPYTHON_MAXTHREADS: the cap on OS threads that run goroutines. */
int gpy_py_sched_options(void);

/* gpy_py_diag_install arms SIGQUIT's goroutine dump (when SIGQUIT has its
 * default disposition) and reads -X gpython.blockreport/leakreport. */
int gpy_py_diag_install(void);

/* gpy_py_dump_all writes every goroutine, grouped, to fd in the format of
 * the SIGQUIT dump (async-signal-safe). */
void gpy_py_dump_all(int fd);
/* gpy_py_dump_goroutine writes g's block alone (the panic report). */
void gpy_py_dump_goroutine(int fd, gpy_g *g);

/* The blocking report's threshold in ns (0: off), for the monitor. */
extern int64_t gpy_py_blockreport_ns;
/* gpy_py_blockreport_check is the monitor's look at the scheduler thread
 * (GIL not held): reports a goroutine that kept the others from running
 * for longer than the threshold, once per incident. */
void gpy_py_blockreport_check(unsigned long switches);

extern PyMethodDef gpy_py_diag_methods[];

/* ---- the C API (capi.c) ---- */

/* gpy_py_capi_add puts the C API's capsule, _C_API, in the module. */
int gpy_py_capi_add(PyObject *module, gpy_py_state *st);

/* ---- frame data stacks (arena.c) ---- */

/* gpy_py_arena_install serves CPython's frame data-stack chunks from
 * slabs; call before Py_Initialize. */
void gpy_py_arena_install(void);

#endif

/* goroutine.c: goroutines as CPython sees them — a thread state each
 * (pooled), spawning with go(), _thread.start_new_thread, the goroutine
 * identity CPython asks for, the GIL around parks, exit and fork. */
#include "binding.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <unistd.h>

PyThreadState *gpy_py_main_tstate;

/* ---- the GIL around switches and parks (runtime hooks) ---- */

void
gpy_py_switch_in(void *user)
{
    /* PyGILState_Ensure (ctypes callbacks, C extensions) looks up "this
     * thread's" state through this key: it must be the goroutine's. */
    if (user) {
        gpy_cpy_gilstate_set(user);
    }
}

/* A channel operation may come from C code that does not hold the GIL
 * (gpython.h: a C goroutine, another OS thread): then there is nothing to
 * release. */
__thread int gpy_py_capi_call;

void *
gpy_py_park_enter(void)
{
    /* A channel operation from Python may resume on another OS thread
     * (binding code keeps nothing per thread); one from an extension's C
     * code (capi.c) may not. */
    gpy_sched_pin_parks(gpy_py_capi_call > 0);
    /* CPython's own release: the goroutine parks next, it is not in a
     * call the monitor should watch (and it resumes holding P). */
    return gpy_cpy_gil_held() ? gpy_cpy_real_PyEval_SaveThread() : NULL;
}

void
gpy_py_park_exit(void *token)
{
    if (token) {
        /* (an OS thread that blocked without P waits for it here) */
        gpy_sched_syscall_exit();
        gpy_cpy_real_PyEval_RestoreThread((PyThreadState *)token);
    }
}

/* ---- goroutines ---- */

static int ts_pool_put(PyThreadState *ts);

typedef struct gostart {
    gpy_py_ginfo info; /* first: gpy_g_info points here */
    PyObject *f;
    PyObject *args;
    PyObject *kw;
    PyThreadState *ts;
    int thread; /* started by _thread.start_new_thread */
} gostart;

/* Goroutines started by _thread.start_new_thread and still running. */
static long nthreads;

/* CPython asks PyThread_get_thread_ident() "which thread is this?" to own
 * buffered files' locks ("reentrant call inside ..."), RLock, the import
 * lock, multiprocessing's SemLock and sqlite3 connections, and to tell the
 * main thread (the only one that runs signal handlers). On the scheduler
 * thread the answer is the running goroutine, as _thread.get_ident() says;
 * elsewhere the OS thread's pthread_t, as CPython's own (a pointer, far
 * above any goroutine id). This one replaces CPython's: the build weakens
 * that one in its copy of libpython3.11.a. */

/* Set while as_main() runs a call that CPython reserves for the main
 * thread (signal.signal, signal.set_wakeup_fd) for another goroutine. */
static int ident_as_main;

unsigned long
PyThread_get_thread_ident(void)
{
    gpy_g *g = gpy_g_current();
    if (g) {
        return (unsigned long)gpy_g_id(ident_as_main ? gpy_g_main() : g);
    }
    return (unsigned long)pthread_self();
}

static void
g_main(void *arg)
{
    gostart *s = arg;
    PyEval_RestoreThread(s->ts);
    /* CPython keys thread states by thread_id (sys._current_frames(),
     * PyThreadState_SetAsyncExc): the goroutine id, as _thread.get_ident()
     * says. */
    gpy_cpy_ts_set_thread_id(s->ts, (unsigned long)gpy_g_id(gpy_g_current()));
    PyObject *r = PyObject_Call(s->f, s->args, s->kw);
    if (!r && s->thread) {
        /* What python3's thread_run does: SystemExit ends the thread
         * quietly, anything else goes to sys.unraisablehook. */
        if (PyErr_ExceptionMatches(PyExc_SystemExit)) {
            PyErr_Clear();
        } else {
            gpy_cpy_write_unraisable("in thread started by", s->f);
        }
    } else if (!r) {
        gpy_py_report_escaped(gpy_g_id(gpy_g_current()));
    }
    if (s->thread) {
        nthreads--;
    }
    Py_XDECREF(r);
    gpy_g_set_info(gpy_g_current(), NULL);
    gpy_py_ginfo_clear(&s->info);
    Py_DECREF(s->f);
    Py_DECREF(s->args);
    Py_XDECREF(s->kw);
    PyThreadState *ts = s->ts;
    PyMem_RawFree(s);
    if (gpy_g_current() == gpy_g_main()) {
        /* This goroutine forked the process we run in, and is its main
         * now: the child ends when it returns, as python3's child ends
         * with its only thread (status 0, no atexit). */
        gpy_py_flush_std();
        fflush(stderr);
        _exit(0);
    }
    gpy_g_set_user(gpy_g_current(), NULL);
    PyThreadState_Clear(ts);
    if (ts_pool_put(ts)) {
        return;
    }
    PyThreadState_DeleteCurrent();
}

/* A pool of cleared thread states: creating and deleting one takes the
 * runtime's head lock and mallocs ~1 KiB each time, and its frame data
 * stack comes back with it. Pooled states are out of the interpreter's
 * thread list (a fork child keeps them usable); touched only on the
 * scheduler thread; freed at shutdown. */
#define TS_POOL_MAX 4096
static PyThreadState *ts_pool[TS_POOL_MAX];
static int ts_pool_n;
static int ts_pool_off;

/* ts_pool_put parks the running goroutine's cleared state in the pool and
 * releases the GIL; returns 0 (nothing done) when the pool can't take it. */
static int
ts_pool_put(PyThreadState *ts)
{
    if (ts_pool_off || ts_pool_n >= TS_POOL_MAX || !gpy_sched_active()) {
        return 0;
    }
    /* Out of the interpreter's thread list while pooled: faulthandler and
     * sys._current_frames list only live goroutines. */
    gpy_cpy_ts_retire(ts);
    PyEval_SaveThread();
    ts_pool[ts_pool_n++] = ts;
    return 1;
}

static PyThreadState *
ts_get(PyInterpreterState *interp)
{
    PyThreadState *ts;
    if (ts_pool_n > 0 && !ts_pool_off && gpy_g_current()) {
        ts = ts_pool[--ts_pool_n];
        gpy_cpy_ts_revive(ts);
    } else if (!(ts = PyThreadState_New(interp))) {
        return NULL;
    }
    gpy_cpy_recursion_clamp(ts);
    return ts;
}

/* ts_pool_free frees the pooled thread states (interpreter exit). */
static void
ts_pool_free(void)
{
    while (ts_pool_n > 0) {
        gpy_cpy_ts_free(ts_pool[--ts_pool_n]);
    }
}

void
gpy_py_goroutines_install(void)
{
    gpy_py_main_tstate = PyThreadState_Get();
    gpy_cpy_ts_set_thread_id(gpy_py_main_tstate, 1);
    gpy_g_set_user(gpy_g_main(), gpy_py_main_tstate);
}

void
gpy_py_goroutines_shutdown(void)
{
    ts_pool_off = 1;
    ts_pool_free();
    gpy_py_preempt_stop();
    gpy_sched_shutdown();
}

void
gpy_py_goroutines_after_fork(void)
{
    /* The child's CPython deleted every other thread state (the pooled
     * ones are not in its list: they stay usable); the monitor thread did
     * not survive the fork. */
    gpy_py_preempt_after_fork();
    gpy_py_main_tstate = PyThreadState_Get();
    gpy_sched_after_fork();
}

/* ---- the module's functions ---- */

/* spawn starts f(*args, **kw) in a new goroutine; returns its id or 0
 * with an exception set. */
static uint64_t
spawn(PyObject *f, PyObject *args, PyObject *kw, int thread)
{
    if (!PyCallable_Check(f)) {
        PyErr_Format(PyExc_TypeError, "go: %.200s object is not callable",
                     Py_TYPE(f)->tp_name);
        return 0;
    }
    gostart *s = PyMem_RawMalloc(sizeof(*s));
    if (!s) {
        PyErr_NoMemory();
        return 0;
    }
    s->ts = ts_get(PyThreadState_GetInterpreter(PyThreadState_Get()));
    if (!s->ts) {
        PyMem_RawFree(s);
        PyErr_NoMemory();
        return 0;
    }
    Py_INCREF(f);
    Py_INCREF(args);
    Py_XINCREF(kw);
    s->f = f;
    s->args = args;
    s->kw = kw;
    s->thread = thread;
    gpy_py_ginfo_init(&s->info, f, thread);
    if (gpy_g_current()) {
        gpy_py_preempt_start();
    }
    gpy_g *g = gpy_go(g_main, s, s->ts);
    if (g) {
        gpy_g_set_info(g, &s->info);
    } else {
        int e = errno;
        gpy_py_ginfo_clear(&s->info);
        Py_DECREF(f);
        Py_DECREF(args);
        Py_XDECREF(kw);
        PyThreadState_Clear(s->ts);
        PyThreadState_Delete(s->ts);
        PyMem_RawFree(s);
        errno = e;
        PyErr_SetFromErrno(PyExc_MemoryError);
        return 0;
    }
    if (thread) {
        nthreads++;
    }
    return gpy_g_id(g);
}

/* spawn_ident is spawn() returning the goroutine id as a Python int. */
static PyObject *
spawn_ident(PyObject *f, PyObject *args, PyObject *kw, int thread)
{
    uint64_t id = spawn(f, args, kw, thread);
    if (!id) {
        return NULL;
    }
    return PyLong_FromUnsignedLongLong(id);
}

static PyObject *
gpython_go(PyObject *self, PyObject *const *args, Py_ssize_t nargs,
           PyObject *kwnames)
{
    (void)self;
    if (nargs < 1) {
        PyErr_SetString(PyExc_TypeError, "go() missing the function to run");
        return NULL;
    }
    PyObject *rest = PyTuple_New(nargs - 1);
    if (!rest) {
        return NULL;
    }
    for (Py_ssize_t i = 1; i < nargs; i++) {
        Py_INCREF(args[i]);
        PyTuple_SET_ITEM(rest, i - 1, args[i]);
    }
    PyObject *kw = NULL;
    if (kwnames && PyTuple_GET_SIZE(kwnames)) {
        kw = PyDict_New();
        if (!kw) {
            Py_DECREF(rest);
            return NULL;
        }
        for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(kwnames); i++) {
            if (PyDict_SetItem(kw, PyTuple_GET_ITEM(kwnames, i),
                               args[nargs + i]) < 0) {
                Py_DECREF(rest);
                Py_DECREF(kw);
                return NULL;
            }
        }
    }
    uint64_t id = spawn(args[0], rest, kw, 0);
    Py_DECREF(rest);
    Py_XDECREF(kw);
    if (!id) {
        return NULL;
    }
    Py_RETURN_NONE;
}

static PyObject *
gpython_spawn(PyObject *self, PyObject *args)
{
    PyObject *f, *fargs, *kw = NULL;
    (void)self;
    if (!PyArg_ParseTuple(args, "OO!|O:spawn", &f, &PyTuple_Type, &fargs,
                          &kw)) {
        return NULL;
    }
    if (kw == Py_None) {
        kw = NULL;
    }
    if (kw && !PyDict_Check(kw)) {
        PyErr_SetString(PyExc_TypeError, "spawn: kwargs must be a dict");
        return NULL;
    }
    return spawn_ident(f, fargs, kw, 0);
}

/* _thread.start_new_thread for goroutines: the same checks, audit event
 * and end-of-thread handling as python3's, with nothing of ours on the
 * goroutine's stack (faulthandler and tracebacks show what python3 shows). */
static PyObject *
gpython_start_new_thread(PyObject *self, PyObject *args)
{
    PyObject *f, *fargs, *kw = NULL;
    (void)self;
    if (!PyArg_UnpackTuple(args, "start_new_thread", 2, 3, &f, &fargs, &kw)) {
        return NULL;
    }
    if (!PyCallable_Check(f)) {
        PyErr_SetString(PyExc_TypeError, "first arg must be callable");
        return NULL;
    }
    if (!PyTuple_Check(fargs)) {
        PyErr_SetString(PyExc_TypeError, "2nd arg must be a tuple");
        return NULL;
    }
    if (kw != NULL && !PyDict_Check(kw)) {
        PyErr_SetString(PyExc_TypeError,
                        "optional 3rd arg must be a dictionary");
        return NULL;
    }
    if (PySys_Audit("_thread.start_new_thread", "OOO", f, fargs,
                    kw ? kw : Py_None) < 0) {
        return NULL;
    }
    return spawn_ident(f, fargs, kw, 1);
}

/* thread_unraisable(exc, function): report exc through sys.unraisablehook
 * as python3 does for an exception escaping a thread (the OS threads of
 * gpython.start_os_thread). */
static PyObject *
gpython_thread_unraisable(PyObject *self, PyObject *args)
{
    PyObject *exc, *f;
    (void)self;
    if (!PyArg_ParseTuple(args, "O!O:thread_unraisable",
                          (PyObject *)PyExc_BaseException, &exc, &f)) {
        return NULL;
    }
    Py_INCREF(Py_TYPE(exc));
    Py_INCREF(exc);
    PyErr_Restore((PyObject *)Py_TYPE(exc), exc,
                  PyException_GetTraceback(exc));
    gpy_cpy_write_unraisable("in thread started by", f);
    Py_RETURN_NONE;
}

/* as_main(f, *args, **kw): f(*args, **kw) as if the main goroutine called
 * it. For the calls CPython allows only in the main thread that Go allows
 * in any goroutine: setting signal handlers and the wakeup fd (the handlers
 * still run in the main goroutine). f must not block: every goroutine would
 * look like main meanwhile. */
static PyObject *
gpython_as_main(PyObject *self, PyObject *const *args, Py_ssize_t nargs,
                PyObject *kwnames)
{
    (void)self;
    if (nargs < 1) {
        PyErr_SetString(PyExc_TypeError, "as_main() missing the function");
        return NULL;
    }
    int saved = ident_as_main;
    ident_as_main = 1;
    PyObject *r =
        PyObject_Vectorcall(args[0], args + 1, (size_t)(nargs - 1), kwnames);
    ident_as_main = saved;
    return r;
}

/* native_id(): _thread.get_native_id(). The main goroutine is the process's
 * main thread: its kernel thread id, as in python3 (a forked child's main
 * differs from its parent's). Another goroutine has no kernel thread of its
 * own: its goroutine id. Another OS thread: its kernel thread id. */
static PyObject *
gpython_native_id(PyObject *self, PyObject *unused)
{
    (void)self;
    (void)unused;
    gpy_g *g = gpy_g_current();
    if (g && g != gpy_g_main()) {
        return PyLong_FromUnsignedLongLong(gpy_g_id(g));
    }
    return PyLong_FromLong((long)gettid());
}

static PyObject *
gpython_thread_count(PyObject *self, PyObject *unused)
{
    (void)self;
    (void)unused;
    return PyLong_FromLong(nthreads);
}

static PyObject *
gpython_goid(PyObject *self, PyObject *unused)
{
    (void)self;
    (void)unused;
    /* The goroutine id; on another OS thread its thread ident, as
     * _thread.get_ident() says. */
    return PyLong_FromUnsignedLong(PyThread_get_thread_ident());
}

static PyObject *
gpython_gosched(PyObject *self, PyObject *unused)
{
    (void)self;
    (void)unused;
    Py_BEGIN_ALLOW_THREADS
    gpy_yield();
    Py_END_ALLOW_THREADS
    Py_RETURN_NONE;
}

static PyObject *
gpython_numgoroutine(PyObject *self, PyObject *unused)
{
    (void)self;
    (void)unused;
    return PyLong_FromSize_t(gpy_g_count());
}

static PyObject *
gpython_shutdown(PyObject *self, PyObject *unused)
{
    (void)self;
    (void)unused;
    gpy_py_goroutines_shutdown();
    Py_RETURN_NONE;
}

static PyObject *
gpython_after_fork(PyObject *self, PyObject *unused)
{
    (void)self;
    (void)unused;
    gpy_py_goroutines_after_fork();
    Py_RETURN_NONE;
}

PyMethodDef gpy_py_goroutine_methods[] = {
    {"go", (PyCFunction)(void (*)(void))gpython_go,
     METH_FASTCALL | METH_KEYWORDS,
     "go(f, *args, **kw): run f(*args, **kw) in a new goroutine."},
    {"spawn", gpython_spawn, METH_VARARGS,
     "spawn(f, args, kwargs=None) -> id: go(), returning the goroutine id."},
    {"start_new_thread", gpython_start_new_thread, METH_VARARGS,
     "start_new_thread(function, args[, kwargs]) -> id: _thread's, in a "
     "goroutine."},
    {"thread_unraisable", gpython_thread_unraisable, METH_VARARGS,
     "thread_unraisable(exc, function): report exc as python3 does for an "
     "exception escaping a thread."},
    {"as_main", (PyCFunction)(void (*)(void))gpython_as_main,
     METH_FASTCALL | METH_KEYWORDS,
     "as_main(f, *args, **kw): call f as the main goroutine (it must not "
     "block)."},
    {"native_id", gpython_native_id, METH_NOARGS,
     "_thread.get_native_id() for goroutines."},
    {"thread_count", gpython_thread_count, METH_NOARGS,
     "_thread._count(): start_new_thread goroutines still running."},
    {"goid", gpython_goid, METH_NOARGS, "the running goroutine's id."},
    {"gosched", gpython_gosched, METH_NOARGS, "yield to other goroutines."},
    {"numgoroutine", gpython_numgoroutine, METH_NOARGS,
     "how many goroutines exist."},
    {"_shutdown", gpython_shutdown, METH_NOARGS,
     "stop scheduling other goroutines (interpreter exit)."},
    {"_after_fork", gpython_after_fork, METH_NOARGS,
     "re-initialise the scheduler in a forked child."},
    {NULL, NULL, 0, NULL},
};

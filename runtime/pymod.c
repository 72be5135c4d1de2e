/* pymod.c: the Python binding of the runtime — the `_gpython` module with
 * go, chan, select, default, nilchan and _PanicError, goroutine thread
 * states, the GIL hooks and the fatal reports. The only runtime file that
 * includes Python.h. */
#define PY_SSIZE_T_CLEAN
#define Py_BUILD_CORE 1
#include <Python.h>
#include <frameobject.h>
#include <structmember.h>
#include "internal/pycore_runtime.h"
#include "internal/pycore_frame.h"
#undef Py_BUILD_CORE

#include "cpython.h"
#include "gpy.h"
#include "gpy_py.h"

#include <errno.h>
#include <signal.h>
#include <pthread.h>
#include <string.h>
#include <time.h>
#include <sys/mman.h>
#include <unistd.h>

/* ---- module-wide state (one interpreter) ---- */

static PyTypeObject *chan_type;
static PyObject *panic_error;   /* _PanicError */
static PyObject *default_obj;   /* the `default` select case */
static PyObject *nilchan_obj;
static PyThreadState *main_tstate;
static PyMethodDef chan_methods[];

/* Element types, as pygolang's chan(dtype=...): what a channel accepts and
 * what a receive from a closed channel yields (Go's zero value). */
enum { DT_OBJECT, DT_STRUCTZ, DT_BOOL, DT_INT, DT_DOUBLE, DT_COUNT };
static const char *const dtype_names[DT_COUNT] = {
    "object", "C.structZ", "C.bool", "C.int", "C.double",
};

enum { OP_SEND, OP_RECV, OP_RECV_, OP_COUNT };  /* chan_methods[] order */

typedef struct {
    PyObject_HEAD
    gpy_chan *ch;               /* NULL: the nil channel */
    int dtype;                  /* DT_* */
    PyObject *weakreflist;
    /* ch.send, ch.recv, ch.recv_ bound once (chan_getattro); their
     * __self__ is borrowed and they are untracked while only the channel
     * holds them. */
    PyObject *bound[OP_COUNT];
    int nocache;                /* finalized: bound anew each time */
} ChanObject;


static int chan_clear(ChanObject *self);

static PyObject *typed_nil[DT_COUNT];  /* chan.nil(dtype) per dtype */

/* ---- hooks ---- */

static void
hook_switch_in(void *user)
{
    /* PyGILState_Ensure (ctypes callbacks, C extensions) looks up "this
     * thread's" state through this key: it must be the goroutine's. */
    if (user) {
        gpy_cpy_gilstate_set(user);
    }
}

static void *
hook_park_enter(void)
{
    return PyEval_SaveThread();
}

static void
hook_park_exit(void *token)
{
    PyEval_RestoreThread((PyThreadState *)token);
}

static void
flush_std(void)
{
    PyObject *exc_type, *exc_value, *exc_tb;
    PyErr_Fetch(&exc_type, &exc_value, &exc_tb);
    const char *names[] = {"stdout", "stderr"};
    for (int i = 0; i < 2; i++) {
        PyObject *f = PySys_GetObject(names[i]);
        if (f && f != Py_None) {
            PyObject *r = PyObject_CallMethod(f, "flush", NULL);
            if (!r) {
                PyErr_Clear();
            }
            Py_XDECREF(r);
        }
    }
    PyErr_Restore(exc_type, exc_value, exc_tb);
}

static void
print_stack(PyThreadState *ts)
{
    PyFrameObject *frames[256];
    int n = 0;
    PyFrameObject *f = PyThreadState_GetFrame(ts);
    while (f && n < 256) {
        frames[n++] = f;
        f = PyFrame_GetBack(f);
    }
    Py_XDECREF(f);
    fputs("Traceback (most recent call last):\n", stderr);
    for (int i = n - 1; i >= 0; i--) {
        PyCodeObject *code = PyFrame_GetCode(frames[i]);
        const char *file = PyUnicode_AsUTF8(code->co_filename);
        const char *name = PyUnicode_AsUTF8(code->co_name);
        if (!file || !name) {
            PyErr_Clear();
        }
        fprintf(stderr, "  File \"%s\", line %d, in %s\n", file ? file : "?",
                PyFrame_GetLineNumber(frames[i]), name ? name : "?");
        Py_DECREF(code);
        Py_DECREF(frames[i]);
    }
}

static void
print_goroutine(gpy_g *g, void *arg)
{
    PyThreadState *ts = gpy_g_user(g);
    (void)arg;
    if (!ts) {
        return;
    }
    fprintf(stderr, "\ngoroutine %llu [%s]:\n", (unsigned long long)gpy_g_id(g),
            g == gpy_g_main() ? "main, blocked" : "blocked");
    print_stack(ts);
}

static void
hook_deadlock(void)
{
    gpy_g *cur = gpy_g_current();
    PyThreadState *ts = cur ? gpy_g_user(cur) : NULL;
    if (!ts) {
        ts = main_tstate;
    }
    PyEval_RestoreThread(ts);
    flush_std();
    fputs("fatal error: all goroutines are asleep - deadlock!\n", stderr);
    gpy_g_foreach(print_goroutine, NULL);
    fflush(stderr);
    _exit(2);
}

/* put_str and put_u64 write to stderr from a signal handler. */
static void
put_str(const char *s)
{
    ssize_t w = write(2, s, strlen(s));
    (void)w;
}

static void
put_u64(unsigned long long v)
{
    char buf[24];
    char *p = buf + sizeof(buf);
    *--p = 0;
    do {
        *--p = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    put_str(p);
}

/* hook_stack_overflow reports, as Go does, a goroutine that ran into its
 * stack's guard page (a C-level recursion CPython's check did not see);
 * signal context, on the alternate stack. */
static void
hook_stack_overflow(gpy_g *g)
{
    put_str("runtime: goroutine stack exceeds ");
    put_u64(gpy_stack_size());
    put_str("-byte limit\nfatal error: stack overflow\n\ngoroutine ");
    put_u64(gpy_g_id(g));
    put_str(" [running]:\n");
    PyThreadState *ts = gpy_g_user(g);
    if (ts) {
        gpy_cpy_dump_traceback(2, ts);
    }
    _exit(2);
}

/* ---- goroutines ---- */

static int ts_pool_put(PyThreadState *ts);

typedef struct gostart {
    PyObject *f;
    PyObject *args;
    PyObject *kw;
    PyThreadState *ts;
    int thread;             /* started by _thread.start_new_thread */
} gostart;

/* Goroutines started by _thread.start_new_thread and still running. */
static long nthreads;

/* report_escaped prints an exception that escaped a goroutine and ends the
 * process: status 2 as Go does, or SystemExit's code. */
static void
report_escaped(uint64_t id)
{
    if (PyErr_ExceptionMatches(PyExc_SystemExit)) {
        PyObject *t, *v, *tb;
        PyErr_Fetch(&t, &v, &tb);
        PyErr_NormalizeException(&t, &v, &tb);
        int code = 0;
        PyObject *c = v ? PyObject_GetAttrString(v, "code") : NULL;
        if (!c) {
            PyErr_Clear();
        } else if (c == Py_None) {
            code = 0;
        } else if (PyLong_Check(c)) {
            code = (int)PyLong_AsLong(c);
        } else {
            PyObject_Print(c, stderr, Py_PRINT_RAW);
            fputc('\n', stderr);
            code = 1;
        }
        Py_XDECREF(c);
        flush_std();
        fflush(stderr);
        _exit(code);
    }
    PyObject *t, *v, *tb;
    PyErr_Fetch(&t, &v, &tb);
    PyErr_NormalizeException(&t, &v, &tb);
    if (tb && v) {
        PyException_SetTraceback(v, tb);
    }
    flush_std();
    fprintf(stderr, "panic: exception escaped goroutine %llu\n\n",
            (unsigned long long)id);
    fflush(stderr);
    PyErr_Display(t, v, tb);
    Py_XDECREF(t);
    Py_XDECREF(v);
    Py_XDECREF(tb);
    flush_std();
    fflush(stderr);
    _exit(2);
}

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
    s->ts->thread_id = (unsigned long)gpy_g_id(gpy_g_current());
    PyObject *r = PyObject_Call(s->f, s->args, s->kw);
    if (!r && s->thread) {
        /* What python3's thread_run does: SystemExit ends the thread
         * quietly, anything else goes to sys.unraisablehook. */
        if (PyErr_ExceptionMatches(PyExc_SystemExit)) {
            PyErr_Clear();
        } else {
            _PyErr_WriteUnraisableMsg("in thread started by", s->f);
        }
    } else if (!r) {
        report_escaped(gpy_g_id(gpy_g_current()));
    }
    if (s->thread) {
        nthreads--;
    }
    Py_XDECREF(r);
    Py_DECREF(s->f);
    Py_DECREF(s->args);
    Py_XDECREF(s->kw);
    PyThreadState *ts = s->ts;
    PyMem_RawFree(s);
    if (gpy_g_current() == gpy_g_main()) {
        /* This goroutine forked the process we run in, and is its main
         * now: the child ends when it returns, as python3's child ends
         * with its only thread (status 0, no atexit). */
        flush_std();
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
 * stack comes back with it. Touched only on the scheduler thread; emptied
 * (the interpreter frees them) at shutdown and after fork. */
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

/* ---- preemption ---- */

/* A goroutine that computes without blocking would starve the others and
 * I/O. The monitor thread notices when no switch happened for a time slice
 * while others wait, and asks the interpreter (a pending call, run at the
 * next bytecode boundary on the scheduler thread) to yield. */
#define SLICE_US 10000

static int sysmon_started;

/* The monitor cannot switch goroutines itself (it is another OS thread),
 * and a pending call cannot either (CPython signals those only from the
 * main thread, and runs no other until one returns). So the monitor takes
 * the GIL -- which makes the running goroutine drop it at its next
 * bytecode boundary -- and arms a one-shot trace function on that
 * goroutine's thread state; the trace function yields at the next line
 * or opcode event and puts back whatever tracer the goroutine had. The saved tracer
 * travels in the trace object, so it is per goroutine. */
typedef struct {
    PyObject_HEAD
    Py_tracefunc func;      /* the goroutine's own tracer, if any */
    PyObject *obj;
    PyFrameObject *frame;   /* the frame made to emit opcode events */
    char opcodes;           /* its f_trace_opcodes before */
} SavedTrace;

static PyTypeObject *saved_trace_type;

static void
saved_trace_dealloc(SavedTrace *self)
{
    PyTypeObject *tp = Py_TYPE(self);
    Py_XDECREF(self->obj);
    Py_XDECREF(self->frame);
    tp->tp_free(self);
    Py_DECREF(tp);
}

static PyType_Slot saved_trace_slots[] = {
    {Py_tp_dealloc, saved_trace_dealloc},
    {0, NULL},
};

static PyType_Spec saved_trace_spec = {
    "_gpython._Preempt", sizeof(SavedTrace), 0,
    Py_TPFLAGS_DEFAULT | Py_TPFLAGS_IMMUTABLETYPE, saved_trace_slots,
};

static int
preempt_trace(PyObject *obj, PyFrameObject *frame, int what, PyObject *arg)
{
    SavedTrace *st = (SavedTrace *)obj;
    Py_INCREF(st);
    int opcodes_were_on = 1;
    if (st->frame) {
        st->frame->f_trace_opcodes = st->opcodes;
        opcodes_were_on = st->opcodes;
    }
    gpy_cpy_set_trace(PyThreadState_Get(), st->func, st->obj);
    Py_DECREF(st);
    if (PyErr_Occurred()) {
        PyErr_Clear();
    }
    if (gpy_sched_active()) {
        Py_BEGIN_ALLOW_THREADS
        gpy_yield();
        Py_END_ALLOW_THREADS
    }
    /* Forward the event to the goroutine's own tracer. */
    PyThreadState *ts = PyThreadState_Get();
    if (ts->c_tracefunc && ts->c_tracefunc != preempt_trace &&
        (what != PyTrace_OPCODE || opcodes_were_on)) {
        return ts->c_tracefunc(ts->c_traceobj, frame, what, arg);
    }
    return 0;
}

/* arm_preempt installs the one-shot tracer on ts; GIL held. */
static void
arm_preempt(PyThreadState *ts)
{
    if (!saved_trace_type || ts->c_tracefunc == preempt_trace) {
        return;
    }
    SavedTrace *st = PyObject_New(SavedTrace, saved_trace_type);
    if (!st) {
        PyErr_Clear();
        return;
    }
    st->func = ts->c_tracefunc;
    st->obj = ts->c_traceobj;
    Py_XINCREF(st->obj);
    /* A loop that jumps to its own line (`while True: pass`) makes no line
     * events: ask the running frame for opcode events too. */
    st->frame = PyThreadState_GetFrame(ts);
    st->opcodes = 0;
    if (st->frame) {
        st->opcodes = st->frame->f_trace_opcodes;
        st->frame->f_trace_opcodes = 1;
    }
    gpy_cpy_set_trace(ts, preempt_trace, (PyObject *)st);
    Py_DECREF(st);
}

/* The monitor takes the GIL with a thread state of its own, kept out of
 * the interpreter's thread list: nothing lists it, and no PyGILState
 * bookkeeping runs for it. */
static void *
sysmon(void *arg)
{
    PyThreadState *mts = arg;
    unsigned long last = gpy_sched_switches();
    for (;;) {
        struct timespec ts = {0, SLICE_US * 1000};
        nanosleep(&ts, NULL);
        unsigned long now = gpy_sched_switches();
        if (now != last || !gpy_sched_others_waiting()) {
            last = now;
            continue;
        }
        PyEval_RestoreThread(mts);
        /* With the GIL the scheduler thread is stopped: either in the
         * middle of the hogging goroutine (which waits for the GIL) or
         * idle. */
        if (gpy_sched_switches() == last) {
            PyThreadState *ts = gpy_sched_running_user();
            if (ts) {
                arm_preempt(ts);
            }
        }
        PyEval_SaveThread();
        last = gpy_sched_switches();
    }
    return NULL;
}

static void
sysmon_start(void)
{
    if (sysmon_started) {
        return;
    }
    sysmon_started = 1;
    PyThreadState *mts = PyThreadState_New(PyThreadState_GetInterpreter(
        PyThreadState_Get()));
    if (!mts) {
        return;
    }
    gpy_cpy_ts_retire(mts);
    pthread_t t;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    pthread_attr_setstacksize(&attr, 64 << 10);
    /* Signals are for the program's threads: a process-directed one must
     * never land here (default action, or missed by sigwait in main). */
    sigset_t all;
    sigfillset(&all);
    pthread_attr_setsigmask_np(&attr, &all);
    if (pthread_create(&t, &attr, sysmon, mts) == 0) {
        gpy_sched_own_thread(1);
    } else {
        gpy_cpy_ts_free(mts);
    }
    pthread_attr_destroy(&attr);
}

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
    if (!sysmon_started && gpy_g_current()) {
        sysmon_start();
    }
    gpy_g *g = gpy_go(g_main, s, s->ts);
    if (!g) {
        int e = errno;
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
    if (!PyArg_ParseTuple(args, "OO!|O:spawn", &f, &PyTuple_Type, &fargs, &kw)) {
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
    PyErr_Restore((PyObject *)Py_TYPE(exc), exc, PyException_GetTraceback(exc));
    _PyErr_WriteUnraisableMsg("in thread started by", f);
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
    PyObject *r = PyObject_Vectorcall(args[0], args + 1,
                                      (size_t)(nargs - 1), kwnames);
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
    ts_pool_off = 1;
    ts_pool_free();
    gpy_sched_shutdown();
    Py_RETURN_NONE;
}

static PyObject *
gpython_after_fork(PyObject *self, PyObject *unused)
{
    (void)self;
    (void)unused;
    /* The child's CPython deleted every other thread state (the pooled
     * ones are not in its list: they stay usable); the monitor thread did
     * not survive the fork. */
    sysmon_started = 0;
    main_tstate = PyThreadState_Get();
    gpy_sched_after_fork();
    Py_RETURN_NONE;
}

/* ---- channels ---- */

static PyObject *
raise_panic(const char *msg)
{
    PyErr_SetString(panic_error, msg);
    return NULL;
}

static ChanObject *
chan_alloc(PyTypeObject *type, gpy_chan *ch)
{
    ChanObject *self = (ChanObject *)type->tp_alloc(type, 0);
    if (!self) {
        gpy_chan_decref(ch);
        return NULL;
    }
    self->ch = ch;
    return self;
}

/* parse_dtype maps a dtype argument to DT_*; -1 with TypeError. */
static int
parse_dtype(PyObject *dtype)
{
    if (!dtype || dtype == Py_None || dtype == (PyObject *)&PyBaseObject_Type) {
        return DT_OBJECT;
    }
    if (PyUnicode_Check(dtype)) {
        for (int i = 0; i < DT_COUNT; i++) {
            if (PyUnicode_CompareWithASCIIString(dtype, dtype_names[i]) == 0) {
                return i;
            }
        }
    }
    PyErr_Format(PyExc_TypeError,
                 "chan: invalid dtype %R (expected 'object', 'C.structZ', "
                 "'C.bool', 'C.int' or 'C.double')", dtype);
    return -1;
}

/* dtype_zero returns a new reference to the zero value of dtype. */
static PyObject *
dtype_zero(int dtype)
{
    switch (dtype) {
    case DT_BOOL:
        Py_RETURN_FALSE;
    case DT_INT:
        return PyLong_FromLong(0);
    case DT_DOUBLE:
        return PyFloat_FromDouble(0.0);
    default:
        Py_RETURN_NONE;
    }
}

/* dtype_convert returns the value a typed channel carries for v (a new
 * reference), or NULL with TypeError/OverflowError as C would refuse it. */
static PyObject *
dtype_convert(int dtype, PyObject *v)
{
    switch (dtype) {
    case DT_OBJECT:
        Py_INCREF(v);
        return v;
    case DT_STRUCTZ:
        if (v != Py_None) {
            PyErr_Format(PyExc_TypeError,
                         "chan[C.structZ]: send expects None, got %.200s",
                         Py_TYPE(v)->tp_name);
            return NULL;
        }
        Py_RETURN_NONE;
    case DT_BOOL:
        if (!PyBool_Check(v)) {
            PyErr_Format(PyExc_TypeError,
                         "chan[C.bool]: send expects bool, got %.200s",
                         Py_TYPE(v)->tp_name);
            return NULL;
        }
        Py_INCREF(v);
        return v;
    case DT_INT: {
        if (!PyIndex_Check(v)) {
            PyErr_Format(PyExc_TypeError,
                         "chan[C.int]: send expects int, got %.200s",
                         Py_TYPE(v)->tp_name);
            return NULL;
        }
        PyObject *i = PyNumber_Index(v);
        if (!i) {
            return NULL;
        }
        long x = PyLong_AsLong(i);
        Py_DECREF(i);
        if ((x == -1 && PyErr_Occurred()) || x < INT_MIN || x > INT_MAX) {
            PyErr_Clear();
            PyErr_SetString(PyExc_OverflowError,
                            "chan[C.int]: value out of range for C int");
            return NULL;
        }
        return PyLong_FromLong(x);
    }
    default: {
        double d = PyFloat_AsDouble(v);
        if (d == -1.0 && PyErr_Occurred()) {
            return NULL;
        }
        return PyFloat_FromDouble(d);
    }
    }
}

static PyObject *
chan_new(PyTypeObject *type, PyObject *args, PyObject *kw)
{
    static char *kwlist[] = {"size", "dtype", NULL};
    PyObject *size_obj = NULL, *dtype = NULL;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "|OO:chan", kwlist, &size_obj,
                                     &dtype)) {
        return NULL;
    }
    Py_ssize_t size = 0;
    if (size_obj) {
        if (!PyIndex_Check(size_obj) || PyBool_Check(size_obj)) {
            PyErr_Format(PyExc_TypeError,
                         "chan: size must be an integer, not %.200s",
                         Py_TYPE(size_obj)->tp_name);
            return NULL;
        }
        size = PyNumber_AsSsize_t(size_obj, PyExc_OverflowError);
        if (size == -1 && PyErr_Occurred()) {
            return NULL;
        }
        if (size < 0) {
            PyErr_SetString(PyExc_ValueError, "chan: size out of range");
            return NULL;
        }
    }
    int dt = parse_dtype(dtype);
    if (dt < 0) {
        return NULL;
    }
    gpy_chan *ch = gpy_chan_new((size_t)size, sizeof(PyObject *));
    if (!ch) {
        return PyErr_NoMemory();
    }
    ChanObject *self = chan_alloc(type, ch);
    if (self) {
        self->dtype = dt;
    }
    return (PyObject *)self;
}

/* chan_finalize runs once, when the channel's last reference goes (or the
 * collector finds it in a cycle). A cached bound method that somebody
 * still holds outlives it: the method takes a reference of its own (the
 * channel lives on, as Python's bound methods keep their object) and
 * leaves the cache. */
static void
chan_finalize(ChanObject *self)
{
    self->nocache = 1;
    for (int op = 0; op < OP_COUNT; op++) {
        PyObject *m = self->bound[op];
        if (m && Py_REFCNT(m) > 1) {
            gpy_cpy_method_own(m);
            self->bound[op] = NULL;
            Py_DECREF(m);
        }
    }
}

static void
chan_dealloc(ChanObject *self)
{
    PyTypeObject *tp = Py_TYPE(self);
    if (PyObject_CallFinalizerFromDealloc((PyObject *)self) < 0) {
        return;     /* a bound method someone holds keeps it */
    }
    PyObject_GC_UnTrack(self);
    if (self->weakreflist) {
        PyObject_ClearWeakRefs((PyObject *)self);
    }
    chan_clear(self);
    gpy_chan_decref(self->ch);
    tp->tp_free(self);
    Py_DECREF(tp);
}

static int
chan_traverse(ChanObject *self, visitproc visit, void *arg)
{
    Py_VISIT(Py_TYPE(self));
    /* Buffered values may refer back to the channel. */
    size_t n = gpy_chan_len(self->ch);
    for (size_t i = 0; i < n; i++) {
        PyObject **v = gpy_chan_buffered(self->ch, i);
        Py_VISIT(*v);
    }
    return 0;
}

/* chan_clear drops the values still buffered (a cycle through them is
 * broken here; at dealloc nobody is blocked on the channel: they would
 * hold a reference) and the cached bound methods (after chan_finalize
 * nobody else holds them). */
static int
chan_clear(ChanObject *self)
{
    for (int op = 0; op < OP_COUNT; op++) {
        if (self->bound[op]) {
            gpy_cpy_method_forget(self->bound[op]);
            Py_CLEAR(self->bound[op]);
        }
    }
    while (gpy_chan_len(self->ch) > 0) {
        PyObject *v = NULL;
        gpy_case c = {self->ch, GPY_CASE_RECV, &v, 0};
        if (gpy_select(&c, 1, GPY_SELECT_NONBLOCK, NULL) < 0) {
            break;
        }
        Py_XDECREF(v);
    }
    return 0;
}

/* do_select runs gpy_select, taking signals (KeyboardInterrupt) while
 * blocked. Returns the case index, -1 with an exception set, or -2 for
 * the nonblocking "nothing ready". */
static int
do_select(gpy_case *cases, int n, int nonblock, int *closed)
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
            raise_panic("send on closed channel");
            return -1;
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

static PyObject *
chan_send(ChanObject *self, PyObject *v)
{
    v = dtype_convert(self->dtype, v);
    if (!v) {
        return NULL;
    }
    gpy_case c = {self->ch, GPY_CASE_SEND, &v, 0};
    Py_INCREF(self);
    int r = do_select(&c, 1, 0, NULL);
    Py_DECREF(self);
    if (r < 0) {
        Py_DECREF(v);
        return NULL;
    }
    Py_RETURN_NONE;
}

static int
recv_into(ChanObject *self, PyObject **v)
{
    *v = NULL;
    gpy_case c = {self->ch, GPY_CASE_RECV, v, 0};
    Py_INCREF(self);
    int r = do_select(&c, 1, 0, NULL);
    Py_DECREF(self);
    if (r < 0) {
        return -1;
    }
    if (!c.ok) {
        *v = NULL;
    }
    return c.ok;
}

static PyObject *
chan_recv(ChanObject *self, PyObject *unused)
{
    (void)unused;
    PyObject *v;
    int ok = recv_into(self, &v);
    if (ok < 0) {
        return NULL;
    }
    if (!v) {
        return dtype_zero(self->dtype);
    }
    return v;
}

static PyObject *
chan_recv_(ChanObject *self, PyObject *unused)
{
    (void)unused;
    PyObject *v;
    int ok = recv_into(self, &v);
    if (ok < 0) {
        return NULL;
    }
    PyObject *t = PyTuple_New(2);
    if (!t) {
        Py_XDECREF(v);
        return NULL;
    }
    if (!v && !(v = dtype_zero(self->dtype))) {
        Py_DECREF(t);
        return NULL;
    }
    PyTuple_SET_ITEM(t, 0, v);
    PyObject *b = ok ? Py_True : Py_False;
    Py_INCREF(b);
    PyTuple_SET_ITEM(t, 1, b);
    return t;
}

static PyObject *
chan_close(ChanObject *self, PyObject *unused)
{
    (void)unused;
    int r = gpy_chan_close(self->ch);
    if (r == -EINVAL) {
        return raise_panic("close of nil channel");
    }
    if (r == -EPIPE) {
        return raise_panic("close of closed channel");
    }
    Py_RETURN_NONE;
}

static PyObject *
chan_cap(ChanObject *self, PyObject *unused)
{
    (void)unused;
    return PyLong_FromSize_t(gpy_chan_cap(self->ch));
}

static Py_ssize_t
chan_len(ChanObject *self)
{
    return (Py_ssize_t)gpy_chan_len(self->ch);
}

static PyObject *
chan_nil(PyObject *cls, PyObject *args)
{
    PyObject *dtype = NULL;
    (void)cls;
    if (!PyArg_ParseTuple(args, "|O:nil", &dtype)) {
        return NULL;
    }
    int dt = parse_dtype(dtype);
    if (dt < 0) {
        return NULL;
    }
    if (!typed_nil[dt]) {
        ChanObject *n = chan_alloc(chan_type, NULL);
        if (!n) {
            return NULL;
        }
        n->dtype = dt;
        typed_nil[dt] = (PyObject *)n;
    }
    Py_INCREF(typed_nil[dt]);
    return typed_nil[dt];
}

static PyObject *
chan_repr(ChanObject *self)
{
    if (!self->ch) {
        if (self->dtype == DT_OBJECT) {
            return PyUnicode_FromString("nilchan");
        }
        return PyUnicode_FromFormat("chan.nil('%s')", dtype_names[self->dtype]);
    }
    if (self->dtype != DT_OBJECT) {
        return PyUnicode_FromFormat("<chan[%s] object at %p, cap %zu>",
                                    dtype_names[self->dtype], (void *)self,
                                    gpy_chan_cap(self->ch));
    }
    return PyUnicode_FromFormat("<chan object at %p, cap %zu>", (void *)self,
                                gpy_chan_cap(self->ch));
}

static PyObject *
chan_richcompare(ChanObject *a, PyObject *b, int op)
{
    if (!PyObject_TypeCheck(b, chan_type) || (op != Py_EQ && op != Py_NE)) {
        Py_RETURN_NOTIMPLEMENTED;
    }
    int eq = a->ch == ((ChanObject *)b)->ch &&
             a->dtype == ((ChanObject *)b)->dtype;
    if (op == Py_NE) {
        eq = !eq;
    }
    return PyBool_FromLong(eq);
}

static Py_hash_t
chan_hash(ChanObject *self)
{
    return _Py_HashPointer(self->ch);
}

static PyObject *
chan_get_dtype(ChanObject *self, void *closure)
{
    (void)closure;
    return PyUnicode_FromString(dtype_names[self->dtype]);
}

static PyMethodDef chan_methods[] = {
    /* send, recv, recv_ first, in OP_* order: chan_getattro binds them */
    {"send", (PyCFunction)chan_send, METH_O,
     "send(v): send v; blocks until a receiver takes it or it is buffered."},
    {"recv", (PyCFunction)chan_recv, METH_NOARGS,
     "recv() -> v: receive a value (the zero value once closed and "
     "drained)."},
    {"recv_", (PyCFunction)chan_recv_, METH_NOARGS,
     "recv_() -> (v, ok): ok is False once closed and drained."},
    {"close", (PyCFunction)chan_close, METH_NOARGS, "close the channel."},
    {"cap", (PyCFunction)chan_cap, METH_NOARGS, "the buffer capacity."},
    {"nil", (PyCFunction)chan_nil, METH_VARARGS | METH_CLASS,
     "chan.nil(dtype): the nil channel."},
    {NULL, NULL, 0, NULL},
};

static PyObject *op_names[OP_COUNT];   /* interned "send", "recv", "recv_" */

/* chan_getattro returns ch.send, ch.recv and ch.recv_ bound once and
 * cached in the channel: select(ch.recv, ...) would otherwise allocate and
 * free a method object per case per call (a third of a non-blocking
 * select's cost). Method calls pay a little for it (the interpreter cannot
 * specialise their lookup any more): measured, the better trade.
 * The cache must not make a cycle, or channels would wait for the
 * collector: a cached method's __self__ is borrowed (and the method kept
 * from the collector's view), and chan_finalize gives the ones still held
 * elsewhere a reference of their own when the channel's last goes. */
static PyObject *
chan_getattro(ChanObject *self, PyObject *name)
{
    for (int op = 0; op < OP_COUNT; op++) {
        if (name != op_names[op]) {
            continue;
        }
        if (self->nocache) {
            break;
        }
        PyObject *m = self->bound[op];
        if (!m) {
            m = PyCFunction_NewEx(&chan_methods[op], (PyObject *)self, NULL);
            if (!m) {
                return NULL;
            }
            gpy_cpy_method_borrow(m);
            self->bound[op] = m;
        }
        Py_INCREF(m);
        return m;
    }
    return PyObject_GenericGetAttr((PyObject *)self, name);
}

static PyGetSetDef chan_getset[] = {
    {"dtype", (getter)chan_get_dtype, NULL, "element type", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyMemberDef chan_members[] = {
    {"__weaklistoffset__", T_PYSSIZET, offsetof(ChanObject, weakreflist),
     READONLY, NULL},
    {NULL, 0, 0, 0, NULL},
};

static PyType_Slot chan_slots[] = {
    {Py_tp_new, chan_new},
    {Py_tp_dealloc, chan_dealloc},
    {Py_tp_finalize, chan_finalize},
    {Py_tp_getattro, chan_getattro},
    {Py_tp_traverse, chan_traverse},
    {Py_tp_clear, chan_clear},
    {Py_tp_methods, chan_methods},
    {Py_tp_getset, chan_getset},
    {Py_tp_members, chan_members},
    {Py_tp_repr, chan_repr},
    {Py_tp_richcompare, chan_richcompare},
    {Py_tp_hash, chan_hash},
    {Py_sq_length, chan_len},
    {Py_mp_length, chan_len},
    {Py_tp_doc, "chan(size=0): a Go channel carrying Python objects."},
    {0, NULL},
};

static PyType_Spec chan_spec = {
    "golang.chan", sizeof(ChanObject), 0,
    Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_IMMUTABLETYPE,
    chan_slots,
};

/* ---- select ---- */

/* case_chan returns the channel of o if it is ch.<op> (bound), or NULL. */
static ChanObject *
case_chan(PyObject *o, int op)
{
    if (!PyCFunction_Check(o) ||
        ((PyCFunctionObject *)o)->m_ml != &chan_methods[op]) {
        return NULL;
    }
    return (ChanObject *)PyCFunction_GET_SELF(o);
}

#define SELECT_SMALL 8

/* pair builds (a, b), stealing both references (either may be NULL after
 * a failed allocation: then NULL). Py_BuildValue costs 4x more here. */
static PyObject *
pair(PyObject *a, PyObject *b)
{
    PyObject *t = (a && b) ? PyTuple_New(2) : NULL;
    if (!t) {
        Py_XDECREF(a);
        Py_XDECREF(b);
        return NULL;
    }
    PyTuple_SET_ITEM(t, 0, a);
    PyTuple_SET_ITEM(t, 1, b);
    return t;
}

enum { K_RECV, K_RECV_, K_SEND, K_DEFAULT };

static PyObject *
gpython_select(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    (void)self;
    gpy_case small_cases[SELECT_SMALL];
    unsigned char small_kind[SELECT_SMALL];
    PyObject *small_vals[SELECT_SMALL];
    int small_map[SELECT_SMALL];
    unsigned char small_dt[SELECT_SMALL];
    unsigned char *dts = small_dt;
    gpy_case *cases = small_cases;
    unsigned char *kind = small_kind;
    PyObject **vals = small_vals;
    int *map = small_map;   /* gpy case index -> argument index */
    PyObject *result = NULL;
    int n = 0, default_idx = -1;

    if (nargs > INT_MAX / 2) {
        PyErr_SetString(PyExc_ValueError, "select: too many cases");
        return NULL;
    }
    if (nargs > SELECT_SMALL) {
        cases = PyMem_Malloc((size_t)nargs * sizeof(*cases));
        kind = PyMem_Malloc((size_t)nargs);
        vals = PyMem_Malloc((size_t)nargs * sizeof(*vals));
        map = PyMem_Malloc((size_t)nargs * sizeof(*map));
        dts = PyMem_Malloc((size_t)nargs);
        if (!cases || !kind || !vals || !map || !dts) {
            PyErr_NoMemory();
            goto done;
        }
    }
    for (Py_ssize_t i = 0; i < nargs; i++) {
        PyObject *a = args[i];
        ChanObject *co;
        if (a == default_obj) {
            if (default_idx >= 0) {
                PyErr_SetString(PyExc_ValueError,
                                "select: multiple default cases");
                goto done;
            }
            default_idx = (int)i;
            continue;
        }
        if ((co = case_chan(a, OP_RECV))) {
            kind[n] = K_RECV;
        } else if ((co = case_chan(a, OP_RECV_))) {
            kind[n] = K_RECV_;
        } else if (PyTuple_Check(a)) {
            if (PyTuple_GET_SIZE(a) != 2 ||
                !(co = case_chan(PyTuple_GET_ITEM(a, 0), OP_SEND))) {
                PyErr_Format(PyExc_TypeError,
                             "select: case %zd: a send case must be "
                             "(ch.send, value), got %R", i, a);
                goto done;
            }
            kind[n] = K_SEND;
        } else {
            PyErr_Format(PyExc_TypeError,
                         "select: case %zd: expected ch.recv, ch.recv_, "
                         "(ch.send, value) or default, got %.200s",
                         i, Py_TYPE(a)->tp_name);
            goto done;
        }
        cases[n].ch = co->ch;
        cases[n].ok = 0;
        dts[n] = (unsigned char)co->dtype;
        if (kind[n] == K_SEND) {
            vals[n] = PyTuple_GET_ITEM(a, 1);
            cases[n].op = GPY_CASE_SEND;
        } else {
            vals[n] = NULL;
            cases[n].op = GPY_CASE_RECV;
        }
        cases[n].data = &vals[n];
        map[n] = (int)i;
        n++;
    }
    /* The values to send, converted to the channels' element types, are
     * owned by the cases until one fires. */
    for (int k = 0; k < n; k++) {
        if (kind[k] == K_SEND) {
            PyObject *v = dtype_convert(dts[k], vals[k]);
            if (!v) {
                for (int j = 0; j < k; j++) {
                    if (kind[j] == K_SEND) {
                        Py_DECREF(vals[j]);
                    }
                }
                goto done;
            }
            vals[k] = v;
        }
    }
    int closed = -1;
    int r = do_select(cases, n, default_idx >= 0, &closed);
    for (int k = 0; k < n; k++) {
        if (kind[k] == K_SEND && k != r) {
            Py_DECREF(vals[k]);
        }
    }
    if (r == -1) {
        goto done;
    }
    if (r == -2) {
        Py_INCREF(Py_None);
        result = pair(PyLong_FromLong(default_idx), Py_None);
        goto done;
    }
    PyObject *v;
    switch (kind[r]) {
    case K_SEND:
        v = Py_None;
        Py_INCREF(v);
        break;
    case K_RECV:
        v = cases[r].ok ? vals[r] : dtype_zero(dts[r]);
        if (!v) {
            goto done;
        }
        break;
    default:
        if (!cases[r].ok) {
            Py_INCREF(Py_False);
            v = pair(dtype_zero(dts[r]), Py_False);
        } else {
            Py_INCREF(Py_True);
            v = pair(vals[r], Py_True);
        }
        if (!v) {
            goto done;
        }
        break;
    }
    result = pair(PyLong_FromLong(map[r]), v);
done:
    if (cases != small_cases) {
        PyMem_Free(cases);
        PyMem_Free(kind);
        PyMem_Free(vals);
        PyMem_Free(map);
        PyMem_Free(dts);
    }
    return result;
}

/* ---- default ---- */

static PyObject *
default_repr(PyObject *self)
{
    (void)self;
    return PyUnicode_FromString("default");
}

static PyType_Slot default_slots[] = {
    {Py_tp_repr, default_repr},
    {Py_tp_doc, "default: the select case taken when no other is ready."},
    {0, NULL},
};

static PyType_Spec default_spec = {
    "golang._Default", sizeof(PyObject), 0,
    Py_TPFLAGS_DEFAULT | Py_TPFLAGS_IMMUTABLETYPE, default_slots,
};

/* ---- module ---- */

static PyMethodDef gpython_methods[] = {
    {"go", (PyCFunction)(void (*)(void))gpython_go,
     METH_FASTCALL | METH_KEYWORDS,
     "go(f, *args, **kw): run f(*args, **kw) in a new goroutine."},
    {"select", (PyCFunction)(void (*)(void))gpython_select, METH_FASTCALL,
     "select(*cases) -> (index, value): wait for the first ready case."},
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

static struct PyModuleDef gpython_module = {
    PyModuleDef_HEAD_INIT, "_gpython",
    "The gpython runtime: goroutines, channels and select.", -1,
    gpython_methods, NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC
PyInit__gpython(void)
{
    PyObject *m = PyModule_Create(&gpython_module);
    if (!m) {
        return NULL;
    }
    if (!chan_type) {
        chan_type = (PyTypeObject *)PyType_FromSpec(&chan_spec);
        if (!chan_type) {
            goto fail;
        }
        for (int op = 0; op < OP_COUNT; op++) {
            if (!(op_names[op] =
                      PyUnicode_InternFromString(chan_methods[op].ml_name))) {
                goto fail;
            }
        }
        PyTypeObject *dt = (PyTypeObject *)PyType_FromSpec(&default_spec);
        if (!dt) {
            goto fail;
        }
        default_obj = PyObject_Init(PyObject_Malloc(sizeof(PyObject)), dt);
        Py_DECREF(dt);  /* the instance holds its heap type */
        if (!default_obj) {
            goto fail;
        }
        nilchan_obj = (PyObject *)chan_alloc(chan_type, NULL);
        if (!nilchan_obj) {
            goto fail;
        }
        Py_INCREF(nilchan_obj);
        typed_nil[DT_OBJECT] = nilchan_obj;
        saved_trace_type = (PyTypeObject *)PyType_FromSpec(&saved_trace_spec);
        if (!saved_trace_type) {
            goto fail;
        }
        panic_error = PyErr_NewExceptionWithDoc(
            "golang._PanicError", "a Go panic: raised by panic() and by "
            "channel misuse", PyExc_BaseException, NULL);
        if (!panic_error) {
            goto fail;
        }
    }
    if (PyModule_AddObjectRef(m, "chan", (PyObject *)chan_type) < 0 ||
        PyModule_AddObjectRef(m, "default", default_obj) < 0 ||
        PyModule_AddObjectRef(m, "nilchan", nilchan_obj) < 0 ||
        PyModule_AddObjectRef(m, "_PanicError", panic_error) < 0) {
        goto fail;
    }
    return m;
fail:
    Py_DECREF(m);
    return NULL;
}

/* ---- the arena allocator: pooled frame data-stack chunks ---- */

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

/* ---- installation (called by the launcher) ---- */

int
gpy_py_preinit(void)
{
    int r = gpy_sched_init();
    if (r < 0) {
        return r;
    }
    PyObject_GetArenaAllocator(&A.orig);
    PyObjectArenaAllocator mine = {NULL, arena_alloc, arena_free};
    PyObject_SetArenaAllocator(&mine);
    return 0;
}

int
gpy_py_install(void)
{
    main_tstate = PyThreadState_Get();
    main_tstate->thread_id = 1;
    gpy_g_set_user(gpy_g_main(), main_tstate);
    gpy_hooks hooks = {hook_switch_in, hook_deadlock, hook_park_enter,
                       hook_park_exit, hook_stack_overflow};
    gpy_sched_set_hooks(&hooks);
    /* After Py_Initialize: the signal module recorded SIGSEGV as SIG_DFL,
     * as python3 reports it. */
    gpy_stack_guard_install();

    PyObject *m = PyImport_ImportModule("_gpython");
    if (!m) {
        return -1;
    }
    PyObject *builtins = PyEval_GetBuiltins();
    const char *names[] = {"go", "chan", "select", "default", "nilchan"};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        PyObject *o = PyObject_GetAttrString(m, names[i]);
        if (!o || PyDict_SetItemString(builtins, names[i], o) < 0) {
            Py_XDECREF(o);
            Py_DECREF(m);
            return -1;
        }
        Py_DECREF(o);
    }
    /* Registered first, so it runs last among atexit handlers: other
     * goroutines may run until then, never after. */
    PyObject *atexit = PyImport_ImportModule("atexit");
    PyObject *shut = atexit ? PyObject_GetAttrString(m, "_shutdown") : NULL;
    PyObject *r = shut ? PyObject_CallMethod(atexit, "register", "O", shut) : NULL;
    Py_XDECREF(r);
    Py_XDECREF(shut);
    Py_XDECREF(atexit);
    Py_DECREF(m);
    return r ? 0 : -1;
}

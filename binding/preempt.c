/* preempt.c: preemption of a goroutine that computes without blocking —
 * a monitor thread notices that no switch happened for a time slice while
 * others wait and makes the goroutine yield at its next line or opcode. */
#include "binding.h"

#include <errno.h>
#include <stdlib.h>

#include <stdint.h>
#include <time.h>

/* A goroutine that has run SLICE_US without a switch while others wait is
 * preempted; the monitor looks every TICK_US and asks for the GIL at once,
 * so the others wait about SLICE_US + TICK_US plus the goroutine's way to
 * its next line (python3's switch interval is 5 ms; a 10 ms ticker beside
 * a computing goroutine sees longest gaps of about 17 ms, as with python3's
 * threads; a timer not yet due when the goroutine yields costs a second
 * round). */
#define SLICE_US 4000
#define TICK_US 2000
/* A call without the GIL that lasts HANDOFF_US (seen on two ticks) gets
 * the others moved to another OS thread: they wait 2 to 4 ms. */
#define HANDOFF_US 2000

static int sysmon_started;

/* Finalization must not begin while the monitor asks for the GIL: a
 * thread that takes the GIL once Python is finalizing exits on the spot,
 * and a holder told to drop the GIL for it would wait for it forever.
 * gpy_py_preempt_stop (at shutdown, before finalization) waits for the
 * monitor to leave its GIL section and keeps it out. */
static int mon_stop, mon_busy;

/* The monitor cannot switch goroutines itself (it is another OS thread),
 * and a pending call cannot either (CPython signals those only from the
 * main thread, and runs no other until one returns). So the monitor takes
 * the GIL -- which makes the running goroutine drop it at its next
 * bytecode boundary -- and arms a one-shot trace function on that
 * goroutine's thread state; the trace function yields at the next line
 * or opcode event and puts back whatever tracer the goroutine had. The saved
 * tracer travels in the trace object, so it is per goroutine. */
typedef struct {
    PyObject_HEAD
    Py_tracefunc func; /* the goroutine's own tracer, if any */
    PyObject *obj;
    PyFrameObject *frame; /* the frame made to emit opcode events */
    char opcodes;         /* its f_trace_opcodes before */
} SavedTrace;

static PyTypeObject *saved_trace_type;

static void
saved_trace_dealloc(SavedTrace *self)
{
    PyTypeObject *tp = Py_TYPE(self);
    Py_XDECREF(self->obj);
    if (self->frame) {
        /* Replaced before it fired (sys.settrace): the frame must not keep
         * sending the new tracer opcode events it did not ask for. */
        gpy_cpy_frame_set_trace_opcodes(self->frame, self->opcodes);
        Py_DECREF(self->frame);
    }
    tp->tp_free(self);
    Py_DECREF(tp);
}

static PyType_Slot saved_trace_slots[] = {
    {Py_tp_dealloc, saved_trace_dealloc},
    {0, NULL},
};

static PyType_Spec saved_trace_spec = {
    "_gpython._Preempt",
    sizeof(SavedTrace),
    0,
    Py_TPFLAGS_DEFAULT | Py_TPFLAGS_IMMUTABLETYPE,
    saved_trace_slots,
};

static int
preempt_trace(PyObject *obj, PyFrameObject *frame, int what, PyObject *arg)
{
    SavedTrace *st = (SavedTrace *)obj;
    Py_INCREF(st);
    int opcodes_were_on = 1;
    if (st->frame) {
        gpy_cpy_frame_set_trace_opcodes(st->frame, st->opcodes);
        opcodes_were_on = st->opcodes;
        Py_CLEAR(st->frame);
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
    PyObject *own_obj;
    Py_tracefunc own = gpy_cpy_get_trace(PyThreadState_Get(), &own_obj);
    if (own && own != preempt_trace &&
        (what != PyTrace_OPCODE || opcodes_were_on)) {
        return own(own_obj, frame, what, arg);
    }
    return 0;
}

/* arm_preempt installs the one-shot tracer on ts; GIL held. */
static void
arm_preempt(PyThreadState *ts)
{
    PyObject *own_obj;
    Py_tracefunc own = gpy_cpy_get_trace(ts, &own_obj);
    if (!saved_trace_type || own == preempt_trace) {
        return;
    }
    SavedTrace *st = PyObject_New(SavedTrace, saved_trace_type);
    if (!st) {
        PyErr_Clear();
        return;
    }
    st->func = own;
    st->obj = own_obj;
    Py_XINCREF(st->obj);
    /* A loop that jumps to its own line (`while True: pass`) makes no line
     * events: ask the running frame for opcode events too. */
    st->frame = PyThreadState_GetFrame(ts);
    st->opcodes = 0;
    if (st->frame) {
        st->opcodes = gpy_cpy_frame_trace_opcodes(st->frame);
        gpy_cpy_frame_set_trace_opcodes(st->frame, 1);
    }
    gpy_cpy_set_trace(ts, preempt_trace, (PyObject *)st);
    Py_DECREF(st);
}

/* frame_still tells whether ts's innermost frame stays still for a
 * millisecond (sampled five times: same instruction, same locals and
 * value stack): it is inside one C call, not running bytecode, nor
 * calling a C function over and over. ts runs meanwhile: checked reads
 * (gpy_cpy_caller_running). */
static int
frame_still(PyThreadState *ts)
{
    PyObject *code;
    int lasti;
    uint64_t state, s2;
    if (!gpy_cpy_caller_running(ts, &code, &lasti, &state)) {
        return 0;
    }
    for (int i = 0; i < 5; i++) {
        struct timespec pause = {0, 200000};
        nanosleep(&pause, NULL);
        if (!gpy_cpy_caller_running(ts, &code, &lasti, &s2) || s2 != state) {
            return 0;
        }
    }
    return 1;
}

/* The monitor takes the GIL with a thread state of its own, kept out of
 * the interpreter's thread list: nothing lists it, and no PyGILState
 * bookkeeping runs for it. */
static int64_t
mono_us(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000000 + t.tv_nsec / 1000;
}

static void *
sysmon(void *arg)
{
    PyThreadState *mts = arg;
    unsigned long last = gpy_sched_switches();
    int64_t since = mono_us(); /* when `last` was first seen */
    for (;;) {
        struct timespec ts = {0, TICK_US * 1000};
        nanosleep(&ts, NULL);
        unsigned long now = gpy_sched_switches();
        int64_t t = mono_us();
        /* A goroutine in a call without the GIL for a while: the others
         * go on on another OS thread (handoff). */
        if (gpy_sched_handoff(HANDOFF_US * 1000LL)) {
            last = gpy_sched_switches();
            since = mono_us();
            continue;
        }
        if (now != last || !gpy_sched_others_waiting()) {
            last = now;
            since = t;
            continue;
        }
        if (t - since < SLICE_US) {
            continue;
        }
        /* A C call that holds the GIL (the goroutine's frame does not
         * move) cannot be preempted: waiting for the GIL would only stop
         * the monitor (and the blocking report) until it returns. */
        PyThreadState *hog = gpy_sched_running_user();
        if (hog && gpy_cpy_gil_owner() == hog && frame_still(hog)) {
            continue;
        }
        __atomic_store_n(&mon_busy, 1, __ATOMIC_SEQ_CST);
        if (__atomic_load_n(&mon_stop, __ATOMIC_SEQ_CST)) {
            __atomic_store_n(&mon_busy, 0, __ATOMIC_SEQ_CST);
            continue;
        }
        /* Ask for the GIL at once: waiting the switch interval (5 ms)
         * first would add to the others' wait. */
        gpy_cpy_request_gil_drop();
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
        __atomic_store_n(&mon_busy, 0, __ATOMIC_SEQ_CST);
        /* If the yield finds nobody ready yet (a timer not quite due), the
         * goroutine goes on: look again two ticks later, not at once. */
        last = gpy_sched_switches();
        since = mono_us() - SLICE_US + 2 * TICK_US;
    }
    return NULL;
}

/* The blocking report watches from a thread of its own: the monitor may
 * wait for the GIL as long as a C call that holds it lasts -- the very
 * call the report must name. */
static void *
reporter(void *arg)
{
    (void)arg;
    for (;;) {
        struct timespec ts = {0, TICK_US * 1000};
        nanosleep(&ts, NULL);
        gpy_py_blockreport_check(gpy_sched_switches());
    }
    return NULL;
}

void
gpy_py_preempt_start(void)
{
    if (sysmon_started) {
        return;
    }
    sysmon_started = 1;
    if (gpy_py_blockreport_ns &&
        gpy_thread_start(reporter, NULL, 64 << 10) == 0) {
        gpy_sched_own_thread(1);
    }
    PyThreadState *mts =
        PyThreadState_New(PyThreadState_GetInterpreter(PyThreadState_Get()));
    if (!mts) {
        return;
    }
    gpy_cpy_ts_retire(mts);
    if (gpy_thread_start(sysmon, mts, 64 << 10) == 0) {
        gpy_sched_own_thread(1);
    } else {
        gpy_cpy_ts_free(mts);
    }
}

void
gpy_py_preempt_stop(void)
{
    __atomic_store_n(&mon_stop, 1, __ATOMIC_SEQ_CST);
    if (!sysmon_started) {
        return;
    }
    Py_BEGIN_ALLOW_THREADS
    while (__atomic_load_n(&mon_busy, __ATOMIC_SEQ_CST)) {
        struct timespec pause = {0, 100000};
        nanosleep(&pause, NULL);
    }
    Py_END_ALLOW_THREADS
}

void
gpy_py_preempt_after_fork(void)
{
    sysmon_started = 0;
    mon_stop = mon_busy = 0;
}

int
gpy_py_preempt_init(void)
{
    if (!saved_trace_type) {
        saved_trace_type = (PyTypeObject *)PyType_FromSpec(&saved_trace_spec);
    }
    return saved_trace_type ? 0 : -1;
}

int
gpy_py_sched_options(void)
{
    PyObject *x = PySys_GetXOptions();
    PyObject *v = x ? PyDict_GetItemString(x, "gpython.maxthreads") : NULL;
    const char *env =
        Py_IgnoreEnvironmentFlag ? NULL : getenv("GPYTHON_MAXTHREADS");
    const char *text = NULL;
    const char *what = NULL;
    if (v && PyUnicode_Check(v)) {
        text = PyUnicode_AsUTF8(v);
        what = "-X gpython.maxthreads=N";
    } else if (v) {
        text = "";
        what = "-X gpython.maxthreads=N";
    } else if (env && *env) {
        text = env;
        what = "GPYTHON_MAXTHREADS";
    }
    if (!text) {
        return 0;
    }
    char *end;
    errno = 0;
    long n = strtol(text, &end, 10);
    if (!*text || *end || errno || n < 1 || n > 1000000) {
        PyErr_Format(PyExc_ValueError,
                     "%s: N must be a whole number of OS threads from 1 to "
                     "1000000, not '%s'",
                     what, text);
        return -1;
    }
    gpy_sched_set_max_threads((int)n);
    return 0;
}

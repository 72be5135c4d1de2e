/* cpython311.c: every access of the binding to CPython 3.11's private
 * structures (thread-state lists and fields, tracing, frames, the GILState
 * key, bound methods' __self__, unraisable reports) and the
 * two libpython functions gpython replaces (_Py_CheckRecursiveCall,
 * Py_SetRecursionLimit; the build weakens CPython's). */
#define PY_SSIZE_T_CLEAN
#define Py_BUILD_CORE 1
#include <Python.h>
#if PY_VERSION_HEX < 0x030B0000 || PY_VERSION_HEX >= 0x030C0000
#error "cpython311.c is for CPython 3.11: write the file for this version"
#endif
#include "internal/pycore_ceval.h"
#include "internal/pycore_frame.h"
#include "internal/pycore_interp.h"
#include "internal/pycore_runtime.h"
#include "internal/pycore_traceback.h"
#undef Py_BUILD_CORE

#include "cpython.h"
#include "gpy.h"

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <semaphore.h>
#include <sys/uio.h>
#include <unistd.h>

/* What PyThreadState_New gives a new thread state (new_threadstate). */
#define TS_GILSTATE_COUNTER 1

/* The runtime's head lock guards the interpreters' thread lists; pooling
 * takes it twice per goroutine. CPython 3.11's locks on Linux are POSIX
 * semaphores (sys.thread_info.lock == "semaphore"): an uncontended one is
 * taken with sem_trywait, the contended case goes through CPython. */
static void
head_lock(void)
{
    static int semaphores = -1;
    if (semaphores < 0) {
        PyObject *info = PyThread_GetInfo();
        PyObject *lock = info ? PyStructSequence_GetItem(info, 1) : NULL;
        semaphores = lock && PyUnicode_Check(lock) &&
                     PyUnicode_CompareWithASCIIString(lock, "semaphore") == 0;
        Py_XDECREF(info);
        PyErr_Clear();
    }
    if (semaphores &&
        sem_trywait((sem_t *)_PyRuntime.interpreters.mutex) == 0) {
        return;
    }
    PyThread_acquire_lock(_PyRuntime.interpreters.mutex, WAIT_LOCK);
}

static void
head_unlock(void)
{
    PyThread_release_lock(_PyRuntime.interpreters.mutex);
}

/* link_head puts ts first in its interpreter's thread list, as
 * PyThreadState_New does; head lock held. */
static void
link_head(PyThreadState *ts)
{
    PyInterpreterState *interp = ts->interp;
    ts->prev = NULL;
    ts->next = interp->threads.head;
    if (ts->next) {
        ts->next->prev = ts;
    }
    interp->threads.head = ts;
}

void
gpy_cpy_ts_retire(PyThreadState *ts)
{
    PyInterpreterState *interp = ts->interp;
    head_lock();
    if (ts->prev) {
        ts->prev->next = ts->next;
    } else if (interp->threads.head == ts) {
        interp->threads.head = ts->next;
    }
    if (ts->next) {
        ts->next->prev = ts->prev;
    }
    ts->prev = ts->next = NULL;
    head_unlock();
}

void
gpy_cpy_ts_revive(PyThreadState *ts)
{
    PyInterpreterState *interp = ts->interp;
    /* PyThreadState_Clear dropped the objects; these are the plain fields
     * it leaves as the last goroutine set them. */
    ts->on_delete = NULL;
    ts->on_delete_data = NULL;
    ts->c_tracefunc = NULL;
    ts->c_profilefunc = NULL;
    ts->tracing = 0;
    ts->tracing_what = 0;
    ts->cframe = &ts->root_cframe;
    ts->root_cframe.use_tracing = 0;
    ts->root_cframe.current_frame = NULL;
    ts->exc_info = &ts->exc_state;
    ts->recursion_headroom = 0;
    ts->recursion_limit = interp->ceval.recursion_limit;
    ts->recursion_remaining = ts->recursion_limit;
    ts->gilstate_counter = TS_GILSTATE_COUNTER;
    ts->coroutine_origin_tracking_depth = 0;
    ts->trash_delete_nesting = 0;
    ts->trash_delete_later = NULL;
    /* Line tracing caches the code object it last looked at by address. */
    ts->trace_info.code = NULL;
    head_lock();
    /* ContextVar's cache (var_cached_tsid) and asyncio's running-loop
     * cache (cached_running_holder_tsid, a borrowed pointer into the
     * thread's dict) trust that a thread-state id is never seen again. */
    ts->id = ++interp->threads.next_unique_id;
    link_head(ts);
    head_unlock();
}

void
gpy_cpy_ts_free(PyThreadState *ts)
{
    /* PyThreadState_Delete unlinks it under the head lock and frees its
     * data stack: give it back a place in the list first. */
    head_lock();
    link_head(ts);
    head_unlock();
    PyThreadState_Delete(ts);
}

void
gpy_cpy_set_trace(PyThreadState *ts, Py_tracefunc func, PyObject *obj)
{
    /* _PyEval_SetTrace without its sys.settrace audit event. */
    PyObject *old = ts->c_traceobj;
    ts->c_tracefunc = NULL;
    ts->c_traceobj = NULL;
    ts->cframe->use_tracing = ts->c_profilefunc != NULL ? 255 : 0;
    Py_XINCREF(obj);
    Py_XDECREF(old);
    ts->c_traceobj = obj;
    ts->c_tracefunc = func;
    ts->cframe->use_tracing =
        (func != NULL || ts->c_profilefunc != NULL) ? 255 : 0;
}

void
gpy_cpy_gilstate_set(PyThreadState *ts)
{
    PyThread_tss_set(&_PyRuntime.gilstate.autoTSSkey, ts);
}

PyThreadState *
gpy_cpy_gil_owner(void)
{
    return _PyThreadState_UncheckedGet();
}

int
gpy_cpy_gil_held(void)
{
    PyThreadState *ts = _PyThreadState_UncheckedGet();
    if (!ts) {
        return 0;
    }
    gpy_g *g = gpy_g_current();
    if (g) {
        return gpy_g_user(g) == ts;
    }
    return PyGILState_GetThisThreadState() == ts;
}

int
gpy_cpy_gil_released(void)
{
    /* CPython 3.11 keeps one global "thread state holding the GIL". NULL:
     * nobody holds it, so the calling goroutine released it around this
     * call. Non-NULL: either we hold it (a call made with the GIL held
     * must not park: no other goroutine could take the GIL) or another OS
     * thread does, which still means our goroutine released it. On the
     * scheduler thread "we" is the running goroutine's thread state (each
     * goroutine's carries its goroutine id as thread_id) or, before the
     * runtime knows it, one created on this OS thread. (Another thread's
     * state may be freed while we look; the worst outcome is a blocking
     * pass-through.) */
    PyThreadState *ts = _PyThreadState_UncheckedGet();
    if (ts == NULL) {
        return 1;
    }
    gpy_g *g = gpy_g_current();
    if (g && gpy_g_user(g) == ts) {
        return 0;
    }
    return ts->thread_id != PyThread_get_thread_ident();
}

void
gpy_cpy_ts_set_thread_id(PyThreadState *ts, unsigned long id)
{
    ts->thread_id = id;
}

Py_tracefunc
gpy_cpy_get_trace(PyThreadState *ts, PyObject **obj)
{
    *obj = ts->c_traceobj;
    return ts->c_tracefunc;
}

int
gpy_cpy_frame_trace_opcodes(PyFrameObject *f)
{
    return f->f_trace_opcodes;
}

void
gpy_cpy_frame_set_trace_opcodes(PyFrameObject *f, int on)
{
    f->f_trace_opcodes = (char)on;
}

int
gpy_cpy_frame_unbind(PyFrameObject *f, PyObject *name, PyObject *value)
{
    _PyInterpreterFrame *fr = f->f_frame;
    PyCodeObject *co = fr->f_code;
    if (!(co->co_flags & CO_OPTIMIZED)) {
        return 0;
    }
    /* (stacktop is not kept up to date while the frame executes) */
    for (int i = 0; i < co->co_nlocalsplus; i++) {
        PyObject *n = PyTuple_GET_ITEM(co->co_localsplusnames, i);
        if (PyUnicode_Compare(n, name) != 0) {
            continue;
        }
        _PyLocals_Kind k = _PyLocals_GetKind(co->co_localspluskinds, i);
        PyObject *v = fr->localsplus[i];
        if ((k & (CO_FAST_CELL | CO_FAST_FREE)) && v && PyCell_Check(v)) {
            if (PyCell_GET(v) != value) {
                return 0;
            }
            PyCell_SET(v, NULL);
            Py_DECREF(value);
            return 1;
        }
        if (v != value) {
            return 0;
        }
        fr->localsplus[i] = NULL;
        Py_DECREF(value);
        return 1;
    }
    return 0;
}

void
gpy_cpy_write_unraisable(const char *msg, PyObject *obj)
{
    _PyErr_WriteUnraisableMsg(msg, obj);
}

Py_hash_t
gpy_cpy_hash_pointer(const void *p)
{
    return _Py_HashPointer(p);
}

void
gpy_cpy_method_borrow(PyObject *m)
{
    PyObject_GC_UnTrack(m);
    Py_DECREF(((PyCFunctionObject *)m)->m_self);
}

void
gpy_cpy_method_own(PyObject *m)
{
    Py_INCREF(((PyCFunctionObject *)m)->m_self);
    PyObject_GC_Track(m);
}

void
gpy_cpy_method_forget(PyObject *m)
{
    ((PyCFunctionObject *)m)->m_self = NULL;
}

void
gpy_cpy_dump_traceback(int fd, PyThreadState *ts)
{
    _Py_DumpTraceback(fd, ts);
}

/* ---- frames, read without the GIL's help (goroutine dumps) ---- */

/* first_complete skips the frames CPython has not finished setting up. */
static _PyInterpreterFrame *
first_complete(_PyInterpreterFrame *f)
{
    while (f && _PyFrame_IsIncomplete(f)) {
        f = f->previous;
    }
    return f;
}

int
gpy_cpy_caller(PyThreadState *ts, PyObject **code, int *lasti)
{
    return gpy_cpy_caller_up(ts, 0, code, lasti);
}

int
gpy_cpy_caller_up(PyThreadState *ts, int up, PyObject **code, int *lasti)
{
    _PyInterpreterFrame *f =
        ts && ts->cframe ? first_complete(ts->cframe->current_frame) : NULL;
    for (; f && up > 0; up--) {
        f = first_complete(f->previous);
    }
    if (!f) {
        return 0;
    }
    *code = (PyObject *)f->f_code;
    *lasti = _PyInterpreterFrame_LASTI(f);
    return 1;
}

/* peek copies n bytes at src into dst unless src is not mapped readable
 * (0): the kernel does the read (process_vm_readv on ourselves, or a
 * pipe's write where that is not allowed), so a bad address is EFAULT,
 * not SIGSEGV. */
static int
peek(void *dst, const void *src, size_t n)
{
    static int no_vm_readv;
    static int pipefd[2] = {-1, -1};
    if (!no_vm_readv) {
        struct iovec l = {dst, n}, r = {(void *)src, n};
        ssize_t got = process_vm_readv(getpid(), &l, 1, &r, 1, 0);
        if (got == (ssize_t)n) {
            return 1;
        }
        if (got >= 0 || errno == EFAULT) {
            return 0;
        }
        no_vm_readv = 1; /* ENOSYS, EPERM (seccomp) */
    }
    if (pipefd[0] < 0 && pipe2(pipefd, O_CLOEXEC | O_NONBLOCK) < 0) {
        return 0;
    }
    if (write(pipefd[1], src, n) != (ssize_t)n) {
        return 0;
    }
    return read(pipefd[0], dst, n) == (ssize_t)n;
}

/* stack_running is gpy_cpy_stack_running; where (if not NULL) gets each
 * reported frame's address. */
static int
stack_running(PyThreadState *ts, gpy_cpy_frame *out, int max, int *more,
              const _PyInterpreterFrame **where)
{
    _PyCFrame *cf;
    _PyInterpreterFrame *fp, f;
    int n = 0;
    *more = 0;
    if (!ts || !peek(&cf, &ts->cframe, sizeof(cf)) || !cf ||
        !peek(&fp, (const char *)cf + offsetof(_PyCFrame, current_frame),
              sizeof(fp))) {
        return 0;
    }
    /* as gpy_cpy_stack (incomplete frames skipped), every read checked;
     * bounded, in case a stale chain loops */
    for (int steps = 0; fp && steps < 4 * max + 64; steps++) {
        /* addresses computed, not member accesses: f_code may be garbage
         * (and then misaligned) */
        int first;
        if (!peek(&f, fp, sizeof(f)) || !f.f_code ||
            ((uintptr_t)f.f_code & (_Alignof(PyCodeObject) - 1)) ||
            !peek(&first,
                  (const char *)f.f_code +
                      offsetof(PyCodeObject, _co_firsttraceable),
                  sizeof(first))) {
            break;
        }
        _Py_CODEUNIT *start =
            (_Py_CODEUNIT *)((char *)f.f_code +
                             offsetof(PyCodeObject, co_code_adaptive));
        if (f.owner == FRAME_OWNED_BY_GENERATOR ||
            f.prev_instr >= start + first) {
            if (n == max) {
                *more = 1;
                break;
            }
            out[n].code = (PyObject *)f.f_code;
            out[n].lasti = (int)(f.prev_instr - start);
            if (where) {
                where[n] = fp;
            }
            n++;
        }
        fp = f.previous;
    }
    return n;
}

int
gpy_cpy_stack_running(PyThreadState *ts, gpy_cpy_frame *out, int max,
                      int *more)
{
    return stack_running(ts, out, max, more, NULL);
}

int
gpy_cpy_caller_running(PyThreadState *ts, PyObject **code, int *lasti,
                       uint64_t *state)
{
    gpy_cpy_frame fr = {NULL, 0};
    const _PyInterpreterFrame *fp = NULL;
    int more;
    if (stack_running(ts, &fr, 1, &more, &fp) != 1) {
        return 0;
    }
    *code = fr.code;
    *lasti = fr.lasti;
    /* The innermost frame's locals and value stack, as pointers: a loop
     * that spends most of its time in one C call (go(f, i) a million
     * times) keeps its instruction but not its values. */
    uint64_t h = (uint64_t)(uintptr_t)fr.code * 31 + (uint64_t)fr.lasti;
    int nlocals = 0, stacksize = 0;
    PyObject *slots[32];
    if (peek(&nlocals,
             (const char *)fr.code + offsetof(PyCodeObject, co_nlocalsplus),
             sizeof(nlocals)) &&
        peek(&stacksize,
             (const char *)fr.code + offsetof(PyCodeObject, co_stacksize),
             sizeof(stacksize))) {
        long n = (long)nlocals + stacksize;
        n = n < 0 ? 0 : n > 32 ? 32 : n;
        if (n > 0 &&
            peek(slots,
                 (const char *)fp + offsetof(_PyInterpreterFrame, localsplus),
                 (size_t)n * sizeof(PyObject *))) {
            for (long i = 0; i < n; i++) {
                h = h * 1000003 ^ (uint64_t)(uintptr_t)slots[i];
            }
        }
    }
    *state = h;
    return 1;
}

int
gpy_cpy_code_line(PyObject *code, int lasti)
{
    return PyCode_Addr2Line((PyCodeObject *)code,
                            lasti * (int)sizeof(_Py_CODEUNIT));
}

int
gpy_cpy_stack(PyThreadState *ts, gpy_cpy_frame *out, int max, int *more)
{
    int n = 0;
    *more = 0;
    _PyInterpreterFrame *f =
        ts && ts->cframe ? first_complete(ts->cframe->current_frame) : NULL;
    for (; f; f = first_complete(f->previous)) {
        if (n == max) {
            *more = 1;
            break;
        }
        out[n].code = (PyObject *)f->f_code;
        out[n].lasti = _PyInterpreterFrame_LASTI(f);
        n++;
    }
    return n;
}

PyObject *
gpy_cpy_code_filename(PyObject *code)
{
    return ((PyCodeObject *)code)->co_filename;
}

PyObject *
gpy_cpy_code_name(PyObject *code)
{
    return ((PyCodeObject *)code)->co_name;
}

const char *
gpy_cpy_str_bytes(PyObject *s, size_t *len)
{
    if (!s || !PyUnicode_Check(s) || !PyUnicode_IS_READY(s)) {
        return NULL;
    }
    if (PyUnicode_IS_COMPACT_ASCII(s)) {
        *len = (size_t)PyUnicode_GET_LENGTH(s);
        return (const char *)PyUnicode_DATA(s);
    }
    PyCompactUnicodeObject *c = (PyCompactUnicodeObject *)s;
    if (PyUnicode_IS_COMPACT(s) && c->utf8) {
        *len = (size_t)c->utf8_length;
        return c->utf8;
    }
    return NULL;
}

PyObject *
gpy_cpy_callable_name(PyObject *f)
{
    if (PyMethod_Check(f)) {
        f = PyMethod_GET_FUNCTION(f);
    }
    if (PyFunction_Check(f)) {
        return ((PyFunctionObject *)f)->func_qualname;
    }
    return NULL;
}

/* ---- recursion checks that know the goroutine's stack ---- */

/* CPython counts nesting (Python calls and C recursion alike) and trusts
 * the OS thread's stack to hold recursion_limit levels; a program may
 * raise the limit as far as it likes. On a goroutine stack the check also
 * looks at the stack itself: up to safe_depth() levels fit whatever they
 * are (PER_LEVEL bytes each at most, more than CPython's C recursion takes
 * through any path we measured), and from there on every new level calls
 * _Py_CheckRecursiveCall (recursion_remaining stays negative), which
 * raises RecursionError once less than margin() bytes are left. Deep pure
 * Python recursion pays one call per level beyond safe_depth(). */
#if defined(__SANITIZE_ADDRESS__)
#define PER_LEVEL (48u << 10) /* ASan's redzones triple C frames */
#else
#define PER_LEVEL (16u << 10)
#endif

static size_t
margin(void)
{
    size_t size = gpy_stack_size();
    return size / 4 < (512u << 10) ? size / 4 : (512u << 10);
}

static int
safe_depth(void)
{
    static int depth;
    if (!depth) {
        size_t d = (gpy_stack_size() - margin()) / PER_LEVEL;
        depth = d < 1 ? 1 : (d > INT_MAX ? INT_MAX : (int)d);
    }
    return depth;
}

static void
set_limit(PyThreadState *ts, int limit)
{
    int depth = ts->recursion_limit - ts->recursion_remaining;
    ts->recursion_limit = limit;
    ts->recursion_remaining = limit - depth;
}

void
gpy_cpy_recursion_clamp(PyThreadState *ts)
{
    int limit = ts->interp->ceval.recursion_limit;
    set_limit(ts, limit < safe_depth() ? limit : safe_depth());
}

/* Replaces CPython's (ceval.c), which this reproduces for callers that do
 * not run on a goroutine stack. */
int
_Py_CheckRecursiveCall(PyThreadState *tstate, const char *where)
{
    int limit = tstate->interp->ceval.recursion_limit;
    int depth = tstate->recursion_limit - tstate->recursion_remaining;
    long left = gpy_stack_left();
    if (left < 0) {
        if (depth < limit) {
            set_limit(tstate, limit);
            return 0;
        }
        if (tstate->recursion_headroom) {
            if (tstate->recursion_remaining < -50) {
                Py_FatalError("Cannot recover from stack overflow.");
            }
            return 0;
        }
        if (tstate->recursion_remaining > 0) {
            return 0;
        }
    } else {
        /* Keep the counter negative beyond safe_depth: each level checks. */
        int clamp = limit < safe_depth() ? limit : safe_depth();
        if (tstate->recursion_limit != clamp) {
            set_limit(tstate, clamp);
        }
        if (tstate->recursion_headroom) {
            /* Raising RecursionError: CPython allows 50 more levels. */
            if (depth > limit + 50 || (size_t)left < margin() / 2) {
                Py_FatalError("Cannot recover from stack overflow.");
            }
            return 0;
        }
        if (depth <= limit && (size_t)left > margin()) {
            return 0;
        }
    }
    tstate->recursion_headroom++;
    PyErr_Format(PyExc_RecursionError, "maximum recursion depth exceeded%s",
                 where);
    tstate->recursion_headroom--;
    ++tstate->recursion_remaining;
    return -1;
}

/* Replaces CPython's: the same, but a goroutine's thread state keeps
 * checking its stack beyond safe_depth() whatever the new limit. */
void
Py_SetRecursionLimit(int new_limit)
{
    PyInterpreterState *interp = PyInterpreterState_Get();
    interp->ceval.recursion_limit = new_limit;
    int clamp = new_limit < safe_depth() ? new_limit : safe_depth();
    for (PyThreadState *p = interp->threads.head; p; p = p->next) {
        set_limit(p, clamp);
    }
}

/* ---- the GIL's entry points (handoff) ---- */

void gpy_cpy_real_PyEval_AcquireThread(PyThreadState *ts);
void gpy_cpy_real_PyEval_ReleaseThread(PyThreadState *ts);

/* Every Py_BEGIN_ALLOW_THREADS of libpython and of extension modules, and
 * PyGILState_Release, comes here: from now on the goroutine is in a call
 * that the monitor may find stuck (then another OS thread runs the other
 * goroutines). Py_END_ALLOW_THREADS and PyGILState_Ensure first get the
 * scheduler back for this OS thread, so that Python code runs only on the
 * thread holding it. */
PyThreadState *
PyEval_SaveThread(void)
{
    PyThreadState *ts = gpy_cpy_real_PyEval_SaveThread();
    gpy_sched_syscall_enter();
    return ts;
}

void
PyEval_RestoreThread(PyThreadState *ts)
{
    gpy_sched_syscall_exit();
    gpy_cpy_real_PyEval_RestoreThread(ts);
}

void
PyEval_ReleaseThread(PyThreadState *ts)
{
    gpy_cpy_real_PyEval_ReleaseThread(ts);
    gpy_sched_syscall_enter();
}

void
PyEval_AcquireThread(PyThreadState *ts)
{
    gpy_sched_syscall_exit();
    gpy_cpy_real_PyEval_AcquireThread(ts);
}

void
gpy_cpy_request_gil_drop(void)
{
    /* CPython's SET_GIL_DROP_REQUEST: the GIL's holder lets go at its next
     * bytecode boundary, instead of after the switch interval a new waiter
     * otherwise waits first (5 ms by default). */
    PyInterpreterState *interp = _PyInterpreterState_Main();
    _Py_atomic_store_relaxed(&interp->ceval.gil_drop_request, 1);
    _Py_atomic_store_relaxed(&interp->ceval.eval_breaker, 1);
}

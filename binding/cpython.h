/* cpython.h: what the binding needs from CPython beyond its public API —
 * thread-state pooling, quiet tracing, the GILState key, stack-aware
 * recursion checks. Implemented once per CPython version (cpython311.c);
 * supporting another version means writing that file again. */
#ifndef GPY_CPYTHON_H
#define GPY_CPYTHON_H

#include <Python.h>

/* gpy_cpy_ts_retire takes a cleared thread state out of its interpreter's
 * list of threads, so that nothing lists it (faulthandler,
 * sys._current_frames, a fork child's cleanup) while it waits in the
 * binding's pool. GIL held. */
void gpy_cpy_ts_retire(PyThreadState *ts);

/* gpy_cpy_ts_revive puts a retired thread state back into its
 * interpreter's list as a new thread: a fresh unique id (CPython's
 * ContextVar and asyncio caches key on it), and every per-thread field a
 * finished goroutine may have left behind reset to what PyThreadState_New
 * gives. GIL held. */
void gpy_cpy_ts_revive(PyThreadState *ts);

/* gpy_cpy_ts_free frees a retired thread state (shutdown, fork child).
 * GIL held. */
void gpy_cpy_ts_free(PyThreadState *ts);

/* gpy_cpy_set_trace sets ts's C trace function as PyEval_SetTrace does,
 * but raises no audit event and cannot fail: for the preemption tracer,
 * which the program neither asked for nor may see. GIL held. */
void gpy_cpy_set_trace(PyThreadState *ts, Py_tracefunc func, PyObject *obj);

/* CPython's own PyEval_SaveThread/RestoreThread, renamed in our copy of
 * ceval.o (CMakeLists.txt); the public names are ours (cpython311.c). */
PyThreadState *gpy_cpy_real_PyEval_SaveThread(void);
void gpy_cpy_real_PyEval_RestoreThread(PyThreadState *ts);

/* gpy_cpy_request_gil_drop asks the GIL's holder to let go at its next
 * bytecode boundary (any thread, no GIL). */
void gpy_cpy_request_gil_drop(void);

/* gpy_cpy_gilstate_set makes ts what PyGILState_GetThisThreadState()
 * returns on the calling OS thread. */
void gpy_cpy_gilstate_set(PyThreadState *ts);

/* gpy_cpy_recursion_clamp makes ts check the C stack left at each nesting
 * level beyond what its stack surely holds (the override of
 * _Py_CheckRecursiveCall raises RecursionError before a goroutine stack
 * overflows). Call for a goroutine's thread state before it runs. */
void gpy_cpy_recursion_clamp(PyThreadState *ts);

/* gpy_cpy_gil_held tells whether the caller (the running goroutine, or
 * this OS thread's own thread state) holds the GIL. */
int gpy_cpy_gil_held(void);

/* gpy_cpy_gil_owner: the thread state holding the GIL, or NULL (racy). */
PyThreadState *gpy_cpy_gil_owner(void);

/* gpy_cpy_gil_released tells whether the calling thread does not hold the
 * GIL (the runtime's gil_released hook: patches/ park only then). Any
 * thread, with or without the GIL. */
int gpy_cpy_gil_released(void);

/* gpy_cpy_ts_set_thread_id sets the thread id CPython keys ts by
 * (sys._current_frames, PyThreadState_SetAsyncExc). */
void gpy_cpy_ts_set_thread_id(PyThreadState *ts, unsigned long id);

/* gpy_cpy_get_trace returns ts's C trace function and (borrowed) object. */
Py_tracefunc gpy_cpy_get_trace(PyThreadState *ts, PyObject **obj);

/* gpy_cpy_frame_trace_opcodes and _set_ read and write a frame's
 * f_trace_opcodes (whether it emits opcode events to the tracer). */
int gpy_cpy_frame_trace_opcodes(PyFrameObject *f);
void gpy_cpy_frame_set_trace_opcodes(PyFrameObject *f, int on);

/* gpy_cpy_frame_unbind makes local variable `name` of function frame f
 * unbound (its fast slot, or its cell's contents, emptied) if it holds
 * `value`: 1 done, 0 not bound to value or no such local. For pygolang's
 * `@func(Class) def name`, which leaves no `name` in the caller. */
int gpy_cpy_frame_unbind(PyFrameObject *f, PyObject *name, PyObject *value);

/* gpy_cpy_write_unraisable reports the exception set through
 * sys.unraisablehook as "Exception ignored <msg>: <obj>". */
void gpy_cpy_write_unraisable(const char *msg, PyObject *obj);

/* gpy_cpy_hash_pointer hashes an address as CPython hashes object ids. */
Py_hash_t gpy_cpy_hash_pointer(const void *p);

/* A builtin method bound to self, cached by self, whose reference to
 * self is borrowed (a cache that makes no cycle): gpy_cpy_method_borrow
 * gives up the method's reference to self and takes it out of the
 * collector's view (a borrowed pointer must not be traversed);
 * gpy_cpy_method_own takes the reference back and tracks the method again;
 * gpy_cpy_method_forget drops the borrowed pointer before the cache frees
 * the method. GIL held. */
void gpy_cpy_method_borrow(PyObject *m);
void gpy_cpy_method_own(PyObject *m);
void gpy_cpy_method_forget(PyObject *m);

/* gpy_cpy_dump_traceback writes ts's Python stack to fd, async-signal-safe
 * (faulthandler's writer). */
void gpy_cpy_dump_traceback(int fd, PyThreadState *ts);

/* ---- frames, for goroutine dumps: plain reads, no references taken, no
 * allocation (usable in a signal handler while the scheduler is stopped,
 * as faulthandler reads them) ---- */

typedef struct gpy_cpy_frame {
    PyObject *code; /* borrowed */
    int lasti;      /* the instruction, for gpy_cpy_code_line */
} gpy_cpy_frame;

/* gpy_cpy_caller gives ts's innermost Python frame (1), or 0 for none. */
int gpy_cpy_caller(PyThreadState *ts, PyObject **code, int *lasti);
/* gpy_cpy_caller_up: the same, `up` frames further out. */
int gpy_cpy_caller_up(PyThreadState *ts, int up, PyObject **code, int *lasti);
/* gpy_cpy_caller_running: gpy_cpy_caller for a thread state running on
 * another OS thread right now (the monitor's samples): every read is
 * checked, so a frame popped meanwhile (its memory reused or unmapped)
 * gives 0 or a wrong answer, never a crash. *state summarises the frame
 * (instruction, locals, value stack): it stays the same only while one
 * call is in progress. */
int gpy_cpy_caller_running(PyThreadState *ts, PyObject **code, int *lasti,
                           uint64_t *state);
/* gpy_cpy_stack fills out[] innermost first; *more: frames left out. */
int gpy_cpy_stack(PyThreadState *ts, gpy_cpy_frame *out, int max, int *more);
/* gpy_cpy_stack_running: gpy_cpy_stack for a thread state that may be
 * running on another OS thread (checked reads, as gpy_cpy_caller_running;
 * slower: for the running goroutine only). */
int gpy_cpy_stack_running(PyThreadState *ts, gpy_cpy_frame *out, int max,
                          int *more);
int gpy_cpy_code_line(PyObject *code, int lasti);
PyObject *gpy_cpy_code_filename(PyObject *code); /* borrowed */
PyObject *gpy_cpy_code_name(PyObject *code);     /* borrowed */
/* gpy_cpy_str_bytes: a str's UTF-8 bytes if CPython has them at hand
 * (ASCII, or UTF-8 cached), else NULL. */
const char *gpy_cpy_str_bytes(PyObject *s, size_t *len);
/* gpy_cpy_callable_name: a function's (or method's) __qualname__,
 * borrowed, or NULL. */
PyObject *gpy_cpy_callable_name(PyObject *f);

#endif

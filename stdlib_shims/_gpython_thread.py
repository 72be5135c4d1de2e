"""_gpython_thread: `_thread` for goroutines — start_new_thread starts a
goroutine, get_ident is the goroutine id, RLock keys on it. install() patches
the `_thread` module (and `threading` if it is already imported); everything
else (threading.Thread, Lock, Event, queue, importlib's module locks) follows.

get_ident() is the goroutine id (1 for the main goroutine) on the scheduler
thread and, on any other OS thread (started with gpython.start_os_thread, or
by a C library), python3's thread ident (a pthread_t, far above any goroutine
id). get_native_id() is the goroutine id for a goroutine — it names a
goroutine, not a kernel task: do not look it up in /proc/self/task — and the
kernel thread id for another OS thread. signal.pthread_kill accepts both.
"""

import _signal
import sys
import time as _time
import _thread
import _gpython

# The originals, for real OS threads (gpython.start_os_thread).
os_start_new_thread = _thread.start_new_thread
os_get_ident = _thread.get_ident
os_get_native_id = _thread.get_native_id
_sched_thread = os_get_ident()     # imported by _gpython_init, on it
_orig_pthread_kill = _signal.pthread_kill
_orig_getcpuclockid = getattr(_time, "pthread_getcpuclockid", None)

get_ident = _gpython.thread_get_ident
_allocate_lock = _thread.allocate_lock
_spawn = _gpython.spawn

# Threads started through start_new_thread and still running (_thread._count).
_nthreads = 0
_unraisable_args_type = None


def get_native_id():
    """get_native_id() -> int: the goroutine id (another OS thread: its
    kernel thread id)."""
    i = get_ident()
    return i if i != os_get_ident() else os_get_native_id()


# Goroutine ids stay far below any pthread_t (an address) on 64-bit Linux.
_GOROUTINE_IDS = 1 << 32


def after_fork_child():
    """The forking thread is the child's scheduler thread."""
    global _sched_thread
    _sched_thread = os_get_ident()


def pthread_kill(thread_id, signalnum, /):
    """pthread_kill(thread_id, signalnum): signal.pthread_kill, where a
    goroutine id (threading.get_ident() in a goroutine) names the scheduler
    thread every goroutine runs on."""
    if 0 < thread_id < _GOROUTINE_IDS:
        thread_id = _sched_thread
    return _orig_pthread_kill(thread_id, signalnum)


def pthread_getcpuclockid(thread_id, /):
    """pthread_getcpuclockid(thread_id): time.pthread_getcpuclockid, where a
    goroutine id names the scheduler thread (whose CPU clock counts every
    goroutine's time): a goroutine id is no pthread_t to hand to libc."""
    if 0 < thread_id < _GOROUTINE_IDS:
        thread_id = _sched_thread
    return _orig_getcpuclockid(thread_id)


def _count():
    """_count() -> int: how many threads started by start_new_thread are
    still running (goroutines started by go() are not counted)."""
    return _nthreads


def _unraisable_type():
    # UnraisableHookArgs is not exposed: catch one instance of it.
    global _unraisable_args_type
    if _unraisable_args_type is None:
        got = []
        hook = sys.unraisablehook
        sys.unraisablehook = lambda args: got.append(type(args))
        try:
            class _Raise:
                def __del__(self):
                    raise RuntimeError
            _Raise()
        finally:
            sys.unraisablehook = hook
        _unraisable_args_type = got[0]
    return _unraisable_args_type


def _report(exc, function):
    # What CPython's thread_run does for an exception that escapes a
    # _thread thread: report it through sys.unraisablehook and carry on.
    try:
        args = _unraisable_type()((type(exc), exc, exc.__traceback__,
                                   "Exception ignored in thread started by",
                                   function))
        sys.unraisablehook(args)
    except BaseException:
        pass


def _run(function, args, kwargs):
    global _nthreads
    try:
        function(*args, **kwargs)
    except SystemExit:
        pass
    except BaseException as e:
        _report(e, function)
    finally:
        _nthreads -= 1


def start_new_thread(function, args, kwargs=None):
    """start_new_thread(function, args[, kwargs]) -> goroutine id

    Start a goroutine running function(*args, **kwargs). An exception that
    escapes it is reported through sys.unraisablehook (SystemExit ends the
    thread silently), as for an OS thread in python3."""
    if not callable(function):
        raise TypeError("first arg must be callable")
    if not isinstance(args, tuple):
        raise TypeError("2nd arg must be a tuple")
    if kwargs is not None and not isinstance(kwargs, dict):
        raise TypeError("optional 3rd arg must be a dictionary")
    sys.audit("_thread.start_new_thread", function, args, kwargs)
    global _nthreads
    _nthreads += 1
    try:
        return _spawn(_run, (function, args, kwargs or {}))
    except BaseException:
        _nthreads -= 1
        raise


class RLock:
    """A reentrant lock owned by a goroutine: acquire it again from the same
    goroutine without blocking, release it as many times. (CPython's C RLock
    keys on the OS thread, which every goroutine shares.)"""

    __slots__ = ("_block", "_owner", "_count", "__weakref__")

    def __init__(self, *args, **kwargs):
        self._block = _allocate_lock()
        self._owner = None
        self._count = 0

    def __repr__(self):
        return "<%s %s.%s object owner=%r count=%d at %s>" % (
            "locked" if self._block.locked() else "unlocked",
            self.__class__.__module__, self.__class__.__qualname__,
            self._owner, self._count, hex(id(self)))

    def acquire(self, blocking=True, timeout=-1):
        """acquire(blocking=True, timeout=-1) -> bool: as threading.RLock."""
        me = get_ident()
        if self._owner == me:
            self._count += 1
            return True
        rc = self._block.acquire(blocking, timeout)
        if rc:
            self._owner = me
            self._count = 1
        return rc

    __enter__ = acquire

    def release(self):
        """release(): undo one acquire; the last one unlocks."""
        if self._owner != get_ident():
            raise RuntimeError("cannot release un-acquired lock")
        self._count = count = self._count - 1
        if not count:
            self._owner = None
            self._block.release()

    def __exit__(self, t, v, tb):
        self.release()

    def _at_fork_reinit(self):
        self._block._at_fork_reinit()
        self._owner = None
        self._count = 0

    # Used by threading.Condition.

    def _acquire_restore(self, state):
        self._block.acquire()
        self._count, self._owner = state

    def _release_save(self):
        if self._count == 0:
            raise RuntimeError("cannot release un-acquired lock")
        count = self._count
        self._count = 0
        owner = self._owner
        self._owner = None
        self._block.release()
        return (count, owner)

    def _is_owned(self):
        return self._owner == get_ident()


RLock.__module__ = "_thread"


def interrupt_main(signum=None):
    """interrupt_main(signum=SIGINT): simulate the arrival of signum in the
    main goroutine (ignored if Python does not handle signum)."""
    if signum is None:
        signum = _signal.SIGINT
    if get_ident() == 1:
        _orig_interrupt_main(signum)
        return
    # CPython would run the handler in whichever goroutine checks first,
    # the caller included. A real signal to the scheduler thread goes
    # through patches/signal.c, which keeps Python's handlers for main.
    if callable(_signal.getsignal(signum)):
        _orig_pthread_kill(_sched_thread, signum)


_orig_interrupt_main = _thread.interrupt_main
_orig_excepthook = _thread._excepthook


def _excepthook(args, /):
    """_excepthook(args): threading.excepthook; for thread=None it names
    the goroutine (the C one prints the OS thread id)."""
    if args.thread is not None or args.exc_type is SystemExit:
        return _orig_excepthook(args)
    stderr = sys.stderr
    if stderr is None:
        return
    import traceback
    print("Exception in thread %s:" % get_ident(), file=stderr, flush=True)
    traceback.print_exception(args.exc_type, args.exc_value,
                              args.exc_traceback, file=stderr)
    stderr.flush()


# The global import lock (_imp.acquire_lock, taken by importlib around its
# table of module locks and by fork) is keyed by the OS thread in C, so it
# is reentrant across goroutines. A gate in front of it, owned by a
# goroutine, makes it exclusive again: goroutine A preempted or parked
# while holding it keeps goroutine B out, and fork() in B waits for A's
# import to finish (PyOS_BeforeFork's own acquisition would not).
import _imp
_c_imp_acquire = _imp.acquire_lock
_c_imp_release = _imp.release_lock
_imp_gate = _allocate_lock()
_imp_owner = [None, 0]      # goroutine id, recursion level
_imp_fork_gate = [False]    # the forking goroutine took the gate for fork


def imp_acquire_lock():
    """acquire_lock(): _imp.acquire_lock, owned by the calling goroutine."""
    me = get_ident()
    if _imp_owner[0] == me:
        _imp_owner[1] += 1
    else:
        _imp_gate.acquire()
        _imp_owner[0] = me
        _imp_owner[1] = 1
    _c_imp_acquire()


def imp_release_lock():
    """release_lock(): _imp.release_lock for imp_acquire_lock."""
    if _imp_owner[0] != get_ident():
        raise RuntimeError("not holding the import lock")
    _c_imp_release()
    _imp_owner[1] -= 1
    if _imp_owner[1] == 0:
        _imp_owner[0] = None
        _imp_gate.release()


def _imp_before_fork():
    if _imp_owner[0] != get_ident():
        _imp_gate.acquire()
        _imp_fork_gate[0] = True


def _imp_after_fork_parent():
    if _imp_fork_gate[0]:
        _imp_fork_gate[0] = False
        _imp_gate.release()


def _imp_after_fork_child():
    # Only the forking goroutine survives: it holds the gate for the fork,
    # or through imp.acquire_lock() (then it keeps holding it).
    if _imp_fork_gate[0]:
        _imp_fork_gate[0] = False
        _imp_gate.release()


imp_acquire_lock.__name__ = "acquire_lock"
imp_release_lock.__name__ = "release_lock"
imp_acquire_lock.__module__ = imp_release_lock.__module__ = "_imp"


_PATCH = {
    "start_new_thread": start_new_thread,
    "start_new": start_new_thread,
    "get_ident": get_ident,
    "get_native_id": get_native_id,
    "_count": _count,
    "RLock": RLock,
    "interrupt_main": interrupt_main,
    "_excepthook": _excepthook,
}

# They stand in for _thread's and signal's own (code that checks __module__
# of what it imported from there, as CPython's tests do, sees those).
for _f in (start_new_thread, get_native_id, _count, interrupt_main,
           _excepthook):
    _f.__module__ = "_thread"
pthread_kill.__module__ = "signal"
pthread_getcpuclockid.__module__ = "time"
del _f

installed = False


def install():
    """install() makes `_thread` (and an already imported `threading`)
    start goroutines and key on goroutine ids. Idempotent."""
    global installed
    if installed:
        return
    old_ident = _thread.get_ident()
    for name, value in _PATCH.items():
        setattr(_thread, name, value)
    _signal.pthread_kill = pthread_kill
    if _orig_getcpuclockid is not None:
        _time.pthread_getcpuclockid = pthread_getcpuclockid
    # Registered after _gpython_init's handler: this before-fork hook runs
    # last (closest to the fork), the after-fork ones after the scheduler
    # is re-armed.
    _imp.acquire_lock = imp_acquire_lock
    _imp.release_lock = imp_release_lock
    import os
    os.register_at_fork(before=_imp_before_fork,
                        after_in_parent=_imp_after_fork_parent,
                        after_in_child=_imp_after_fork_child)
    installed = True
    _rekey_module_locks(old_ident, get_ident())
    threading = sys.modules.get("threading")
    if threading is not None:
        _patch_threading(threading)


def _rekey_module_locks(old, new):
    # We run inside an import (ours, the launcher's): importlib holds module
    # locks owned by the OS thread id, which must now read as ours.
    bootstrap = sys.modules.get("_frozen_importlib")
    locks = getattr(bootstrap, "_module_locks", {})
    for ref in list(locks.values()):
        lock = ref()
        if lock is not None and getattr(lock, "owner", None) == old:
            lock.owner = new


def _patch_threading(threading):
    # threading copied _thread's functions at import time.
    old_ident = threading._main_thread._ident
    threading._start_new_thread = start_new_thread
    threading.get_ident = get_ident
    threading.get_native_id = get_native_id
    threading._CRLock = RLock
    threading._active_limbo_lock = RLock()
    if threading.excepthook is _orig_excepthook:
        threading.excepthook = threading.__excepthook__ = _excepthook
    main = threading._main_thread
    with threading._active_limbo_lock:
        if threading._active.get(old_ident) is main:
            del threading._active[old_ident]
        main._ident = get_ident()
        main._native_id = get_native_id()
        threading._active[main._ident] = main

"""_gpython_thread: `_thread` for goroutines — start_new_thread starts a
goroutine. install() patches the `_thread` module (and `threading` if it is
already imported); everything else (threading.Thread, Lock, RLock, Event,
queue, importlib's module locks) follows.

Thread identity needs no patch here: gpython routes libpython's
PyThread_get_thread_ident() to the runtime, so _thread.get_ident() — and
every owner CPython keeps in C: RLock, buffered files' locks, the import
lock, the main thread that runs signal handlers — is the goroutine id
(1 for the main goroutine) on the scheduler thread and, on any other OS
thread (gpython.start_os_thread, or one a C library made), python3's thread
ident (a pthread_t, far above any goroutine id). signal.pthread_kill and
time.pthread_getcpuclockid take a goroutine id as naming the scheduler
thread (patches/thread.c).

get_native_id() is the kernel thread id for the main goroutine (the process's
main thread, as in python3) and for another OS thread, and the goroutine id
for any other goroutine — that one names a goroutine, not a kernel task: do
not look it up in /proc/self/task.
"""

import _signal
import _thread
import _gpython

# The originals, for real OS threads (gpython.start_os_thread).
os_start_new_thread = _thread.start_new_thread

get_ident = _thread.get_ident
start_new_thread = _gpython.start_new_thread
get_native_id = _gpython.native_id
_count = _gpython.thread_count


def interrupt_main(signum=None):
    """interrupt_main(signum=SIGINT): simulate the arrival of signum in the
    main goroutine (ignored if Python does not handle signum)."""
    if signum is None:
        signum = _signal.SIGINT
    if get_ident() == 1:
        _orig_interrupt_main(signum)
        return
    # A parked main goroutine would not notice CPython's flag until it
    # runs again: a real signal to the scheduler thread (goroutine id 1
    # names it) interrupts its wait, and patches/signal.c runs Python's
    # handler there.
    if callable(_signal.getsignal(signum)):
        _signal.pthread_kill(1, signum)


_orig_interrupt_main = _thread.interrupt_main

_PATCH = {
    "start_new_thread": start_new_thread,
    "start_new": start_new_thread,
    "get_native_id": get_native_id,
    "_count": _count,
    "interrupt_main": interrupt_main,
}

# They stand in for _thread's own (code that checks __module__ of what it
# imported from there, as CPython's tests do, sees that).
for _f in (start_new_thread, get_native_id, _count, interrupt_main):
    _f.__module__ = "_thread"
del _f

installed = False


def install():
    """install() makes `_thread` (and an already imported `threading`)
    start goroutines. Idempotent."""
    global installed
    if installed:
        return
    for name, value in _PATCH.items():
        setattr(_thread, name, value)
    installed = True
    import sys
    threading = sys.modules.get("threading")
    if threading is not None:
        # threading copied _thread's functions at import time.
        threading._start_new_thread = start_new_thread
        threading.get_native_id = get_native_id
        threading._main_thread._native_id = get_native_id()

"""gpython: the runtime's Python API beyond go/chan/select — which runtime
runs threads, and real OS threads on demand.

By default (-X gpython.runtime=goroutines) threading.Thread and
_thread.start_new_thread start goroutines: they all run on one OS thread and
switch when they block. For work that must run beside the goroutines — a
blocking call the runtime cannot make cooperative, C code that computes with
the GIL released — start a real OS thread:

    t = gpython.OSThread(target=f, args=(1,)); t.start(); t.join()
    ident = gpython.start_os_thread(f, 1)

An OS thread and goroutines may share channels, locks, queues and events.
Inside an OS thread threading.get_ident() is its thread ident, as in python3
(a pthread_t, far above any goroutine id). With -X gpython.runtime=threads every
threading.Thread is an OS thread, as in python3, and OSThread is simply
threading.Thread.
"""

import threading
import _thread
import _gpython

import _gpython_init
import _gpython_thread

__all__ = ["runtime", "start_os_thread", "OSThread"]

runtime = _gpython_init.runtime
"""The runtime threads run on: "goroutines" or "threads"."""

_os_start_new_thread = _gpython_thread.os_start_new_thread


def start_os_thread(function, *args, **kwargs):
    """start_os_thread(function, *args, **kwargs) -> ident

    Run function(*args, **kwargs) in a new OS thread, as
    _thread.start_new_thread does in python3 (an exception that escapes is
    reported through sys.unraisablehook). Returns the thread's ident, which
    is what threading.get_ident() says inside it."""
    if not callable(function):
        raise TypeError("first arg must be callable")
    started = _thread.allocate_lock()
    started.acquire()
    ident = []

    def run():
        ident.append(threading.get_ident())
        started.release()
        try:
            function(*args, **kwargs)
        except SystemExit:
            pass
        except BaseException as e:
            # What python3's thread_run does.
            _gpython.thread_unraisable(e, function)

    _os_start_new_thread(run, ())
    started.acquire()
    return ident[0]


if runtime == "threads":
    OSThread = threading.Thread
else:
    class OSThread(threading.Thread):
        """A threading.Thread that runs on its own OS thread."""

        def start(self):
            # threading.Thread.start, with an OS thread instead of
            # threading's _start_new_thread (a goroutine).
            if not self._initialized:
                raise RuntimeError("thread.__init__() not called")
            if self._started.is_set():
                raise RuntimeError("threads can only be started once")
            with threading._active_limbo_lock:
                threading._limbo[self] = self
            try:
                _os_start_new_thread(self._bootstrap, ())
            except Exception:
                with threading._active_limbo_lock:
                    del threading._limbo[self]
                raise
            self._started.wait()

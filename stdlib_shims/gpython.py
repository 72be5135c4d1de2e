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

__all__ = ["runtime", "start_os_thread", "OSThread", "goroutines",
           "numgoroutine", "dump", "leaks", "Goroutine"]

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


# ---- diagnostics --------------------------------------------------------

class Goroutine:
    """One goroutine as gpython.goroutines() sees it.

    id            the goroutine id (threading.get_ident() inside it)
    name          the function given to go(), or the threading.Thread's
                  name ("main" for the main goroutine)
    state         "running", "runnable" or "waiting"
    wait_reason   what a waiting goroutine waits for, in Go's words:
                  "chan send", "chan receive", "select", "sleep",
                  "IO wait", "lock", "syscall", ... (None otherwise)
    fd            the fd of an "IO wait", else -1
    waiting_since time.monotonic() when it started waiting (None if not)
    stack         [(filename, lineno, function)], outermost first
    created_by    (filename, lineno, function) of the go() or
                  Thread.start() call, None for the main goroutine
    creator       the id of the goroutine that started it (0: none)
    """

    __slots__ = ("id", "name", "state", "wait_reason", "fd",
                 "waiting_since", "stack", "created_by", "creator")

    def __init__(self, d):
        for k in self.__slots__:
            setattr(self, k, d[k])

    def __repr__(self):
        st = self.wait_reason if self.state == "waiting" else self.state
        return "<Goroutine %d %r [%s]>" % (self.id, self.name, st)


def goroutines():
    """goroutines() -> [Goroutine]: every goroutine, main first."""
    return [Goroutine(d) for d in _gpython._goroutines()]


def numgoroutine():
    """numgoroutine() -> int: how many goroutines exist (Go's
    runtime.NumGoroutine)."""
    return _gpython.numgoroutine()


def dump(file=None):
    """dump(file=sys.stderr): print every goroutine as SIGQUIT does (Go's
    format; identical goroutines grouped), without exiting."""
    import sys
    if file is None:
        file = sys.stderr
    file.write(_gpython._dump())
    file.flush()


def leaks():
    """leaks() -> [Goroutine]: goroutines blocked forever on channels no
    running code can reach any more (see _gpython_leaks)."""
    import _gpython_leaks
    return _gpython_leaks.find()


# ---- what pygolang's gpython module also offers ----

def _version_info_str(vi):
    """_version_info_str formats a sys.version_info-like tuple: 3.11.2, or
    3.12.0rc1 for a pre-release (pygolang's gpython)."""
    major, minor, micro, level, serial = (tuple(vi) + (0, 0, 0, 'final', 0))[:5]
    s = '%d.%d.%d' % (major, minor, micro)
    if level != 'final':
        s += {'alpha': 'a', 'beta': 'b', 'candidate': 'rc'}.get(level, level)
        s += str(serial)
    return s


def _is_buildout_script(path):
    """_is_buildout_script tells whether path is a script zc.buildout wrote
    (a Python file that puts its eggs on sys.path), as pygolang's gpython
    asks before running the underlying interpreter directly."""
    try:
        with open(path, 'rb') as f:
            head = f.read(4096)
    except OSError:
        return False
    return head.startswith(b'#!') and b'sys.path[0:0] = [' in head

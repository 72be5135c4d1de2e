"""_gpython_init: run by the gpython launcher at startup, before the program.
It reads the -X gpython.* options, makes threads goroutines (unless
-X gpython.runtime=threads) and re-arms the scheduler in forked children.

-X gpython.runtime=goroutines (default): threading.Thread, _thread and
    everything built on them (queue, concurrent.futures, ...) run goroutines.
-X gpython.runtime=threads: threading.Thread is a real OS thread, as in
    python3; go() still starts goroutines. The GPYTHON_RUNTIME environment
    variable sets the default (-X wins). An -X choice is exported to
    GPYTHON_RUNTIME, so that gpython child processes (multiprocessing's
    spawn and forkserver workers) run the same runtime.
"""

import os
import sys
import _gpython

RUNTIMES = ("goroutines", "threads")
# What pygolang's gpython users pass: its gevent runtime is what our
# goroutines are (cooperative, one OS thread, blocking calls park).
ALIASES = {"gevent": "goroutines"}


def _runtime():
    rt = sys._xoptions.get("gpython.runtime")
    rt = ALIASES.get(rt, rt)
    if rt is None or rt is True:
        rt = os.environ.get("GPYTHON_RUNTIME") or "goroutines"
        rt = ALIASES.get(rt, rt)
        if sys.flags.ignore_environment:
            rt = "goroutines"
    elif rt in RUNTIMES:
        # multiprocessing passes only CPython's own -X options on.
        os.environ["GPYTHON_RUNTIME"] = rt
    if rt not in RUNTIMES:
        raise SystemExit("gpython: -X gpython.runtime=%s: expected one of %s"
                         % (rt, ", ".join(RUNTIMES)))
    return rt


runtime = _runtime()


def _after_fork_child():
    # A child forked by a goroutine other than main ends when that
    # goroutine returns (binding/goroutine.c), as python3's child ends with
    # its only thread.
    _gpython._after_fork()


def _any_goroutine(f):
    # CPython lets only the main thread set signal handlers and the wakeup
    # fd; Go lets any goroutine (signal.Notify), and so do we. Handlers
    # still run in the main goroutine.
    as_main = _gpython.as_main

    def call(*args, **kwargs):
        return as_main(f, *args, **kwargs)
    for attr in ("__name__", "__qualname__", "__doc__"):
        setattr(call, attr, getattr(f, attr))
    call.__module__ = "signal"      # where pydoc and inspect look for it
    call.__wrapped__ = f
    return call


def _patch_signal():
    import _signal
    for name in ("signal", "set_wakeup_fd"):
        setattr(_signal, name, _any_goroutine(getattr(_signal, name)))
    signal = sys.modules.get("signal")
    if signal is not None:
        signal.set_wakeup_fd = _signal.set_wakeup_fd


_patch_signal()

# First of the after-fork handlers, so that the others (threading's, the
# program's) already find a working scheduler in the child.
os.register_at_fork(after_in_child=_after_fork_child)

if runtime == "goroutines":
    import _gpython_thread
    _gpython_thread.install()


def _leakreport():
    # -X gpython.leakreport / GPYTHON_LEAKREPORT=1: leaked goroutines at
    # exit (atexit runs while the goroutines still exist).
    on = sys._xoptions.get("gpython.leakreport")
    if on is None and not sys.flags.ignore_environment:
        on = os.environ.get("GPYTHON_LEAKREPORT") not in (None, "", "0")
    if on:
        import atexit

        def report():
            import _gpython_leaks
            _gpython_leaks.report()
        atexit.register(report)


_leakreport()


def _goless_path():
    # goless's API on our goroutines (stdlib_shims/_gpython_goless): after
    # site-packages, so an installed goless is what `import goless` gets,
    # unless -X gpython.goless / GPYTHON_GOLESS=1 asks for ours.
    d = os.path.join(os.path.dirname(__file__), "_gpython_goless")
    ours = sys._xoptions.get("gpython.goless")
    if ours is None and not sys.flags.ignore_environment:
        ours = os.environ.get("GPYTHON_GOLESS") not in (None, "", "0")
    if ours:
        sys.path.insert(0, d)
    else:
        sys.path.append(d)


_goless_path()

"""_gpython_init: run by the gpython launcher at startup, before the program.
It reads the -X gpython.* options, makes threads goroutines (unless
-X gpython.runtime=threads) and re-arms the scheduler in forked children.

-X gpython.runtime=goroutines (default): threading.Thread, _thread and
    everything built on them (queue, concurrent.futures, ...) run goroutines.
-X gpython.runtime=threads: threading.Thread is a real OS thread, as in
    python3; go() still starts goroutines. The GPYTHON_RUNTIME environment
    variable sets the default (-X wins).
"""

import os
import sys
import _gpython

RUNTIMES = ("goroutines", "threads")


def _runtime():
    rt = sys._xoptions.get("gpython.runtime")
    if rt is None or rt is True:
        rt = os.environ.get("GPYTHON_RUNTIME") or "goroutines"
        if sys.flags.ignore_environment:
            rt = "goroutines"
    if rt not in RUNTIMES:
        raise SystemExit("gpython: -X gpython.runtime=%s: expected one of %s"
                         % (rt, ", ".join(RUNTIMES)))
    return rt


runtime = _runtime()

# First of the after-fork handlers, so that the others (threading's, the
# program's) already find a working scheduler in the child.
os.register_at_fork(after_in_child=_gpython._after_fork)

if runtime == "goroutines":
    import _gpython_thread
    _gpython_thread.install()

"""Package syscall mirrors Go's package syscall (pygolang's golang.syscall).

- SIG* are the signals as golang.os.Signal values (syscall.SIGTERM, ...).

See https://golang.org/pkg/syscall for Go's package.
"""

import signal as _pysig

from golang.os import Signal as _Signal


def _signals():
    for name in dir(_pysig):
        if name.startswith("SIG") and not name.startswith("SIG_"):
            globals()[name] = _Signal(int(getattr(_pysig, name)))


_signals()
del _signals

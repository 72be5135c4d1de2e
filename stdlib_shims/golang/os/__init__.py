"""Package os mirrors Go's package os (pygolang's golang.os).

- `Signal` represents an operating-system signal: syscall.SIGTERM and
  friends are Signals, and `chan(dtype=os.Signal)` carries them (as a C
  int, "C.os::Signal", so C code can share such a channel).

See https://golang.org/pkg/os for Go's package.
"""

import signal as _pysig

__all__ = ['Signal']

# Go's names (runtime/sigtab_linux_generic.go), not strsignal's.
_NAMES = {
    'SIGHUP': 'hangup', 'SIGINT': 'interrupt', 'SIGQUIT': 'quit',
    'SIGILL': 'illegal instruction', 'SIGTRAP': 'trace/breakpoint trap',
    'SIGABRT': 'aborted', 'SIGBUS': 'bus error',
    'SIGFPE': 'floating point exception', 'SIGKILL': 'killed',
    'SIGUSR1': 'user defined signal 1', 'SIGSEGV': 'segmentation fault',
    'SIGUSR2': 'user defined signal 2', 'SIGPIPE': 'broken pipe',
    'SIGALRM': 'alarm clock', 'SIGTERM': 'terminated',
    'SIGSTKFLT': 'stack fault', 'SIGCHLD': 'child exited',
    'SIGCONT': 'continued', 'SIGSTOP': 'stopped (signal)',
    'SIGTSTP': 'stopped', 'SIGTTIN': 'stopped (tty input)',
    'SIGTTOU': 'stopped (tty output)', 'SIGURG': 'urgent I/O condition',
    'SIGXCPU': 'CPU time limit exceeded',
    'SIGXFSZ': 'file size limit exceeded',
    'SIGVTALRM': 'virtual timer expired',
    'SIGPROF': 'profiling timer expired', 'SIGWINCH': 'window changed',
    'SIGIO': 'I/O possible', 'SIGPWR': 'power failure',
    'SIGSYS': 'bad system call',
}
_STR = {}
for _name, _text in _NAMES.items():
    _no = getattr(_pysig, _name, None)
    if _no is not None:
        _STR[int(_no)] = _text
del _name, _text, _no


class Signal(object):
    """Signal is an operating-system signal, compared by its number."""

    __slots__ = ('_signo',)
    dtype = "C.os::Signal"      # what chan(dtype=Signal) carries

    def __init__(self, signo=0):
        if isinstance(signo, bool) or not isinstance(signo, int):
            raise TypeError("os.Signal: expected a signal number, got %r"
                            % (signo,))
        object.__setattr__(self, '_signo', int(signo))

    def __setattr__(self, name, value):
        raise AttributeError("os.Signal is immutable")

    @property
    def signo(self):
        """the signal's number"""
        return self._signo

    def __str__(self):
        s = _STR.get(self._signo)
        return s if s is not None else "signal %d" % self._signo

    def String(self):
        return str(self)

    def __repr__(self):
        return "os.Signal(%d)" % self._signo

    def __hash__(self):
        return self._signo

    def __eq__(self, other):
        if not isinstance(other, Signal):
            return False
        return self._signo == other._signo

    def __ne__(self, other):
        return not (self == other)

    def __reduce__(self):
        return (Signal, (self._signo,))

"""Package signal mirrors Go's package os/signal (pygolang's
golang.os.signal): signals delivered on channels.

- `Notify(ch, *sigv)` relays the signals (all of them when none is given)
  to ch, a chan(dtype=golang.os.Signal); as in Go it never blocks: a signal
  finding ch full is dropped for ch.
- `Stop(ch)` stops relaying to ch; a signal no channel wants any more goes
  back to how it was handled before.
- `Ignore(*sigv)` ignores the signals; `Reset(*sigv)` undoes Notify and
  Ignore for them.

Python's own handlers keep working: a handler set with signal.signal()
before Notify still runs when the signal arrives, Ignore stops it, Reset
gives it back. While a channel is notified of SIGINT, SIGINT raises no
KeyboardInterrupt. Signals reach the channels from the main goroutine,
where Python runs signal handlers, whichever goroutine called Notify.

See https://golang.org/pkg/os/signal for Go's package.
"""

import signal as _pysig
import threading as _threading

import _gpython

from golang import panic as _panic, select as _select, default as _default, \
    chan as _chan
from golang.os import Signal as _Signal

__all__ = ['Notify', 'Stop', 'Ignore', 'Reset']

# Not in "all signals": the uncatchable ones, and the synchronous faults,
# which are the runtime's (stack overflow) and cannot return to Python.
_NOT_ALL = {getattr(_pysig, n) for n in ('SIGKILL', 'SIGSTOP', 'SIGSEGV',
                                         'SIGBUS', 'SIGFPE', 'SIGILL')
            if hasattr(_pysig, n)}

_mu = _threading.Lock()     # serialises Notify/Stop/Ignore/Reset
_subs = {}      # signo -> tuple of channels (replaced, never mutated: the
                # handler reads it without the lock)
_prev = {}      # signo -> the handler before we took the signal over
_sigobj = {}    # signo -> its Signal


_relaying = False      # told the runtime that a signal may wake someone


def _relays_changed():
    # While signals are relayed to channels, a program waiting for one is
    # not deadlocked (Go's os/signal keeps its loop goroutine for this).
    global _relaying
    now = bool(_subs)
    if now != _relaying:
        _relaying = now
        _gpython._signal_waiters(1 if now else -1)


def _handler(signo, frame):
    chs = _subs.get(signo, ())
    sig = _sigobj.get(signo) or _Signal(signo)
    for ch in chs:
        _select((ch.send, sig), _default)   # never blocks, as in Go
    prev = _prev.get(signo)
    if callable(prev) and prev is not _handler:
        if chs and prev is _pysig.default_int_handler:
            return      # Notify(SIGINT): no KeyboardInterrupt
        prev(signo, frame)


def _all_signos():
    v = []
    for s in _pysig.valid_signals():
        s = int(s)
        if s not in _NOT_ALL:
            v.append(s)
    return v


def _signos(sigv):
    if not sigv:
        return _all_signos()
    v = []
    for sig in sigv:
        if not isinstance(sig, _Signal):
            raise TypeError("expect os.Signal, got %r" % (sig,))
        v.append(sig.signo)
    return v


def _check_chan(ch, what):
    if not isinstance(ch, _chan) or ch.dtype != _Signal.dtype:
        _panic("pychan: channel type mismatch")
    if ch == _chan.nil(_Signal):
        _panic("os/signal: %s using nil channel" % what)


def _take(signo):
    # route signo through _handler, remembering what handled it before
    if signo in _prev:
        if _pysig.getsignal(signo) is not _handler:
            _pysig.signal(signo, _handler)      # after Ignore
        return True
    try:
        prev = _pysig.getsignal(signo)
        _pysig.signal(signo, _handler)
    except (OSError, ValueError, RuntimeError):
        return False    # a signal Python cannot handle (e.g. SIGRTMIN+n)
    _prev[signo] = prev
    return True


def _give_back(signo):
    # signo is wanted by no channel: handle it as before Notify
    prev = _prev.pop(signo, None)
    if prev is None:
        prev = _pysig.SIG_DFL
    _pysig.signal(signo, prev)


def Notify(ch, *sigv):
    """Notify relays the signals sigv (all signals if none) to channel ch."""
    _check_chan(ch, "Notify")
    signos = _signos(sigv)
    with _mu:
        for signo in signos:
            if not _take(signo):
                if sigv:
                    raise ValueError("signal.Notify: cannot handle %s"
                                     % _Signal(signo))
                continue
            _sigobj.setdefault(signo, _Signal(signo))
            chs = _subs.get(signo, ())
            if ch not in chs:
                _subs[signo] = chs + (ch,)
        _relays_changed()


def Stop(ch):
    """Stop stops relaying signals to ch. When it returns, ch receives no
    more signals."""
    _check_chan(ch, "Stop")
    with _mu:
        for signo, chs in list(_subs.items()):
            if ch in chs:
                rest = tuple(c for c in chs if c is not ch)
                if rest:
                    _subs[signo] = rest
                else:
                    del _subs[signo]
                    _give_back(signo)
        _relays_changed()


def Ignore(*sigv):
    """Ignore makes the signals sigv (all signals if none) ignored; no
    channel is notified of them any more."""
    signos = _signos(sigv)
    with _mu:
        for signo in signos:
            if signo not in _prev:
                try:
                    _prev[signo] = _pysig.getsignal(signo)
                except (OSError, ValueError):
                    continue
            try:
                _pysig.signal(signo, _pysig.SIG_IGN)
            except (OSError, ValueError, RuntimeError):
                _prev.pop(signo, None)
                continue
            _subs.pop(signo, None)
        _relays_changed()


def Reset(*sigv):
    """Reset undoes Notify and Ignore for the signals sigv (all signals if
    none): they are handled as before, by Python's handler or the
    system's default."""
    signos = _signos(sigv)
    with _mu:
        for signo in signos:
            _subs.pop(signo, None)
            if signo in _prev:
                try:
                    _give_back(signo)
                except (OSError, ValueError, RuntimeError):
                    pass
        _relays_changed()

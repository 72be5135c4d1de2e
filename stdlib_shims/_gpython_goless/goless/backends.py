"""goless.backends: what goless runs on. Under gpython the backend is
gpython's own goroutines ('gpython'); the 'gevent' and 'stackless' makers
are kept for goless's backend selection rules (GOLESS_BACKEND)."""
import collections as _collections
import contextlib as _contextlib
import os as _os
import platform as _platform
import sys as _sys

import _gpython


class GolessException(Exception):
    pass


class Deadlock(GolessException):
    def __init__(self, msg):
        Exception.__init__(self, msg)


@_contextlib.contextmanager
def as_deadlock(errtypes):
    """Turn errtypes raised inside into Deadlock (the traceback kept)."""
    try:
        yield
    except errtypes as e:
        ex = Deadlock('Error raised by backend due to detected deadlock. '
                      'Original error: %r' % e)
        raise ex.with_traceback(e.__traceback__)


class Backend(object):
    """What goless needs from the runtime under it."""

    def shortname(self):
        return type(self).__name__

    def start(self, func, *args, **kwargs):
        """Starts a goroutine."""
        raise NotImplementedError()

    def run(self, func, *args, **kwargs):
        """Starts a goroutine and lets it run until it blocks or ends."""
        raise NotImplementedError()

    def channel(self):
        """A new rendezvous channel (send, receive, balance)."""
        raise NotImplementedError()

    def yield_(self):
        """Lets the other goroutines run (does nothing when none can)."""
        raise NotImplementedError()

    def resume(self, tasklet):
        """Lets the given goroutine run now."""
        raise NotImplementedError()

    def propagate_exc(self, errtype, *args):
        """Raises errtype(*args) where the program hears it."""
        raise NotImplementedError()

    def would_deadlock(self):
        """Whether blocking now would block forever (no other goroutine)."""
        raise NotImplementedError()


class _Waiter(object):
    __slots__ = ('value', 'done')

    def __init__(self, value=None):
        self.value = value
        self.done = chan(1)


class _GpythonChannel(object):
    """A rendezvous channel with Stackless's semantics, which goless's
    channels are built on: balance > 0 is the number of blocked senders,
    < 0 of blocked receivers; a send to a blocked receiver lets the
    receiver run first."""

    def __init__(self):
        self._senders = _collections.deque()
        self._receivers = _collections.deque()

    @property
    def balance(self):
        return len(self._senders) - len(self._receivers)

    def send(self, value):
        if self._receivers:
            w = self._receivers.popleft()
            w.value = value
            w.done.send(None)
            current.yield_()        # the receiver runs first
            return
        if current.would_deadlock():
            raise Deadlock('send on a channel nobody can receive from: '
                           'no other goroutine')
        w = _Waiter(value)
        self._senders.append(w)
        w.done.recv()

    def receive(self):
        if self._senders:
            w = self._senders.popleft()
            w.done.send(None)
            return w.value
        if current.would_deadlock():
            raise Deadlock('receive on a channel nobody can send to: '
                           'no other goroutine')
        w = _Waiter()
        self._receivers.append(w)
        w.done.recv()
        return w.value


class _Goroutine(object):
    """What start() returns: the goroutine's id."""
    __slots__ = ('id',)

    def __init__(self, id):
        self.id = id

    def __repr__(self):
        return '<goroutine %d>' % self.id


def _make_gpython():
    class GpythonBackend(Backend):
        def shortname(self):
            return 'gpython'

        def start(self, func, *args, **kwargs):
            return _Goroutine(_gpython.spawn(func, args, kwargs))

        def run(self, func, *args, **kwargs):
            g = self.start(func, *args, **kwargs)
            self.yield_()
            return g

        def channel(self):
            return _GpythonChannel()

        def yield_(self):
            _gpython.gosched()

        def resume(self, tasklet):
            self.yield_()

        def propagate_exc(self, errtype, *args):
            raise errtype(*args)

        def would_deadlock(self):
            return _gpython.numgoroutine() <= 1

    return GpythonBackend()


def _make_stackless():  # pragma: no cover
    import stackless    # not under gpython: ImportError
    raise ImportError('goless on gpython runs on gpython, not %r'
                      % stackless)


def _make_gevent():
    # GOLESS_BACKEND=gevent: gpython's goroutines are what gevent gives
    # goless (cooperative, one OS thread, blocking calls park).
    return _make_gpython()


NO_VALID_BACKEND_MSG = """No valid backend could be created.
Valid backends are
gevent (for CPython, Stackless Python, or PyPy with newer version of gevent)
and stackless (for Stackless Python or PyPy).
You are currently running %s.
See goless.backends.calculate_backend for more details about what backend
is chosen under what conditions.""" % _sys.executable


class NoValidBackend(Exception):
    def __init__(self):
        Exception.__init__(self, NO_VALID_BACKEND_MSG)


class NullBackend(Backend):
    """A backend that raises NoValidBackend when used: goless imports, but
    does not work, when no backend can be made."""

    def __getattribute__(self, item):
        raise NoValidBackend()

    def __call__(self, *args, **kwargs):
        raise NoValidBackend()


_default_backends = {
    'gpython': _make_gpython,
    'stackless': _make_stackless,
    'gevent': _make_gevent,
}

is_pypy = _platform.python_implementation() == 'PyPy'


def _calc_default(backends):
    # goless's rule: gevent on PyPy, stackless on CPython. Under gpython
    # the gpython backend is the default, when the table has it.
    try:
        if 'gpython' in backends:
            return backends['gpython']()
        if is_pypy and 'gevent' in backends:
            return backends['gevent']()
        if 'stackless' in backends:
            return backends['stackless']()
    except ImportError:
        pass
    raise SystemError('no default backend')


def calculate_backend(name_from_env, backends=None):
    """The backend to use, as goless chooses it:

    - GOLESS_BACKEND (name_from_env) names one: it is made, or this
      raises (RuntimeError for a name that is not a backend);
    - else the default (here: gpython's goroutines);
    - else the first of the others that can be made;
    - else a NullBackend, which raises NoValidBackend when used."""
    if backends is None:
        backends = _default_backends
    if name_from_env:
        if name_from_env not in backends:
            raise RuntimeError('Invalid backend %r specified. Valid backends '
                               'are: %s' % (name_from_env,
                                            list(_default_backends)))
        return backends[name_from_env]()
    try:
        return _calc_default(backends)
    except SystemError:
        pass
    for maker in backends.values():
        try:
            return maker()
        except Exception:
            pass
    return NullBackend()


current = calculate_backend(_os.getenv('GOLESS_BACKEND', ''))

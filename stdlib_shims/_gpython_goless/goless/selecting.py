"""goless.selecting: select over receive, send and default cases, as Go's
reflect.Select."""
import time as _time

from .backends import current as _be, Deadlock


class rcase(object):
    """A case receiving from chan when it can."""

    def __init__(self, chan):
        self.chan = chan

    def ready(self):
        return self.chan.recv_ready()

    def exec_(self):
        return self.chan.recv()


class scase(object):
    """A case sending value on chan when it can."""

    def __init__(self, chan, value):
        self.chan = chan
        self.value = value

    def ready(self):
        return self.chan.send_ready()

    def exec_(self):
        self.chan.send(self.value)


class dcase(object):
    """The default case: chosen when no other is ready."""

    def ready(self):
        return False


def select(*cases):
    """select(case, ...) or select([case, ...]) -> (case, value): do the
    first ready case (value: what an rcase received, else None). With a
    dcase and nothing ready, return (that dcase, None); without one, wait
    until a case is ready. Deadlock if nothing else could ever make one
    ready (no other goroutine). With no cases, return None."""
    if len(cases) == 1 and not isinstance(cases[0], (rcase, scase, dcase)):
        cases = cases[0]
        if not isinstance(cases, (list, tuple)):
            cases = list(cases)
    elif any(isinstance(c, (list, tuple)) for c in cases):
        raise TypeError('select takes cases or one list of cases, not both')
    if not cases:
        return None
    default = None
    for c in cases:
        if isinstance(c, dcase):
            assert default is None, 'Only one default case is allowed.'
            default = c
        elif c.ready():
            return c, c.exec_()
    if default is not None:
        return default, None
    spins = 0
    while True:
        if _be.would_deadlock():
            raise Deadlock('select: no case can become ready, there are no '
                           'other goroutines')
        if spins < 100:
            _be.yield_()
            spins += 1
        else:
            # the others are asleep (timers, I/O): do not spin meanwhile
            _time.sleep(0.0005)
        for c in cases:
            if c.ready():
                return c, c.exec_()

"""goless on gpython: goless's API (goless.readthedocs.org) over gpython's
goroutines, with no gevent or Stackless behind it.

    import goless
    c = goless.chan()                  # 0/None: unbuffered; >0 buffered;
                                       # <0: sends never block
    goless.go(producer, c)
    case, v = goless.select([goless.rcase(c), goless.dcase()])

gpython finds this package only when no other goless is installed (its
directory is at the end of sys.path); -X gpython.goless (or GPYTHON_GOLESS=1)
puts it first.
"""
import logging as _logging
import sys as _sys
import traceback as _traceback

from .backends import current as _be, Deadlock, GolessException
from .channels import chan, ChannelClosed
from .selecting import dcase, rcase, scase, select

version_info = 0, 7, 3
version = '.'.join(str(v) for v in version_info)
__version__ = version
__all__ = ['go', 'chan', 'select', 'rcase', 'scase', 'dcase',
           'ChannelClosed', 'Deadlock', 'GolessException', 'on_panic']


def on_panic(etype, value, tb):
    """Called with the exception that escapes a goroutine started by
    goless.go: logs it and ends the process (status 1), as goless does.
    Replace it to handle such exceptions otherwise."""
    _logging.critical(_traceback.format_exception(etype, value, tb))
    _be.propagate_exc(SystemExit, 1)


def go(func, *args, **kwargs):
    """Run func(*args, **kwargs) in a new goroutine; an exception escaping
    it goes to goless.on_panic."""
    def guarded():
        try:
            func(*args, **kwargs)
        except BaseException:
            # looked up at the time of the panic: programs replace it
            _sys.modules[__name__].on_panic(*_sys.exc_info())
    _be.start(guarded)

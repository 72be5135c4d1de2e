# gevent_go.py: the gevent peer — monkey-patch the stdlib, then provide
# go/chan/select on gevent greenlets (spawn_raw) and gevent semaphores,
# like pygolang's gevent runtime. Import it before anything else.

from gevent import monkey
monkey.patch_all()

import gevent                           # noqa: E402
from gevent.lock import Semaphore       # noqa: E402

import gochan                           # noqa: E402


def _sema():
    return Semaphore(0)


def _spawn(fn, args):
    gevent.spawn_raw(fn, *args)


# Greenlets switch only when they block, and nothing blocks inside the
# channel's critical sections, so the mutexes need not exist.
_null = gochan._NullLock()
gochan.configure(lambda: _null, _sema, _spawn, _null)
gochan.install()

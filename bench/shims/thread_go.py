# thread_go.py: the OS-thread peer — go/chan/select on plain CPython
# threads (_thread.start_new_thread) and _thread locks, no patching.

import _thread

import gochan


def _sema():
    lk = _thread.allocate_lock()
    lk.acquire()
    return lk


def _spawn(fn, args):
    _thread.start_new_thread(fn, args)


gochan.configure(_thread.allocate_lock, _sema, _spawn, _thread.allocate_lock())
gochan.install()

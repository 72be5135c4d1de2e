"""gpytest: helpers shared by the Python-level tests that run under gpython
(tests/py/test_*.py import it from their own directory)."""
import time


class Ticker:
    """A goroutine counting ~1 ms naps: it only advances while the OS
    thread is free."""

    def __init__(self):
        self.n = 0
        self._stop = False
        self._done = chan(1)
        go(self._run)

    def _run(self):
        while not self._stop:
            self.n += 1
            time.sleep(0.001)
        self._done.send(None)

    def close(self):
        self._stop = True
        self._done.recv()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def spawn(fn, *args):
    """go(fn, *args); returns a channel that receives (result, exception)."""
    ch = chan(1)

    def run():
        try:
            ch.send((fn(*args), None))
        except BaseException as e:  # handed to the test to raise
            ch.send((None, e))
    go(run)
    return ch


def join(ch):
    res, exc = ch.recv()
    if exc is not None:
        raise exc
    return res

"""goless.compat: what goless kept for Python 2; on Python 3 the builtins."""
import sys

PY3 = True
range = range
maxint = sys.maxsize


def reraise(e, v, origex):
    """Raise e(v) with origex's traceback."""
    raise e(v).with_traceback(origex.__traceback__)

# zlib2: N goroutines compress 16 MiB each with zlib (level 6) at the same
# time (zlib releases the GIL); wall time. The data: the squares 0, 1, 4,
# ... in decimal, space-separated, cut at 16 MiB (Go's twin builds the same).
# usage: zlib2.py [N]  -> RESULT wall_ms=...
import sys
import zlib

from _liveness import together


def data():
    size = 16 << 20
    parts, n, i = [], 0, 0
    while n < size:
        s = b'%d ' % (i * i)
        parts.append(s)
        n += len(s)
        i += 1
    return b''.join(parts)[:size]


n = int(sys.argv[1]) if len(sys.argv) > 1 else 2
d = data()
together(n, lambda: zlib.compress(d, 6))

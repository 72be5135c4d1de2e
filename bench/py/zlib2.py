# zlib2: N goroutines compress 16 MiB each with zlib (level 6) at the same
# time (zlib releases the GIL); wall time. The data: the squares 0, 1, 4,
# ... in decimal, space-separated, cut at 16 MiB (Go's twin builds the same).
# usage: zlib2.py [N]  -> RESULT wall_ms=...
import sys
import time
import zlib


def data():
    size = 16 << 20
    parts, n, i = [], 0, 0
    while n < size:
        s = b'%d ' % (i * i)
        parts.append(s)
        n += len(s)
        i += 1
    return b''.join(parts)[:size]


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 2
    d = data()
    done = chan(n)

    def worker():
        zlib.compress(d, 6)
        done.send(None)

    t0 = time.perf_counter()
    for _ in range(n):
        go(worker)
    for _ in range(n):
        done.recv()
    dt = time.perf_counter() - t0
    print('RESULT wall_ms=%.1f n=%d elapsed_s=%.4f' % (dt * 1e3, n, dt))


main()

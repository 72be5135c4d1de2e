# hash2: N goroutines hash 64 MiB each with sha256 at the same time
# (hashlib releases the GIL: work that can run in parallel); wall time.
# usage: hash2.py [N]  -> RESULT wall_ms=...
import hashlib
import sys
import time


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 2
    data = b'\x5a' * (64 << 20)
    done = chan(n)

    def worker():
        hashlib.sha256(data).digest()
        done.send(None)

    t0 = time.perf_counter()
    for _ in range(n):
        go(worker)
    for _ in range(n):
        done.recv()
    dt = time.perf_counter() - t0
    print('RESULT wall_ms=%.1f n=%d elapsed_s=%.4f' % (dt * 1e3, n, dt))


main()

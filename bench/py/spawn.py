# spawn: start N goroutines that each signal completion on a channel (with
# room for all N, so signalling never blocks), then wait for all of them.
# usage: spawn.py [N]   -> RESULT ns_per_op=... (one op = one goroutine)
import sys
import time


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 100000
    done = chan(n)

    def worker(i):
        done.send(i)

    t0 = time.perf_counter()
    for i in range(n):
        go(worker, i)
    total = 0
    for _ in range(n):
        total += done.recv()
    dt = time.perf_counter() - t0
    if total != n * (n - 1) // 2:
        raise AssertionError('spawn: wrong sum')
    print('RESULT ns_per_op=%.1f n=%d elapsed_s=%.4f' % (dt * 1e9 / n, n, dt))


main()

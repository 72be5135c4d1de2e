# chan_sync: values through an unbuffered channel between two goroutines.
# usage: chan_sync.py [N]   -> RESULT ns_per_op=... (one op = one value)
import sys
import time


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 100000
    ch = chan()
    done = chan()

    def producer():
        for i in range(n):
            ch.send(i)
        done.close()

    t0 = time.perf_counter()
    go(producer)
    for i in range(n):
        if ch.recv() != i:
            raise AssertionError('chan_sync: out of order')
    done.recv()
    dt = time.perf_counter() - t0
    print('RESULT ns_per_op=%.1f n=%d elapsed_s=%.4f' % (dt * 1e9 / n, n, dt))


main()

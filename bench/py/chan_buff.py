# chan_buff: values through a channel with a buffer of 128 between two
# goroutines (the buffer fills, so both sides block now and then).
# usage: chan_buff.py [N]   -> RESULT ns_per_op=... (one op = one value)
import sys
import time


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 100000
    ch = chan(128)
    done = chan()

    def producer():
        for i in range(n):
            ch.send(i)
        done.close()

    t0 = time.perf_counter()
    go(producer)
    for i in range(n):
        if ch.recv() != i:
            raise AssertionError('chan_buff: out of order')
    done.recv()
    dt = time.perf_counter() - t0
    print('RESULT ns_per_op=%.1f n=%d elapsed_s=%.4f' % (dt * 1e9 / n, n, dt))


main()

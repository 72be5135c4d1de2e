# feed_c: a C goroutine sends N C ints on an unbuffered chan[C.int]
# (gpy_chan_wrap) and Python receives them; feed_py is the same with a
# Python producer. usage: feed_c.py [N] -> RESULT ns_per_op=... (one value)
import sys
import time

import gpybench


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 100000
    t0 = time.perf_counter()
    ch = gpybench.feed(n)
    recv = ch.recv_
    total = 0
    while True:
        v, ok = recv()
        if not ok:
            break
        total += v
    dt = time.perf_counter() - t0
    if total != n * (n - 1) // 2:
        raise AssertionError('feed_c: wrong sum')
    print('RESULT ns_per_op=%.1f n=%d elapsed_s=%.4f' % (dt * 1e9 / n, n, dt))


main()

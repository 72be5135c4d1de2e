# select_default: a non-blocking select over two empty channels that falls
# to default. usage: select_default.py [N]  -> RESULT ns_per_op=...
import sys
import time


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 100000
    ch1 = chan()
    ch2 = chan(1)

    t0 = time.perf_counter()
    for _ in range(n):
        i, _ = select(ch1.recv, ch2.recv, default)
        if i != 2:
            raise AssertionError('select_default: a case was ready')
    dt = time.perf_counter() - t0
    print('RESULT ns_per_op=%.1f n=%d elapsed_s=%.4f' % (dt * 1e9 / n, n, dt))


main()

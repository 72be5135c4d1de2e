# feed_py: feed_c's twin with a Python producer goroutine on the same
# unbuffered chan(dtype='C.int'). usage: feed_py.py [N]
import sys
import time


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 100000
    t0 = time.perf_counter()
    ch = chan(dtype='C.int')

    def producer():
        send = ch.send
        for i in range(n):
            send(i)
        ch.close()
    go(producer)
    recv = ch.recv_
    total = 0
    while True:
        v, ok = recv()
        if not ok:
            break
        total += v
    dt = time.perf_counter() - t0
    if total != n * (n - 1) // 2:
        raise AssertionError('feed_py: wrong sum')
    print('RESULT ns_per_op=%.1f n=%d elapsed_s=%.4f' % (dt * 1e9 / n, n, dt))


main()

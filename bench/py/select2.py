# select (file select2.py: a select.py would shadow the stdlib module):
# one consumer selects over two unbuffered channels, each fed by its
# own producer goroutine. usage: select2.py [N]
#   -> RESULT ns_per_op=... (one op = one value received through select)
import sys
import time


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 100000
    half = n // 2
    n = 2 * half
    ch1 = chan()
    ch2 = chan()

    def producer(ch):
        for i in range(half):
            ch.send(i)
        ch.close()

    t0 = time.perf_counter()
    go(producer, ch1)
    go(producer, ch2)
    a = ch1
    b = ch2
    got = [0, 0]
    while a is not nilchan or b is not nilchan:
        i, (v, ok) = select(a.recv_, b.recv_)
        if not ok:
            if i == 0:
                a = nilchan
            else:
                b = nilchan
            continue
        if v != got[i]:
            raise AssertionError('select: out of order')
        got[i] += 1
    dt = time.perf_counter() - t0
    if got != [half, half]:
        raise AssertionError('select: lost values %r' % (got,))
    print('RESULT ns_per_op=%.1f n=%d elapsed_s=%.4f' % (dt * 1e9 / n, n, dt))


main()

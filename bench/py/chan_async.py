# chan_async: send and receive on a buffered channel whose buffer never
# fills, so nothing ever blocks (Go runtime's BenchmarkChanUncontended shape:
# one goroutine, cap 128, batches of 100 sends then 100 receives).
# usage: chan_async.py [N]   -> RESULT ns_per_op=... (one op = one send + one recv)
import sys
import time


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 100000
    batch = 100
    rounds = max(1, n // batch)
    n = rounds * batch
    ch = chan(128)

    t0 = time.perf_counter()
    for _ in range(rounds):
        for i in range(batch):
            ch.send(i)
        for i in range(batch):
            if ch.recv() != i:
                raise AssertionError('chan_async: out of order')
    dt = time.perf_counter() - t0
    if len(ch) != 0:
        raise AssertionError('chan_async: channel not empty')
    print('RESULT ns_per_op=%.1f n=%d elapsed_s=%.4f' % (dt * 1e9 / n, n, dt))


main()

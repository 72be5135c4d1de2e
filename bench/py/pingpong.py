# pingpong: round trips between two goroutines over two unbuffered channels.
# usage: pingpong.py [N]   -> RESULT ns_per_op=... (one op = one round trip)
import sys
import time


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 100000
    ping = chan()
    pong = chan()

    def player():
        while True:
            v, ok = ping.recv_()
            if not ok:
                return
            pong.send(v + 1)

    t0 = time.perf_counter()
    go(player)
    for i in range(n):
        ping.send(i)
        if pong.recv() != i + 1:
            raise AssertionError('pingpong: wrong reply')
    ping.close()
    dt = time.perf_counter() - t0
    print('RESULT ns_per_op=%.1f n=%d elapsed_s=%.4f' % (dt * 1e9 / n, n, dt))


main()

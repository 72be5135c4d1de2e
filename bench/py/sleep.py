# sleep: N goroutines each call time.sleep(0.01) 10 times; wall time until
# all are done (ideal: 100 ms). usage: sleep.py [N]  -> RESULT wall_ms=...
import sys
import time


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 10000
    done = chan(n)

    def sleeper():
        for _ in range(10):
            time.sleep(0.01)
        done.send(None)

    t0 = time.perf_counter()
    for _ in range(n):
        go(sleeper)
    for _ in range(n):
        done.recv()
    dt = time.perf_counter() - t0
    print('RESULT wall_ms=%.1f n=%d elapsed_s=%.4f' % (dt * 1e3, n, dt))


main()

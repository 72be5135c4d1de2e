# live_compute: the longest gap of a goroutine ticking every 10 ms while
# another computes in Python for 2 s (preemption). python3's threads switch
# every 5 ms. usage: live_compute.py [MS]  -> RESULT gap_ms=...
import sys
import time


def main():
    ms = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
    gaps = []
    state = {'stop': False}
    done = chan(2)

    def ticker():
        last = time.perf_counter()
        while not state['stop']:
            time.sleep(0.01)
            now = time.perf_counter()
            gaps.append(now - last)
            last = now
        done.send(None)

    def compute():
        end = time.perf_counter() + ms / 1000
        x = 0
        while time.perf_counter() < end:
            for i in range(100):
                x += i
        done.send(None)

    go(ticker)
    time.sleep(0.05)
    t0 = time.perf_counter()
    go(compute)
    done.recv()
    state['stop'] = True
    done.recv()
    dt = time.perf_counter() - t0
    print('RESULT gap_ms=%.1f ticks=%d elapsed_s=%.4f'
          % (max(gaps) * 1e3, len(gaps), dt))


main()

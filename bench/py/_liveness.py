# _liveness: what bench/py's handoff benchmarks share -- N goroutines
# doing the same work at once (wall time), and a 10 ms ticker's longest
# gap while another goroutine is busy. Runs under every runtime the
# programs do (gpython, and the go/chan shims of bench/shims/run_with.py).
import time


def together(n, work):
    """Run work() in n goroutines at once; print the wall time."""
    done = chan(n)

    def worker():
        work()
        done.send(None)

    t0 = time.perf_counter()
    for _ in range(n):
        go(worker)
    for _ in range(n):
        done.recv()
    dt = time.perf_counter() - t0
    print('RESULT wall_ms=%.1f n=%d elapsed_s=%.4f' % (dt * 1e3, n, dt))


def longest_gap(busy):
    """Run busy() in a goroutine beside one that sleeps 10 ms at a time;
    print the ticker's longest gap."""
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

    def run_busy():
        busy()
        done.send(None)

    go(ticker)
    time.sleep(0.05)
    t0 = time.perf_counter()
    go(run_busy)
    done.recv()
    state['stop'] = True
    done.recv()
    dt = time.perf_counter() - t0
    print('RESULT gap_ms=%.1f ticks=%d elapsed_s=%.4f'
          % (max(gaps) * 1e3, len(gaps), dt))

# park: N goroutines parked in a channel receive; prints this process's
# peak and current RSS once all N are parked. The driver subtracts a run
# with N=0 and divides by N. usage: park.py N
#   -> RESULT vmhwm_kb=... vmrss_kb=... n=... spawn_s=...
import sys
import time


def status_kb(*keys):
    out = {}
    with open('/proc/self/status') as f:
        for line in f:
            k, _, v = line.partition(':')
            if k in keys:
                out[k] = int(v.split()[0])
    return [out[k] for k in keys]


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 100000
    ready = chan()
    block = chan()

    def parked():
        ready.send(None)
        block.recv()

    t0 = time.perf_counter()
    for _ in range(n):
        go(parked)
    for _ in range(n):
        ready.recv()
    dt = time.perf_counter() - t0
    hwm, rss = status_kb('VmHWM', 'VmRSS')
    print('RESULT vmhwm_kb=%d vmrss_kb=%d n=%d spawn_s=%.3f' % (hwm, rss, n, dt))
    sys.stdout.flush()


main()

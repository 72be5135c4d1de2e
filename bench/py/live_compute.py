# live_compute: the longest gap of a goroutine ticking every 10 ms while
# another computes in Python for 2 s (preemption). python3's threads switch
# every 5 ms. usage: live_compute.py [MS]  -> RESULT gap_ms=...
import sys
import time

from _liveness import longest_gap


def compute(ms):
    end = time.perf_counter() + ms / 1000
    x = 0
    while time.perf_counter() < end:
        for i in range(100):
            x += i


ms = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
longest_gap(lambda: compute(ms))

"""Package testing mirrors what Python's testing lacks of Go's package
testing: benchmarks.

- `B` is what a benchmark gets (Go's testing.B): `b.N` iterations to do,
  and timer control (reset_timer, start_timer, stop_timer).
- `benchmark(f, ttarget=1)` runs f(b) with b.N raised until the run takes
  about ttarget seconds, as `go test -bench` does, and returns a
  BenchmarkResult (N, T).

py.bench (gpython -m golang.cmd.pybench) finds bench_* functions and runs
them this way, printing Go's benchmark format.

See https://golang.org/pkg/testing for Go's package.
"""

import math

from golang import time

__all__ = ['B', 'BenchmarkResult', 'benchmark']


class B(object):
    """B is a benchmark's timer and iteration count (Go's testing.B)."""

    def __init__(self):
        self.N = 1              # iterations the benchmark must do
        self._t_start = None    # when the running timer started
        self._t_total = 0.

    def reset_timer(self):
        """reset_timer zeroes the elapsed time (the timer keeps running if
        it was)."""
        self._t_total = 0.
        if self._t_start is not None:
            self._t_start = time.now()

    def start_timer(self):
        """start_timer starts timing (benchmark() starts it for you)."""
        if self._t_start is None:
            self._t_start = time.now()

    def stop_timer(self):
        """stop_timer stops timing, e.g. around setup that must not count."""
        if self._t_start is not None:
            self._t_total += time.now() - self._t_start
            self._t_start = None

    def total_time(self):
        """total_time returns the time counted so far, in seconds."""
        t = self._t_total
        if self._t_start is not None:
            t += time.now() - self._t_start
        return t

    # Go's spelling
    ResetTimer = reset_timer
    StartTimer = start_timer
    StopTimer = stop_timer


class BenchmarkResult(object):
    """BenchmarkResult is how many iterations (N) took how long (T, in
    seconds)."""

    def __init__(self, n, t):
        self.N, self.T = n, t

    def NsPerOp(self):
        return int(self.T * 1e9 / self.N) if self.N else 0

    def __repr__(self):
        return "BenchmarkResult(N=%d, T=%r)" % (self.N, self.T)


# A benchmark returns it to say it cannot be repeated b.N times (py.bench
# runs a function that takes no b once per round).
_stopBenchmark = object()


def _next_n(n, t, ttarget):
    # Go's rule: aim at ttarget, grow at most 100×, round up to 1, 2, 3, 5
    # times a power of 10.
    if t <= 0:
        want = n * 100
    else:
        want = n * ttarget / t
    want = int(min(want * 1.2, n * 100))
    want = max(want, n + 1)
    base = 10 ** int(math.log10(want)) if want >= 1 else 1
    for k in (1, 2, 3, 5, 10):
        if want <= k * base:
            return k * base
    return 10 * base


def benchmark(benchf, ttarget=1.):
    """benchmark runs benchf(b) with growing b.N until one run takes about
    ttarget seconds; returns its BenchmarkResult."""
    b = B()
    n = 1
    while True:
        b.N = n
        b._t_total = 0.
        b._t_start = None
        b.start_timer()
        x = benchf(b)
        b.stop_timer()
        t = b.total_time()
        if x is _stopBenchmark or t >= ttarget * 0.9 or n >= 1e9:
            return BenchmarkResult(b.N, t)
        n = _next_n(n, t, ttarget)

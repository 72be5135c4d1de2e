"""golang.runtime: a little of Go's runtime package for pygolang code."""
import os

import _gpython

__all__ = ["NumGoroutine", "Gosched", "NumCPU", "GOMAXPROCS"]


def NumGoroutine():
    """How many goroutines exist."""
    return _gpython.numgoroutine()


def Gosched():
    """Yield to other goroutines."""
    _gpython.gosched()


def NumCPU():
    """How many CPUs the process may use."""
    return len(os.sched_getaffinity(0))


def GOMAXPROCS(n=0):
    """Goroutines run Python on one OS thread at a time (the GIL): 1.
    Setting it is accepted and changes nothing."""
    return 1

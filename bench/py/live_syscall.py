# live_syscall: the longest gap of a goroutine ticking every 10 ms while
# another goroutine is in a 1 s system call made without the GIL that
# nothing can park (a raw nanosleep through ctypes, as a C library's
# blocking call would be). ~10 ms: the others keep running; ~1000 ms: the
# call froze them. usage: live_syscall.py [MS]  -> RESULT gap_ms=...
import ctypes
import os
import sys

from _liveness import longest_gap

SYS_nanosleep = 35 if os.uname().machine == 'x86_64' else 101


class Timespec(ctypes.Structure):
    _fields_ = [('s', ctypes.c_long), ('ns', ctypes.c_long)]


ms = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
libc = ctypes.CDLL(None)
t = Timespec(ms // 1000, (ms % 1000) * 1000000)
longest_gap(lambda: libc.syscall(SYS_nanosleep, ctypes.byref(t), None))

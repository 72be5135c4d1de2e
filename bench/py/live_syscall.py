# live_syscall: the longest gap of a goroutine ticking every 10 ms while
# another goroutine is in a 1 s system call made without the GIL that
# nothing can park (a raw nanosleep through ctypes, as a C library's
# blocking call would be). ~10 ms: the others keep running; ~1000 ms: the
# call froze them. usage: live_syscall.py [MS]  -> RESULT gap_ms=...
import ctypes
import os
import sys
import time

SYS_nanosleep = 35 if os.uname().machine == 'x86_64' else 101


class Timespec(ctypes.Structure):
    _fields_ = [('s', ctypes.c_long), ('ns', ctypes.c_long)]


def main():
    ms = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    libc = ctypes.CDLL(None)
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

    def stuck():
        t = Timespec(ms // 1000, (ms % 1000) * 1000000)
        libc.syscall(SYS_nanosleep, ctypes.byref(t), None)
        done.send(None)

    go(ticker)
    time.sleep(0.05)
    t0 = time.perf_counter()
    go(stuck)
    done.recv()
    state['stop'] = True
    done.recv()
    dt = time.perf_counter() - t0
    print('RESULT gap_ms=%.1f ticks=%d elapsed_s=%.4f'
          % (max(gaps) * 1e3, len(gaps), dt))


main()

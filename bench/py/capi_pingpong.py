# capi_pingpong: round trips of a C int between two C goroutines over two
# unbuffered gpy_chan channels (the C API; Go's twin is its pingpong).
# usage: capi_pingpong.py [N]   -> RESULT ns_per_op=... (one round trip)
import sys

import gpybench


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1000000
    dt = gpybench.pingpong(n)
    print('RESULT ns_per_op=%.1f n=%d elapsed_s=%.4f' % (dt * 1e9 / n, n, dt))


main()

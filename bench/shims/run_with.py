# run_with.py: run a benchmark program under a peer runtime.
#   /usr/bin/python3 bench/shims/run_with.py {gevent|threads} PROGRAM [ARGS...]
# installs the runtime's go/chan/select builtins (gevent also monkey-patches
# first), then runs PROGRAM as __main__, so the program is byte-identical to
# what gpython runs.

import os
import sys


def main():
    if len(sys.argv) < 3 or sys.argv[1] not in ('gevent', 'threads'):
        sys.stderr.write('usage: run_with.py {gevent|threads} PROGRAM [ARGS...]\n')
        sys.exit(2)
    runtime, prog = sys.argv[1], sys.argv[2]
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    if runtime == 'gevent':
        import gevent_go  # noqa: F401
    else:
        import thread_go  # noqa: F401
    del sys.path[0]

    import runpy
    sys.argv = sys.argv[2:]
    sys.path.insert(0, os.path.dirname(os.path.abspath(prog)))
    runpy.run_path(prog, run_name='__main__')


main()

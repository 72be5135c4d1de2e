#!/usr/bin/python3
# before_after.py: one gpython against another (today's against an earlier
# commit's) on the benchmarks a scheduler change may slow down — channel,
# spawn, pingpong, echo, sleep — interleaved in one run, so both see the
# same machine. Prints a markdown table of medians and after/before ratios.
#
#   bench/before_after.py --before OLD/gpython --after build-release/gpython
#
# Build the earlier commit with:
#   git worktree add /tmp/before COMMIT && cmake -S /tmp/before \
#     -B /tmp/before/build -DCMAKE_BUILD_TYPE=Release && \
#     cmake --build /tmp/before/build -j2 --target gpython gpy_shims_pyc
import argparse
import os
import statistics
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run  # noqa: E402

# benchmark -> (program, N, RESULT key)
BENCHES = {
    'chan_sync': ('chan_sync', 300000, 'ns_per_op'),
    'chan_buff': ('chan_buff', 300000, 'ns_per_op'),
    'chan_async': ('chan_async', 300000, 'ns_per_op'),
    'select': ('select', 300000, 'ns_per_op'),
    'select_default': ('select_default', 1000000, 'ns_per_op'),
    'pingpong': ('pingpong', 200000, 'ns_per_op'),
    'spawn': ('spawn', 100000, 'ns_per_op'),
    'sleep': ('sleep', 10000, 'wall_ms'),
    'echo': (None, None, 'ns_per_rt'),
}


def measure(bench, gpython, timeout):
    prog, n, key = BENCHES[bench]
    if bench == 'echo':
        argv, env = run.command('gpython', 'echo_server', [], gpython)
        srv = run.Server(argv, env)
        try:
            res = run.run_prog([os.path.join(run.BUILD, 'loadgen'), '-addr',
                                '127.0.0.1:%d' % srv.port, '-conns', '50',
                                '-rounds', '2000', '-size', '64'],
                               run.clean_env(), timeout)
            srv.check_alive()
        finally:
            srv.stop()
        return res['ns_per_rt']
    argv, env = run.command('gpython', prog, [n], gpython)
    return run.run_prog(argv, env, timeout)[key]


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument('--before', required=True)
    ap.add_argument('--after', required=True)
    ap.add_argument('--reps', type=int, default=7)
    ap.add_argument('--bench', default=','.join(BENCHES))
    ap.add_argument('--timeout', type=int, default=120)
    ap.add_argument('--limit', type=float, default=1.10,
                    help='after/before ratio that still passes (1.10)')
    o = ap.parse_args()
    run.build_go()
    benches = o.bench.split(',')
    vals = {(b, w): [] for b in benches for w in ('before', 'after')}
    for rep in range(o.reps):
        for b in benches:
            # alternate which goes first, so neither always runs warm
            order = ('before', 'after') if rep % 2 == 0 else ('after', 'before')
            for w in order:
                vals[(b, w)].append(measure(b, getattr(o, w), o.timeout))
        run.log('before_after: rep %d/%d done' % (rep + 1, o.reps))
    print('| benchmark | unit | before | after | after/before |')
    print('|---|---|---|---|---|')
    bad = 0
    for b in benches:
        unit = 'ms' if b == 'sleep' else ('ns/rt' if b == 'echo' else 'ns/op')
        mb = statistics.median(vals[(b, 'before')])
        ma = statistics.median(vals[(b, 'after')])
        r = ma / mb
        ok = r <= o.limit
        bad += not ok
        print('| %s | %s | %.1f | %.1f | %.3f %s |'
              % (b, unit, mb, ma, r, 'PASS' if ok else 'FAIL'))
    sys.exit(1 if bad else 0)


if __name__ == '__main__':
    main()

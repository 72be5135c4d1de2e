#!/usr/bin/python3
# run.py: the benchmark driver. Runs every benchmark of bench/py/ (and its
# Go twin in bench/go/) under each runtime, R interleaved repetitions, and
# prints/saves a markdown table of medians (and best) with ratios to Go.
# Run it with /usr/bin/python3; see bench/README.md.

import argparse
import datetime
import json
import os
import platform
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
BUILD = os.path.join(HERE, 'build')
PY = '/usr/bin/python3'
RUN_WITH = os.path.join(HERE, 'shims', 'run_with.py')

RUNTIMES = ['gpython', 'gevent', 'threads', 'go1', 'go']
RUNTIME_LABEL = {
    'gpython': 'gpython',
    'gevent': 'gevent',
    'threads': 'OS threads',
    'go1': 'Go (GOMAXPROCS=1)',
    'go': 'Go (GOMAXPROCS=%d)' % os.cpu_count(),
}
REF = 'go1'     # ratios are to this runtime

# kind: how the benchmark is run and measured.
#   op      N calibrated so a run lasts >= --min-time; metric ns per op
#   fixed   fixed N (per runtime); metric from the RESULT line
#   park    peak RSS at N parked goroutines minus a run with N=0, per goroutine
#   echo    the runtime's echo server under bench/build/loadgen
#   http    the runtime's HTTP server under wrk
#   startup hyperfine over an empty program
# better: 'low' or 'high'. target: what gpython must reach (README's targets).
BENCHES = {
    'chan_sync':      dict(kind='op', unit='ns/op', target=('go1', 3.0)),
    'chan_buff':      dict(kind='op', unit='ns/op', target=('go1', 5.0)),
    'chan_async':     dict(kind='op', unit='ns/op', target=('go1', 5.0)),
    'select':         dict(kind='op', unit='ns/op', target=('go1', 3.0)),
    'select_default': dict(kind='op', unit='ns/op', target=('go1', 5.0)),
    'spawn':          dict(kind='fixed', unit='ns/op', key='ns_per_op',
                           n=100000, n_threads=10000, target=('go1', 3.0)),
    'pingpong':       dict(kind='op', unit='ns/op', target=('go1', 3.0)),
    # The C API (include/gpython/gpython.h) through bench/capi/gpybench.c:
    # C goroutines' ping-pong against Go's; a C producer feeding Python
    # through a wrapped chan[C.int] against a Python producer (feed_py).
    'capi_pingpong':  dict(kind='op', unit='ns/op', target=('go1', 1.5),
                           only=('gpython', 'go1', 'go'), go='pingpong'),
    'feed_c':         dict(kind='op', unit='ns/op', only=('gpython',),
                           peer=('feed_py', 1.0)),
    'feed_py':        dict(kind='op', unit='ns/op', only=('gpython',)),
    'sleep':          dict(kind='fixed', unit='ms', key='wall_ms',
                           n=10000, n_threads=1000, target=('go1', 2.0)),
    # Handoff: work that releases the GIL in parallel (2 workers; as fast
    # as python3's threads), and the others' liveness while one goroutine
    # is in a long GIL-released call or computes (a 10 ms ticker's
    # longest gap, at most 20 ms).
    'hash2':          dict(kind='fixed', unit='ms', key='wall_ms', n=2,
                           n_threads=2, vs=('threads', 1.15)),
    'zlib2':          dict(kind='fixed', unit='ms', key='wall_ms', n=2,
                           n_threads=2, vs=('threads', 1.15)),
    'live_syscall':   dict(kind='fixed', unit='ms gap', key='gap_ms',
                           n=1000, n_threads=1000, at_most=20),
    'live_compute':   dict(kind='fixed', unit='ms gap', key='gap_ms',
                           n=2000, n_threads=2000, at_most=20),
    'echo':           dict(kind='echo', unit='ns/rt'),
    'http':           dict(kind='http', unit='req/s', better='high'),
    'park':           dict(kind='park', unit='B/g', n=100000, n_threads=10000),
    'startup':        dict(kind='startup', unit='ms'),
}
OP_N0 = {'gpython': 100000, 'gevent': 20000, 'threads': 20000,
         'go1': 1000000, 'go': 1000000}

PARK_MAX_COUNTS = [100000, 200000, 500000, 1000000, 2000000, 5000000,
                   10000000, 20000000]


def log(*a):
    print(*a, file=sys.stderr, flush=True)


def nice(n):
    # Round up to 1, 2 or 5 times a power of ten.
    p = 1
    while True:
        for m in (1, 2, 5):
            if m * p >= n:
                return m * p
        p *= 10


# ---- machine and environment -----------------------------------------------

def read(path, default=''):
    try:
        with open(path) as f:
            return f.read()
    except OSError:
        return default


def cmd_out(argv, **kw):
    try:
        return subprocess.run(argv, capture_output=True, text=True,
                              timeout=60, **kw).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ''


def meminfo_kb(key):
    m = re.search(r'^%s:\s+(\d+) kB' % key, read('/proc/meminfo'), re.M)
    return int(m.group(1)) if m else 0


def machine_info(gpython):
    cpu = re.search(r'^model name\s*:\s*(.*)$', read('/proc/cpuinfo'), re.M)
    info = {
        'date': datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%d %H:%M:%S UTC'),
        'uname': ' '.join(platform.uname()),
        'cpu': cpu.group(1) if cpu else platform.processor(),
        'ncpu': os.cpu_count(),
        'mem_total_gib': round(meminfo_kb('MemTotal') / 2**20, 1),
        'python': cmd_out([PY, '-c', 'import sys; print(sys.version.split()[0])']),
        'gevent': cmd_out([PY, '-c', 'import gevent; print(gevent.__version__)']),
        'go': cmd_out(['go', 'version']),
        'wrk': ((cmd_out(['wrk', '-v']) or '').splitlines() or [''])[0],
        'hyperfine': cmd_out(['hyperfine', '--version']),
        'git': cmd_out(['git', '-C', ROOT, 'describe', '--always', '--dirty']),
        'gpython': gpython or None,
    }
    if gpython:
        cache = os.path.join(os.path.dirname(gpython), 'CMakeCache.txt')
        m = re.search(r'^CMAKE_BUILD_TYPE:\w+=(.*)$', read(cache), re.M)
        info['gpython_build_type'] = m.group(1) if m else 'unknown'
    return info


def loadavg():
    return ' '.join(read('/proc/loadavg').split()[:3])


# ---- building and locating the programs -------------------------------------

def go_env():
    env = dict(os.environ)
    env.update(GOCACHE='/tmp/gpybench-gocache', GOPATH='/tmp/gpybench-gopath',
               GOPROXY='off', GOFLAGS='-mod=mod', GO111MODULE='on',
               GOTOOLCHAIN='local')
    return env


def build_go():
    os.makedirs(BUILD, exist_ok=True)
    for prog in ('gobench', 'loadgen', 'empty'):
        r = subprocess.run(['go', 'build', '-o', os.path.join(BUILD, prog),
                            './cmd/' + prog], cwd=os.path.join(HERE, 'go'),
                           env=go_env(), capture_output=True, text=True)
        if r.returncode != 0:
            sys.exit('bench: go build %s failed:\n%s' % (prog, r.stderr))


def build_capi():
    """bench/build/capi/gpybench.so: the C API benchmarks' extension, built
    against the source tree's include/ (no install needed)."""
    out = os.path.join(BUILD, 'capi')
    os.makedirs(out, exist_ok=True)
    cflags = cmd_out(['pkg-config', '--cflags', 'python-3.11']).split()
    argv = (['cc', '-shared', '-fPIC', '-O2', '-Wall', '-Wextra',
             '-I' + os.path.join(ROOT, 'include')] + cflags +
            [os.path.join(HERE, 'capi', 'gpybench.c'),
             '-o', os.path.join(out, 'gpybench.so')])
    r = subprocess.run(argv, capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit('bench: building gpybench failed:\n%s' % r.stderr)


def build_release():
    bdir = os.path.join(ROOT, 'build-release')
    for argv in (['cmake', '-S', ROOT, '-B', bdir, '-DCMAKE_BUILD_TYPE=Release'],
                 # gpython and the shims it runs (copied and byte-compiled
                 # into the build tree): a stale copy would be measured
                 ['cmake', '--build', bdir, '-j2', '--target', 'gpython',
                  'gpy_shims_pyc']):
        log('bench: ' + ' '.join(argv))
        r = subprocess.run(argv, capture_output=True, text=True)
        if r.returncode != 0:
            sys.exit('bench: release build failed:\n%s%s' % (r.stdout[-3000:], r.stderr[-3000:]))


def find_gpython(path):
    if path:
        if not os.access(path, os.X_OK):
            sys.exit('bench: --gpython %s is not executable' % path)
        return os.path.abspath(path)
    found = [p for p in (os.path.join(ROOT, d, 'gpython') for d in ('build-release', 'build'))
             if os.access(p, os.X_OK)]
    if len(found) == 2 and os.path.getmtime(found[0]) < os.path.getmtime(found[1]):
        log('bench: warning: %s is older than %s (use --build-release to refresh it)'
            % tuple(os.path.relpath(p, ROOT) for p in found))
    return found[0] if found else None


def clean_env():
    env = {k: v for k, v in os.environ.items()
           if not k.startswith('PYTHON') and k != 'GOMAXPROCS'}
    return env


# Python file names that differ from the benchmark's: a bench/py/select.py
# would shadow the stdlib module for every program in bench/py/.
PYFILE = {'select': 'select2'}


def command(rt, prog, args, gpython):
    """argv and environment that run bench/py/<prog>.py (or its Go twin)."""
    env = clean_env()
    args = [str(a) for a in args]
    if rt != 'go1' and rt != 'go':
        prog = PYFILE.get(prog, prog)
    if rt == 'gpython':
        env['PYTHONPATH'] = os.path.join(BUILD, 'capi')
        return [gpython, os.path.join(HERE, 'py', prog + '.py')] + args, env
    if rt in ('gevent', 'threads'):
        return [PY, RUN_WITH, rt, os.path.join(HERE, 'py', prog + '.py')] + args, env
    if rt == 'go1':
        env['GOMAXPROCS'] = '1'
    prog = BENCHES.get(prog, {}).get('go', prog)
    return [os.path.join(BUILD, 'gobench'), prog] + args, env


# ---- running ------------------------------------------------------------------

class Failed(Exception):
    pass


def parse_result(out):
    for line in reversed(out.splitlines()):
        if line.startswith('RESULT '):
            res = {}
            for kv in line.split()[1:]:
                k, _, v = kv.partition('=')
                res[k] = float(v)
            return res
    return None


def describe_failure(what, argv, rc, out, err):
    tail = '\n'.join((err or '').strip().splitlines()[-6:])
    return '%s: `%s`%s%s' % (what, ' '.join(argv),
                            '' if rc is None else ' (exit status %s)' % rc,
                            ('\n' + tail) if tail else '')


def run_prog(argv, env, timeout, mem_limit_kb=None):
    """Run argv; return its RESULT dict. Raises Failed (timeout, crash,
    no RESULT line, or RSS over mem_limit_kb)."""
    with tempfile.TemporaryFile('w+') as fout, tempfile.TemporaryFile('w+') as ferr:
        p = subprocess.Popen(argv, env=env, stdout=fout, stderr=ferr,
                             stdin=subprocess.DEVNULL)
        t0 = time.monotonic()
        why = None
        while p.poll() is None:
            if time.monotonic() - t0 > timeout:
                why = 'timeout after %ds' % timeout
            elif mem_limit_kb:
                m = re.search(r'^VmRSS:\s+(\d+)', read('/proc/%d/status' % p.pid), re.M)
                if m and int(m.group(1)) > mem_limit_kb:
                    why = 'RSS over the memory budget of %d MiB' % (mem_limit_kb // 1024)
            if why:
                p.kill()
                p.wait()
                break
            time.sleep(0.02 if mem_limit_kb else 0.005)
        fout.seek(0)
        ferr.seek(0)
        out, err = fout.read(), ferr.read()
    if why:
        raise Failed(describe_failure(why, argv, None, out, err))
    if p.returncode != 0:
        raise Failed(describe_failure('crash', argv, p.returncode, out, err))
    res = parse_result(out)
    if res is None:
        raise Failed(describe_failure('no RESULT line', argv, p.returncode, out, err))
    return res


class Server:
    """A server program that prints READY port=P; killed on exit."""

    def __init__(self, argv, env):
        self.argv = argv
        # Files, not pipes: a server that writes a lot must never block on
        # a pipe nobody drains.
        self.outf = tempfile.TemporaryFile('w+')
        self.errf = tempfile.TemporaryFile('w+')
        self.p = subprocess.Popen(argv, env=env, stdout=self.outf,
                                  stderr=self.errf, stdin=subprocess.DEVNULL)
        m = None
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and self.p.poll() is None:
            self.outf.seek(0)
            m = re.search(r'^READY port=(\d+)$', self.outf.read(), re.M)
            if m:
                break
            time.sleep(0.02)
        if not m:
            err = self.stderr()
            self.stop()
            raise Failed(describe_failure('server did not start', argv,
                                          self.p.returncode, '', err))
        self.port = int(m.group(1))

    def stderr(self):
        self.errf.seek(0)
        return self.errf.read()

    def check_alive(self):
        if self.p.poll() is not None:
            raise Failed(describe_failure('server died', self.argv,
                                          self.p.returncode, '', self.stderr()))

    def stop(self):
        if self.p.poll() is None:
            self.p.send_signal(signal.SIGTERM)
            try:
                self.p.wait(5)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait()
        self.outf.close()
        self.errf.close()


class Suite:
    def __init__(self, opts, gpython):
        self.o = opts
        self.gpython = gpython
        self.calibrated = {}        # (bench, rt) -> N
        self.results = {}           # bench -> rt -> dict

    def cell(self, bench, rt):
        return self.results.setdefault(bench, {}).setdefault(
            rt, {'values': [], 'extra': [], 'n': None, 'error': None, 'note': None})

    # -- one measurement of one benchmark under one runtime; returns
    #    (value, extra dict)

    def measure(self, bench, rt):
        spec = BENCHES[bench]
        kind = spec['kind']
        c = self.cell(bench, rt)
        if kind == 'op':
            n = self.calibrated[(bench, rt)]
            argv, env = command(rt, bench, [n], self.gpython)
            res = run_prog(argv, env, self.o.timeout)
            return res['ns_per_op'], {'n': n, 'elapsed_s': res.get('elapsed_s')}
        if kind == 'fixed':
            n = c['n']
            argv, env = command(rt, bench, [n], self.gpython)
            res = run_prog(argv, env, self.o.timeout)
            return res[spec['key']], {'n': n, 'elapsed_s': res.get('elapsed_s')}
        if kind == 'park':
            n = c['n']
            argv, env = command(rt, 'park', [n], self.gpython)
            res = run_prog(argv, env, self.o.timeout)
            argv0, env0 = command(rt, 'park', [0], self.gpython)
            base = run_prog(argv0, env0, self.o.timeout)
            per = (res['vmhwm_kb'] - base['vmhwm_kb']) * 1024.0 / n
            return per, {'n': n, 'vmhwm_kb': res['vmhwm_kb'],
                         'base_vmhwm_kb': base['vmhwm_kb'],
                         'spawn_s': res.get('spawn_s')}
        if kind == 'echo':
            argv, env = command(rt, 'echo_server', [], self.gpython)
            srv = Server(argv, env)
            try:
                res = run_prog([os.path.join(BUILD, 'loadgen'), '-addr',
                                '127.0.0.1:%d' % srv.port, '-conns', '50',
                                '-rounds', '2000', '-size', '64'],
                               clean_env(), self.o.timeout)
                srv.check_alive()
            finally:
                srv.stop()
            return res['ns_per_rt'], {k: res[k] for k in
                                      ('rt_per_s', 'lat_mean_us', 'lat_p99_us')}
        if kind == 'http':
            argv, env = command(rt, 'http_server', [], self.gpython)
            srv = Server(argv, env)
            try:
                wargv = ['wrk', '-t2', '-c50', '-d%ds' % self.o.http_seconds,
                         'http://127.0.0.1:%d/' % srv.port]
                r = subprocess.run(wargv, capture_output=True, text=True,
                                   timeout=self.o.http_seconds + 60)
                srv.check_alive()
            except subprocess.TimeoutExpired:
                raise Failed('timeout: `%s` against `%s`' % (' '.join(wargv), ' '.join(argv)))
            finally:
                srv.stop()
            m = re.search(r'Requests/sec:\s+([\d.]+)', r.stdout)
            if r.returncode != 0 or not m:
                raise Failed(describe_failure('wrk failed', wargv, r.returncode,
                                              r.stdout, r.stderr))
            extra = {}
            for pat, key in ((r'Socket errors:(.*)', 'socket_errors'),
                             (r'Non-2xx or 3xx responses: (\d+)', 'non2xx'),
                             (r'Latency\s+(\S+)', 'lat_mean')):
                mm = re.search(pat, r.stdout)
                if mm:
                    extra[key] = mm.group(1).strip()
            if 'non2xx' in extra:
                raise Failed('wrong HTTP answers (%s non-2xx) from `%s`'
                             % (extra['non2xx'], ' '.join(argv)))
            return float(m.group(1)), extra
        raise AssertionError(kind)

    # -- calibration of 'op' benchmarks: grow N until a run lasts long enough

    def calibrate(self, bench, rt):
        n = OP_N0[rt]
        for _ in range(4):
            argv, env = command(rt, bench, [n], self.gpython)
            res = run_prog(argv, env, self.o.timeout)
            el = res.get('elapsed_s', 0)
            if el >= self.o.min_time:
                break
            n = nice(n * min(100.0, self.o.min_time * 1.25 / max(el, 1e-4)))
        self.calibrated[(bench, rt)] = n
        self.cell(bench, rt)['n'] = n

    def setup_cells(self, benches, runtimes):
        for b in benches:
            spec = BENCHES[b]
            for rt in runtimes:
                c = self.cell(b, rt)
                if rt == 'gpython' and not self.gpython:
                    c['error'] = 'n/a (gpython not built)'
                    continue
                if rt not in spec.get('only', RUNTIMES):
                    c['error'] = 'n/a (gpython\'s C API)'
                    continue
                if 'n' in spec:
                    c['n'] = spec['n_threads'] if rt == 'threads' else spec['n']
                    if rt == 'threads' and spec['n_threads'] != spec['n']:
                        c['note'] = ('OS threads: N=%d (N=%d costs minutes or'
                                     ' hits the thread limit)' % (c['n'], spec['n']))

    def run_one(self, bench, rt):
        c = self.cell(bench, rt)
        if c['error']:
            return
        try:
            if BENCHES[bench]['kind'] == 'op' and (bench, rt) not in self.calibrated:
                self.calibrate(bench, rt)
            v, extra = self.measure(bench, rt)
        except Failed as e:
            c['error'] = str(e)
            log('  %-14s %-8s FAILED: %s' % (bench, rt, str(e).splitlines()[0]))
            return
        c['values'].append(v)
        c['extra'].append(extra)
        log('  %-14s %-8s %12.1f %s' % (bench, rt, v, BENCHES[bench]['unit']))

    def run_startup(self, runtimes, reps):
        cmds = {}
        if 'gpython' in runtimes and self.gpython:
            cmds['gpython'] = [self.gpython, '-c', 'pass']
        if 'gevent' in runtimes:
            cmds['gevent'] = [PY, '-c', 'from gevent import monkey; monkey.patch_all()']
        if 'threads' in runtimes:
            cmds['threads'] = [PY, '-c', 'pass']
        if 'go1' in runtimes or 'go' in runtimes:
            cmds['go1'] = [os.path.join(BUILD, 'empty')]
        for rt in runtimes:
            c = self.cell('startup', rt)
            if rt == 'go' and 'go1' in cmds:
                c['note'] = 'Go: the same empty binary as GOMAXPROCS=1'
            elif rt == 'threads':
                c['note'] = 'OS threads: plain `/usr/bin/python3 -c pass`'
            elif rt == 'gevent':
                c['note'] = 'gevent: `python3 -c "from gevent import monkey; monkey.patch_all()"`'
        # hyperfine runs its commands one after the other; to keep a load
        # spike from hitting one command only, each repetition is several
        # short hyperfine calls in rotating order, and the median is taken
        # over all the single runs (hyperfine's "times") of the repetition.
        per_call = 5
        calls = max(1, -(-self.o.startup_runs // per_call))
        names0 = list(cmds)
        for rep in range(reps):
            times = {n: [] for n in names0}
            for k in range(calls):
                j = (rep * calls + k) % len(names0)
                names = names0[j:] + names0[:j]
                with tempfile.NamedTemporaryFile(suffix='.json') as tf:
                    argv = ['hyperfine', '-N', '--warmup', '3' if k == 0 else '1',
                            '--runs', str(per_call), '--export-json', tf.name,
                            '--style', 'none']
                    argv += [' '.join(_shquote(a) for a in cmds[n]) for n in names]
                    r = subprocess.run(argv, capture_output=True, text=True,
                                       timeout=self.o.timeout * 4, env=clean_env())
                    if r.returncode != 0:
                        for n in names:
                            self.cell('startup', n)['error'] = describe_failure(
                                'hyperfine failed', argv, r.returncode, r.stdout, r.stderr)
                        return
                    with open(tf.name) as f:
                        data = json.load(f)
                for n, res in zip(names, data['results']):
                    times[n].extend(res['times'])
            for n in names0:
                v = statistics.median(times[n]) * 1e3
                extra = {'runs': len(times[n]), 'min_ms': min(times[n]) * 1e3,
                         'mean_ms': statistics.mean(times[n]) * 1e3}
                self.cell('startup', n)['values'].append(v)
                self.cell('startup', n)['extra'].append(extra)
                if n == 'go1' and 'go' in runtimes:
                    self.cell('startup', 'go')['values'].append(v)
                log('  %-14s %-8s %12.2f ms' % ('startup', n, v))

    def park_max(self, runtimes, explore):
        """Largest parked-goroutine count that runs, trying counts up to 1M
        (explore: beyond, until a failure or the memory budget)."""
        budget_kb = int(meminfo_kb('MemAvailable') * self.o.mem_fraction)
        out = {}
        for rt in runtimes:
            if rt == 'gpython' and not self.gpython:
                continue
            best, per_g, stop = None, None, 'reached the last count tried'
            for n in PARK_MAX_COUNTS:
                if not explore and n > 1000000:
                    stop = 'stopped at 1,000,000 (use --park-max to go further)'
                    break
                if per_g and best and best['vmhwm_kb'] + per_g * (n - best['n']) / 1024 > budget_kb:
                    stop = ('%d would need more than the memory budget (%d MiB)'
                            % (n, budget_kb // 1024))
                    break
                argv, env = command(rt, 'park', [n], self.gpython)
                log('  park_max       %-8s trying %d' % (rt, n))
                t0 = time.monotonic()
                try:
                    res = run_prog(argv, env, max(self.o.timeout, 600), mem_limit_kb=budget_kb)
                except Failed as e:
                    stop = 'failed at %d: %s' % (n, e)
                    break
                best = {'n': n, 'vmhwm_kb': int(res['vmhwm_kb']),
                        'spawn_s': res.get('spawn_s'), 'wall_s': round(time.monotonic() - t0, 2)}
                per_g = res['vmhwm_kb'] * 1024.0 / n
            fit = None
            if per_g:
                fit = int(meminfo_kb('MemTotal') * 1024.0 / per_g)
            out[rt] = {'largest_ok': best, 'stop': stop, 'mem_budget_mib': budget_kb // 1024,
                       'fit_estimate': fit}
            log('  park_max       %-8s largest ok: %s; %s' % (rt, best and best['n'], stop))
        self.results['park_max'] = out

    def selftest(self, runtimes):
        """Run the go/chan/select semantics test under every runtime; the
        peers must pass it (or their numbers mean nothing)."""
        out = {}
        prog = os.path.join(HERE, 'shims', 'test_gochan.py')
        for rt in runtimes:
            if rt in ('go1', 'go') or (rt == 'gpython' and not self.gpython):
                continue
            argv = ([self.gpython, prog] if rt == 'gpython' else [PY, RUN_WITH, rt, prog])
            try:
                r = subprocess.run(argv, capture_output=True, text=True, timeout=120,
                                   env=clean_env())
                ok = r.returncode == 0
                msg = 'ok' if ok else describe_failure('failed', argv, r.returncode,
                                                        r.stdout, r.stderr)
            except subprocess.TimeoutExpired:
                ok, msg = False, 'timeout: `%s`' % ' '.join(argv)
            out[rt] = msg
            log('  selftest       %-8s %s' % (rt, msg))
            if not ok and rt != 'gpython':
                sys.exit('bench: the %s shim fails the semantics test; fix it first' % rt)
        return out


def _shquote(s):
    if re.match(r'^[\w@%+=:,./-]+$', s):
        return s
    return "'" + s.replace("'", "'\"'\"'") + "'"


# ---- statistics and the table -----------------------------------------------

def summarize(results):
    for bench, cells in results.items():
        if bench not in BENCHES:
            continue
        high = BENCHES[bench].get('better') == 'high'
        for rt, c in cells.items():
            v = c['values']
            if v:
                c['median'] = statistics.median(v)
                c['best'] = max(v) if high else min(v)


def ratio(bench, cells, rt, against=REF):
    a, b = cells.get(rt, {}), cells.get(against, {})
    if 'median' not in a or 'median' not in b or not a['median'] or not b['median']:
        return None
    if BENCHES[bench].get('better') == 'high':
        return b['median'] / a['median']
    return a['median'] / b['median']


def fmt_num(v):
    if v is None:
        return '-'
    if v >= 100:
        return '{:,.0f}'.format(v)
    if v >= 10:
        return '%.1f' % v
    return '%.2f' % v


# target_check's view of the other benchmarks (a 'peer' target compares
# gpython's cells of two benchmarks); render() sets it.
_ALL_RESULTS = {}


def results_of_peer(bench):
    return _ALL_RESULTS.get(bench, {}).get('gpython')


def target_check(bench, cells, park_max):
    """-> 'text' verdict for gpython against the issue's targets."""
    g = cells.get('gpython', {})
    if 'median' not in g:
        return 'not measured'
    spec = BENCHES[bench]
    if 'target' in spec:
        ref, limit = spec['target']
        r = ratio(bench, cells, 'gpython', ref)
        if r is None:
            return '-'
        return '%s ≤%g× Go: %.2f×' % ('PASS' if r <= limit else 'FAIL', limit, r)
    if 'vs' in spec:
        ref, limit = spec['vs']
        rv = cells.get(ref, {}).get('median')
        if not rv:
            return '-'
        r = g['median'] / rv
        return '%s ≤%g× %s: %.2f×' % ('PASS' if r <= limit else 'FAIL', limit,
                                      RUNTIME_LABEL[ref], r)
    if 'at_most' in spec:
        limit = spec['at_most']
        return '%s ≤%g %s: %.1f' % ('PASS' if g['median'] <= limit else 'FAIL',
                                    limit, spec['unit'], g['median'])
    if 'peer' in spec:
        peer, limit = spec['peer']
        p = results_of_peer(peer)
        if not p or 'median' not in p:
            return '-'
        r = g['median'] / p['median']
        return '%s ≤%g× %s: %.2f×' % ('PASS' if r <= limit else 'FAIL', limit,
                                      peer, r)
    if bench in ('echo', 'http'):
        r = ratio(bench, cells, 'gpython', REF)
        t = ratio(bench, cells, 'gpython', 'threads')
        parts = []
        ok = True
        if t is not None:
            ok &= t <= 1.0
            parts.append('%.2f× threads' % t)
        if r is not None:
            ok &= r <= 1.3
            parts.append('%.2f× Go' % r)
        return '%s ≤1× threads, ≤1.3× Go: %s' % ('PASS' if ok else 'FAIL', ', '.join(parts))
    if bench == 'park':
        gv = cells.get('gevent', {}).get('median')
        r = ratio(bench, cells, 'gpython', REF)
        ok = gv is not None and g['median'] <= gv
        s = '%s ≤ gevent' % ('PASS' if ok else 'FAIL')
        if gv is not None:
            s += ' (%.2f× gevent)' % (g['median'] / gv)
        if r is not None:
            s += ', %.2f× Go (aim 2×)' % r
        pm = (park_max or {}).get('gpython')
        if pm:
            fits = pm['largest_ok'] and pm['largest_ok']['n'] >= 1000000
            s += '; 1M parked: %s' % ('PASS' if fits else 'FAIL')
        return s
    if bench == 'startup':
        r = ratio(bench, cells, 'gpython', 'threads')
        if r is None:
            return '-'
        return '%s ≤1.15× python3: %.2f×' % ('PASS' if r <= 1.15 else 'FAIL', r)
    return '-'


def render(doc):
    res = doc['results']
    _ALL_RESULTS.clear()
    _ALL_RESULTS.update(res)
    runtimes = doc['runtimes']
    lines = []
    m = doc['machine']
    lines.append('## Benchmark results, %s' % m['date'])
    lines.append('')
    lines.append('- machine: %s, %d CPUs, %s GiB RAM' % (m['cpu'], m['ncpu'], m['mem_total_gib']))
    lines.append('- kernel: `%s`' % m['uname'])
    lines.append('- load average before/after: %s / %s' % (doc['load_before'], doc['load_after']))
    lines.append('- gpython: %s (%s build), tree %s; Python %s; gevent %s; %s'
                 % (m.get('gpython') or 'not built', m.get('gpython_build_type', '-'),
                    m['git'], m['python'], m['gevent'], m['go']))
    lines.append('- %d interleaved repetitions; cell = median (best) ×ratio to %s; '
                 'ratios are cost ratios (for req/s: Go\'s req/s ÷ this one\'s), lower is better'
                 % (doc['reps'], RUNTIME_LABEL[REF]))
    lines.append('- command: `%s`' % doc['command'])
    lines.append('')
    hdr = ['benchmark', 'unit'] + [RUNTIME_LABEL[r] for r in runtimes] + ['gpython vs target']
    lines.append('| ' + ' | '.join(hdr) + ' |')
    lines.append('|' + '|'.join(['---'] * len(hdr)) + '|')
    notes = []
    for bench in BENCHES:
        if bench not in res:
            continue
        cells = res[bench]
        row = [bench, BENCHES[bench]['unit']]
        for rt in runtimes:
            c = cells.get(rt)
            if c is None:
                row.append('-')
                continue
            if c.get('note'):
                notes.append('%s: %s' % (bench, c['note']))
            if 'median' in c:
                s = '%s (%s)' % (fmt_num(c['median']), fmt_num(c['best']))
                r = ratio(bench, cells, rt)
                if r is not None and rt != REF:
                    s += ' ×%.2f' % r
                if c.get('n') and BENCHES[bench]['kind'] in ('fixed', 'park') and rt == 'threads':
                    s += ' N=%s' % '{:,}'.format(c['n'])
                if c.get('error'):
                    s += ' (later run failed)'
                    notes.append('%s under %s: %s' % (bench, rt, c['error']))
                row.append(s)
            elif c.get('error'):
                short = c['error'].split(':')[0]
                row.append(short if short.startswith('n/a') else '**%s**' % short.upper())
                if not short.startswith('n/a'):
                    notes.append('%s under %s: %s' % (bench, rt, c['error']))
            else:
                row.append('-')
        row.append(target_check(bench, cells, res.get('park_max')))
        lines.append('| ' + ' | '.join(row) + ' |')
    pm = res.get('park_max')
    if pm:
        row = ['park_max', 'goroutines'] 
        for rt in runtimes:
            p = pm.get(rt)
            if not p:
                row.append('-')
                continue
            lo = p['largest_ok']
            if lo:
                row.append('≥{:,} ({:,} MiB); fit≈{:,}'.format(
                    lo['n'], lo['vmhwm_kb'] // 1024, p['fit_estimate'] or 0))
            else:
                row.append('**FAILED**')
            notes.append('park_max under %s: %s' % (rt, p['stop']))
        row.append('1,000,000 must fit')
        lines.append('| ' + ' | '.join(row) + ' |')
    lines.append('')
    ns = []
    for rt, c in sorted(res.get('op_n', {}).items()):
        ns.append('%s: %s' % (rt, c))
    if doc.get('selftest'):
        lines.append('Semantics self-test (bench/shims/test_gochan.py): ' + '; '.join(
            '%s %s' % (rt, 'ok' if v == 'ok' else 'FAILED') for rt, v in doc['selftest'].items()))
        for rt, v in doc['selftest'].items():
            if v != 'ok':
                notes.append('selftest under %s: %s' % (rt, v))
        lines.append('')
    if notes:
        lines.append('Notes:')
        lines.append('')
        for n in notes:
            first, _, rest = n.partition('\n')
            lines.append('- ' + first)
            if rest:
                lines.append('')
                lines.append('  ```')
                lines.extend('  ' + l for l in rest.splitlines())
                lines.append('  ```')
        lines.append('')
    return '\n'.join(lines)


def update_readme(table, source):
    """Put the table into bench/README.md (after <!-- results -->) and into
    the top README.md (between <!-- bench-results:begin/end --> if present)."""
    table = table.replace('## Benchmark results', '### Benchmark results', 1)
    body = '(from `%s`; reproduce with `/usr/bin/python3 bench/run.py --build-release`)\n\n%s' % (
        source, table)
    path = os.path.join(HERE, 'README.md')
    with open(path) as f:
        text = f.read()
    mark = '<!-- results -->'
    if mark not in text:
        sys.exit('bench: no %s marker in %s' % (mark, path))
    text = text[:text.index(mark) + len(mark)] + '\n\n' + body + '\n'
    with open(path, 'w') as f:
        f.write(text)
    log('bench: updated %s' % os.path.relpath(path, ROOT))

    path = os.path.join(ROOT, 'README.md')
    begin, end = '<!-- bench-results:begin -->', '<!-- bench-results:end -->'
    with open(path) as f:
        text = f.read()
    if begin in text and end in text:
        # Only the region between the markers: the rest of that file is not ours.
        text = text[:text.index(begin) + len(begin)] + '\n' + body + '\n' + text[text.index(end):]
        with open(path, 'w') as f:
            f.write(text)
        log('bench: updated %s' % os.path.relpath(path, ROOT))


# ---- main -----------------------------------------------------------------------

def main():
    ap = argparse.ArgumentParser(
        description='Run the gpython benchmark suite (see bench/README.md).')
    ap.add_argument('--reps', type=int, default=5, help='interleaved repetitions (5)')
    ap.add_argument('--quick', action='store_true', help='1 repetition, shorter http runs')
    ap.add_argument('--bench', default=','.join(BENCHES),
                    help='comma-separated benchmarks (default: all)')
    ap.add_argument('--runtime', default=','.join(RUNTIMES),
                    help='comma-separated runtimes among %s' % ','.join(RUNTIMES))
    ap.add_argument('--gpython', help='gpython binary (default: build-release/ or build/)')
    ap.add_argument('--build-release', action='store_true',
                    help='first (re)build build-release/gpython with CMAKE_BUILD_TYPE=Release')
    ap.add_argument('--timeout', type=int, default=120, help='seconds per run (120)')
    ap.add_argument('--min-time', type=float, default=0.3,
                    help='calibrate ns/op benchmarks to last at least this (0.3 s)')
    ap.add_argument('--http-seconds', type=int, default=5, help='wrk duration (5)')
    ap.add_argument('--startup-runs', type=int, default=20, help='hyperfine runs per rep (20)')
    ap.add_argument('--park-max', action='store_true',
                    help='find the largest parked count beyond 1,000,000 (heavy)')
    ap.add_argument('--no-park-max', action='store_true',
                    help='skip the 1,000,000 parked-goroutines check')
    ap.add_argument('--mem-fraction', type=float, default=0.6,
                    help='park_max: kill a run whose RSS passes this fraction of MemAvailable')
    ap.add_argument('--no-save', action='store_true', help='do not write bench/results/')
    ap.add_argument('--render', metavar='JSON', help='only print the table of a saved run')
    ap.add_argument('--update-readme', action='store_true',
                    help='put the table into bench/README.md (after <!-- results -->)')
    o = ap.parse_args()

    if o.render:
        with open(o.render) as f:
            doc = json.load(f)
        summarize(doc['results'])
        table = render(doc)
        print(table)
        if o.update_readme:
            update_readme(table, os.path.relpath(os.path.abspath(o.render), ROOT))
        return
    if o.quick:
        o.reps = 1
        o.http_seconds = min(o.http_seconds, 3)
        o.startup_runs = min(o.startup_runs, 10)
    benches = [b for b in o.bench.split(',') if b]
    runtimes = [r for r in o.runtime.split(',') if r]
    for b in benches:
        if b not in BENCHES:
            sys.exit('bench: unknown benchmark %r (have: %s)' % (b, ', '.join(BENCHES)))
    for r in runtimes:
        if r not in RUNTIMES:
            sys.exit('bench: unknown runtime %r (have: %s)' % (r, ', '.join(RUNTIMES)))

    if o.build_release and 'gpython' in runtimes:
        build_release()
    gpython = find_gpython(o.gpython) if 'gpython' in runtimes else None
    if 'gpython' in runtimes and not gpython:
        log('bench: no gpython at build-release/gpython or build/gpython; skipping it')
    build_go()
    build_capi()

    doc = {'machine': machine_info(gpython), 'runtimes': runtimes, 'reps': o.reps,
           'command': ' '.join(['bench/run.py'] + sys.argv[1:]),
           'load_before': loadavg()}
    log('bench: %s, load %s, gpython=%s' % (doc['machine']['date'], doc['load_before'], gpython))
    t_start = time.monotonic()
    suite = Suite(o, gpython)
    doc['selftest'] = suite.selftest(runtimes)

    timed = [b for b in benches if BENCHES[b]['kind'] != 'startup']
    suite.setup_cells(benches, runtimes)
    for rep in range(o.reps):
        log('bench: repetition %d/%d' % (rep + 1, o.reps))
        for bench in timed:
            # Rotate the runtime order each repetition so slow drifts in
            # machine load do not always hit the same runtime.
            k = rep % len(runtimes)
            for rt in runtimes[k:] + runtimes[:k]:
                suite.run_one(bench, rt)
    if 'startup' in benches:
        suite.run_startup(runtimes, o.reps)
    if 'park' in benches and not o.no_park_max:
        pm_rts = [r for r in runtimes if r in ('gpython', 'go1')] if not o.park_max else \
            [r for r in runtimes if r != 'go']
        suite.park_max(pm_rts, o.park_max)

    doc['load_after'] = loadavg()
    doc['duration_s'] = round(time.monotonic() - t_start, 1)
    doc['results'] = suite.results
    summarize(doc['results'])
    table = render(doc)
    print(table)
    log('bench: done in %.0f s' % doc['duration_s'])
    if not o.no_save:
        os.makedirs(os.path.join(HERE, 'results'), exist_ok=True)
        stamp = datetime.datetime.now().strftime('%Y-%m-%d-%H%M%S')
        base = os.path.join(HERE, 'results', stamp)
        with open(base + '.json', 'w') as f:
            json.dump(doc, f, indent=1, sort_keys=True)
        with open(base + '.md', 'w') as f:
            f.write(table + '\n')
        log('bench: wrote %s.{md,json}' % os.path.relpath(base, ROOT))
        if o.update_readme:
            update_readme(table, os.path.relpath(base + '.json', ROOT))


if __name__ == '__main__':
    main()

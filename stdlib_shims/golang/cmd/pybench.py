"""py.bench benchmarks Python code as `go test -bench` does Go code.

    py.bench [--count N] [--benchtime T] [-k EXPR] [--forked] [PATH ...]

It finds bench_* functions (and bench_* methods of Bench* classes) in the
files named, and in test_*.py, *_test.py and bench_*.py under the
directories named (default: the current one), runs each through
golang.testing.benchmark and prints the results in Go's benchmark format,
a "pymod:" header before each file's:

    pymod: bench_add.py
    Benchmarkadd	50000000	0.020 µs/op

A bench function taking `b` does b.N iterations (golang.testing.B); one
taking nothing is timed once per round. --benchtime is how long to aim at
per benchmark (1s; "500ms", "2s", or "100x" for exactly 100 iterations);
--count runs each that many times; -k selects by name as pytest does
(words joined by and/or/not); --forked runs each in a child process.

Exit status: 0, 1 if a benchmark failed, 2 for bad usage, 5 if none was
found (as pytest). Installed as the command py.bench beside gpython;
also `gpython -m golang.cmd.pybench`.
"""

import argparse
import importlib
import importlib.util
import inspect
import json
import os
import re
import sys
import traceback

from golang import testing

FILE_PATTERNS = (re.compile(r'^test_.*\.py$'), re.compile(r'^.*_test\.py$'),
                 re.compile(r'^bench_.*\.py$'))


def _benchtime(s):
    m = re.match(r'^\s*([0-9.]+)\s*(x|s|ms|us|µs|ns|m|h)?\s*$', s)
    if not m:
        raise argparse.ArgumentTypeError("invalid benchtime %r" % s)
    v, unit = float(m.group(1)), m.group(2) or 's'
    if unit == 'x':
        if v < 1 or v != int(v):
            raise argparse.ArgumentTypeError("invalid benchtime %r" % s)
        return ('x', int(v))
    scale = {'s': 1, 'ms': 1e-3, 'us': 1e-6, 'µs': 1e-6, 'ns': 1e-9,
             'm': 60, 'h': 3600}[unit]
    if v <= 0:
        raise argparse.ArgumentTypeError("invalid benchtime %r" % s)
    return ('s', v * scale)


def _matcher(expr):
    # pytest's -k: names (substrings, case-insensitive) with and/or/not
    if not expr:
        return lambda name: True
    tokens = re.findall(r'\(|\)|[^\s()]+', expr)
    code = []
    for t in tokens:
        if t in ('and', 'or', 'not', '(', ')'):
            code.append(t)
        else:
            code.append('(%r in name)' % t.lower())
    src = ' '.join(code)
    try:
        compiled = compile(src, '<-k>', 'eval')
        eval(compiled, {}, {'name': ''})
    except SyntaxError:
        raise SystemExit("py.bench: -k: invalid expression %r" % expr)
    return lambda name: eval(compiled, {}, {'name': name.lower()})


def _files(paths):
    for p in paths:
        if os.path.isdir(p):
            for d, dirs, files in os.walk(p):
                dirs[:] = sorted(x for x in dirs
                                 if not x.startswith('.') and x != '__pycache__')
                for f in sorted(files):
                    if any(r.match(f) for r in FILE_PATTERNS):
                        yield os.path.join(d, f)
        elif os.path.exists(p):
            yield p
        else:
            raise SystemExit("py.bench: %s: no such file or directory" % p)


def _import(path):
    # as pytest does: the first directory up without __init__.py goes on
    # sys.path, the module is named from there
    path = os.path.abspath(path)
    d, base = os.path.split(path)
    parts = [os.path.splitext(base)[0]]
    while os.path.exists(os.path.join(d, '__init__.py')):
        d, pkg = os.path.split(d)
        parts.insert(0, pkg)
    if d not in sys.path:
        sys.path.insert(0, d)
    name = '.'.join(parts)
    if parts[-1] == '__init__':
        name = '.'.join(parts[:-1])
    return importlib.import_module(name)


def _benchmarks(mod):
    # [(name, callable)] in source order
    found = []
    for attr, obj in vars(mod).items():
        if getattr(obj, '__module__', None) != mod.__name__:
            continue
        if attr.startswith('bench_') and callable(obj) and \
                not inspect.isclass(obj):
            found.append((_line(obj), attr, obj))
        elif inspect.isclass(obj) and attr.startswith('Bench'):
            for mattr, m in vars(obj).items():
                if mattr.startswith('bench_') and callable(m):
                    call = _method(obj, mattr)
                    found.append((_line(call), '%s::%s' % (attr, mattr),
                                  call))
    found.sort(key=lambda x: x[0])
    return [(name, f) for _, name, f in found]


def _line(f):
    if hasattr(f, '_line'):
        return f._line
    f = inspect.unwrap(f)
    code = getattr(f, '__code__', None)
    return code.co_firstlineno if code else 0


def _method(cls, name):
    def call(*argv):
        return getattr(cls(), name)(*argv)
    try:   # the method's signature without self
        sig = inspect.signature(getattr(cls, name))
        call.__signature__ = sig.replace(
            parameters=list(sig.parameters.values())[1:])
    except (TypeError, ValueError):
        pass
    call._line = _line(getattr(cls, name))
    return call


def _takes_b(f):
    try:
        params = list(inspect.signature(f).parameters.values())
    except (TypeError, ValueError):
        return True
    required = [p for p in params
                if p.default is p.empty and
                p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    if len(required) > 1:
        raise TypeError("a benchmark takes b or nothing, not %s"
                        % ", ".join(p.name for p in required))
    return bool(required)


def _run1(f, benchtime):
    # -> (N, T)
    takes_b = _takes_b(f)
    if takes_b:
        def body(b):
            f(b)
    else:
        def body(b):
            f()
            return testing._stopBenchmark
    kind, v = benchtime
    if kind == 'x':
        b = testing.B()
        b.N = v if takes_b else 1
        b.start_timer()
        body(b)
        b.stop_timer()
        return b.N, b.total_time()
    r = testing.benchmark(body, v)
    return r.N, r.T


def _run_forked(f, benchtime):
    rfd, wfd = os.pipe()
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:
        os.close(rfd)
        status = 0
        try:
            out = {'ok': _run1(f, benchtime)}
        except BaseException:
            out = {'err': traceback.format_exc()}
            status = 1
        try:
            with os.fdopen(wfd, 'w') as w:
                json.dump(out, w)
            sys.stdout.flush()
            sys.stderr.flush()
        finally:
            os._exit(status)
    os.close(wfd)
    with os.fdopen(rfd) as r:
        data = r.read()
    _, status = os.waitpid(pid, 0)
    try:
        out = json.loads(data)
    except ValueError:
        raise RuntimeError("benchmark process died (wait status %d)" % status)
    if 'err' in out:
        raise _ChildFailure(out['err'])
    return tuple(out['ok'])


class _ChildFailure(Exception):
    pass


def main(argv=None):
    ap = argparse.ArgumentParser(
        prog='py.bench',
        description="benchmark Python code, printing Go's benchmark format")
    ap.add_argument('paths', nargs='*', metavar='PATH',
                    help='files, or directories to search (default: .)')
    ap.add_argument('--count', type=int, default=1, metavar='N',
                    help='run each benchmark N times (default 1)')
    ap.add_argument('--benchtime', type=_benchtime, default=('s', 1.),
                    metavar='T',
                    help='time per benchmark: 1s (default), 500ms, or Nx '
                         'for exactly N iterations')
    ap.add_argument('-k', dest='expr', metavar='EXPR',
                    help='only benchmarks whose names match EXPR '
                         '(pytest -k)')
    ap.add_argument('--forked', action='store_true',
                    help='run each benchmark in a child process')
    o = ap.parse_args(argv)
    if o.count < 1:
        ap.error("--count must be at least 1")
    match = _matcher(o.expr)

    failed = nfound = 0
    first = True
    for path in _files(o.paths or ['.']):
        try:
            mod = _import(path)
        except BaseException as e:
            if isinstance(e, KeyboardInterrupt):
                raise
            print("%s: cannot import:" % path, file=sys.stderr)
            traceback.print_exc()
            failed += 1
            continue
        benches = [(n, f) for n, f in _benchmarks(mod) if match(n)]
        if not benches:
            continue
        width = max(len('Benchmark' + _strip(n)) for n, _ in benches)
        if not first:
            print()
        first = False
        print("pymod: %s" % os.path.relpath(path))
        for name, f in benches:
            nfound += 1
            label = '%-*s\t' % (width, 'Benchmark' + _strip(name))
            for i in range(o.count):
                try:
                    if o.forked:
                        n, t = _run_forked(f, o.benchtime)
                    else:
                        n, t = _run1(f, o.benchtime)
                except KeyboardInterrupt:
                    raise
                except BaseException as e:
                    failed += 1
                    print(label + '[FAILED]', flush=True)
                    if isinstance(e, _ChildFailure):
                        sys.stderr.write(e.args[0])
                    else:
                        traceback.print_exc()
                    break
                print(label + '%d\t%.3f µs/op' % (n, t * 1e6 / n),
                      flush=True)
    if nfound == 0 and not failed:
        print("py.bench: no benchmarks found", file=sys.stderr)
        return 5
    return 1 if failed else 0


def _strip(name):
    return name[len('bench_'):] if name.startswith('bench_') else name


if __name__ == '__main__':
    sys.exit(main())

"""benchlib loads and summarises data in Go's benchmark format (pygolang's
golang.x.perf.benchlib):

    BenchmarkName   N   <value> <unit>   [<value> <unit> ...]

with "key: value" lines as labels for the benchmark lines that follow
(https://go.googlesource.com/proposal/+/master/design/14313-benchmark-format.md).

- `load(r)` / `load_file(path)` -> (Benchmark, labels at the end);
  `xload` / `xload_file` also split off neotest's "*** neotest:" blocks.
- A Benchmark (a list of BenchLine) splits with .byname(), .byunit(),
  .bylabel(keys), converts with .convert_unit(unit) and summarises with
  .stats() (mean, min, max, deviation; outliers rejected as Go's
  benchstat does).
- `benchstat(w, B, split=[])` prints benchstat's table; running the module
  does that for a file.
"""

import io
import math
import re
from collections import OrderedDict

__all__ = ['Benchmark', 'BenchLine', 'Measure', 'Unit', 'Stats',
           'parse_label', 'parse_benchline', 'load', 'load_file', 'xload',
           'xload_file', 'benchstat']


class Unit(object):
    """Unit is a measurement's unit, e.g. "ns/op" or "L1-miss-ns/op"."""

    def __init__(self, unit):
        self.unit = unit

    def __eq__(self, other):
        return isinstance(other, Unit) and self.unit == other.unit

    def __ne__(self, other):
        return not (self == other)

    def __hash__(self):
        return hash(self.unit)

    def __str__(self):
        return self.unit

    def __repr__(self):
        return 'Unit(%r)' % (self.unit,)

    def normalize(self):
        """normalize returns (base Unit, scale): "µs/op" -> ("s/op", 1e-6);
        a prefix before the last '-' is kept ("user-ms/op")."""
        parts = self.unit.rsplit('-', 1)
        frac = parts[-1].split('/', 1)
        scale = 1
        base = _SCALES.get(frac[0])
        if base is not None:
            frac[0], scale = base
        parts[-1] = '/'.join(frac)
        return Unit('-'.join(parts)), scale


_SCALES = {
    "ns": ("s", 1e-9),
    "\u00b5s": ("s", 1e-6),     # µ (micro sign)
    "\u03bcs": ("s", 1e-6),     # μ (Greek mu)
    "us": ("s", 1e-6),
    "ms": ("s", 1e-3),
}


class Measure(object):
    """Measure is a value in a Unit."""

    def __init__(self, value, unit):
        self.value, self.unit = value, unit

    def __repr__(self):
        return 'Measure(%r, %r)' % (self.value, self.unit)


class BenchLine(object):
    """BenchLine is one benchmark line: name, iterations, measurements
    (at least one) and the labels in force where it was read."""

    def __init__(self, name, niter, measurev, labels=None):
        self.name, self.niter, self.measurev = name, niter, measurev
        self.labels = OrderedDict() if labels is None else labels

    def set_labels(self, labels):
        self.labels = labels

    def __repr__(self):
        return 'BenchLine(%r, %d, %r)' % (self.name, self.niter,
                                          self.measurev)


class Stats(object):
    """Stats summarises the values of one unit."""

    def __init__(self, unit, avg, min, max, std, ninliers, noutliers):
        self.unit, self.avg, self.min, self.max, self.std = \
            unit, avg, min, max, std
        self.ninliers, self.noutliers = ninliers, noutliers

    @property
    def nsamples(self):
        return self.ninliers + self.noutliers

    def __str__(self):
        delta = max(self.max - self.avg, self.avg - self.min)
        pct = 100. * delta / self.avg if self.avg else 0.
        u = str(self.unit)
        if u == 's' or u.startswith('s/') or '-s/' in u or u.endswith('-s'):
            # seconds read as benchstat prints them: 20.5µs
            for prefix, scale in (('', 1), ('m', 1e-3), ('\u00b5', 1e-6),
                                  ('n', 1e-9)):
                if abs(self.avg) >= scale or prefix == 'n':
                    return '%.2f%ss \u00b1%2.0f%%' % (self.avg / scale,
                                                       prefix, pct)
        return '%.2f \u00b1%2.0f%%' % (self.avg, pct)

    def __repr__(self):
        return ('Stats(%r, avg=%r, min=%r, max=%r, std=%r, ninliers=%d, '
                'noutliers=%d)' % (self.unit, self.avg, self.min, self.max,
                                   self.std, self.ninliers, self.noutliers))


class Benchmark(list):
    """Benchmark is a list of BenchLine."""

    def byname(self):
        """-> OrderedDict name -> Benchmark of the lines of that name."""
        out = OrderedDict()
        for bl in self:
            out.setdefault(bl.name, Benchmark()).append(bl)
        return out

    def bylabel(self, label_list):
        """-> OrderedDict labelkey -> Benchmark, where labelkey is the tuple
        of (key, value) for the keys of label_list a line has."""
        out = OrderedDict()
        for bl in self:
            key = tuple((k, bl.labels[k]) for k in label_list
                        if bl.labels.get(k) is not None)
            out.setdefault(key, Benchmark()).append(bl)
        return out

    def byunit(self):
        """-> OrderedDict Unit -> Benchmark of lines holding only that
        unit's measurements."""
        out = OrderedDict()
        for bl in self:
            units = OrderedDict((m.unit, None) for m in bl.measurev)
            for u in units:
                mv = [m for m in bl.measurev if m.unit == u]
                out.setdefault(u, Benchmark()).append(
                    BenchLine(bl.name, bl.niter, mv, bl.labels))
        return out

    def convert_unit(self, unit):
        """-> a Benchmark with every value in unit (ValueError if some
        value's unit does not convert)."""
        U = Unit(unit)
        base, scale = U.normalize()
        out = Benchmark()
        for bl in self:
            mv = []
            for m in bl.measurev:
                mbase, mscale = m.unit.normalize()
                if mbase != base:
                    raise ValueError('convert unit: units are not '
                                     'convertible: (%s, %s)' % (unit, m.unit))
                mv.append(Measure(m.value * mscale / scale, U))
            out.append(BenchLine(bl.name, bl.niter, mv, bl.labels))
        return out

    def stats(self):
        """-> Stats of all values (they must share one unit; see byunit)."""
        unit, vv = None, []
        for bl in self:
            for m in bl.measurev:
                if unit is None:
                    unit = m.unit
                elif m.unit != unit:
                    raise ValueError('stats: different units: (%s, %s)'
                                     % (unit, m.unit))
                vv.append(m.value)
        if not vv:
            raise ValueError('stats: no values')
        inl, nout = _reject_outliers(vv)
        avg = sum(inl) / len(inl)
        std = math.sqrt(sum((v - avg) ** 2 for v in inl) / len(inl))
        return Stats(unit, avg=avg, min=min(inl), max=max(inl), std=std,
                     ninliers=len(inl), noutliers=nout)


_space = re.compile(r'\s')


def parse_label(line):
    """parse_label returns (key, value) of a "key: value" line, or
    (None, None)."""
    colon = line.find(':')
    if colon == -1:
        return None, None
    key, value = line[:colon], line[colon + 1:]
    # the format's rule: a key starts with a lower-case letter and holds
    # no space and no upper-case letter (WARNING is neotest's)
    if key != 'WARNING' and (not key or not key[0].islower() or
                             _space.search(key) or key.lower() != key):
        return None, None
    return key, value.strip()


def parse_benchline(line):
    """parse_benchline returns the BenchLine of a benchmark line, or
    None."""
    if not line.startswith('Benchmark'):
        return None
    v = line[len('Benchmark'):].split()
    if len(v) < 4:
        return None
    name = v[0]
    try:
        niter = int(v[1])
    except ValueError:
        return None
    measurev = []
    tail = v[2:]
    while tail:
        if tail[0].startswith('#'):     # a trailing comment
            break
        if len(tail) < 2:
            return None
        try:
            value = float(tail[0])
        except ValueError:
            return None
        unit, scale = Unit(tail[1]).normalize()
        measurev.append(Measure(value * scale, unit))
        tail = tail[2:]
    if not measurev:
        return None
    return BenchLine(name, niter, measurev)


def load(r):
    """load reads benchmark data from r (anything with readlines());
    returns (Benchmark, the labels in force at the end)."""
    labels = OrderedDict()
    B = Benchmark()
    for line in r.readlines():
        key, value = parse_label(line)
        if key is not None:
            labels = labels.copy()
            if not value:
                labels.pop(key, None)
            elif key == 'WARNING':      # warnings add up
                labels[key] = labels.get(key, ()) + (value,)
            else:
                labels[key] = value
            continue
        bl = parse_benchline(line)
        if bl is not None:
            bl.set_labels(labels)
            B.append(bl)
    return B, labels


def load_file(path):
    """load_file is load of the file at path (UTF-8)."""
    with io.open(path, 'r', encoding='utf-8') as f:
        return load(f)


class _NeotestSplitter(object):
    # reads r with neotest's extension blocks ("*** neotest:" up to a blank
    # line) taken out into .blocks, as (lineno, text)
    def __init__(self, r):
        self.r, self.blocks, self.lineno = r, [], 0

    def _line(self):
        line = self.r.readline()
        if line:
            self.lineno += 1
        return line

    def readline(self):
        line = self._line()
        if not line.startswith('*** neotest:'):
            return line
        start, text = self.lineno, [line]
        while True:
            line = self._line()
            if line.strip() == '':
                break
            text.append(line)
        self.blocks.append((start, ''.join(text)))
        return line

    def readlines(self):
        while True:
            line = self.readline()
            if not line:
                return
            yield line


def xload(r):
    """xload is load with neotest's extension blocks: returns (Benchmark,
    labels at the end, [labels of each extension block])."""
    s = _NeotestSplitter(r)
    B, labels = load(s)
    extv = []
    for lineno, text in s.blocks:
        bext, lext = load(io.StringIO(text))
        if bext:
            raise RuntimeError("%s:%d: neotest extension block contains "
                               "benchmark line"
                               % (getattr(r, 'name', '?'), lineno))
        extv.append(lext)
    return B, labels, extv


def xload_file(path):
    """xload_file is xload of the file at path (UTF-8)."""
    with io.open(path, 'r', encoding='utf-8') as f:
        return xload(f)


def _percentile(sorted_v, q):
    # numpy's default (linear interpolation between closest ranks)
    pos = (len(sorted_v) - 1) * q
    lo = int(math.floor(pos))
    hi = min(lo + 1, len(sorted_v) - 1)
    return sorted_v[lo] + (sorted_v[hi] - sorted_v[lo]) * (pos - lo)


def _reject_outliers(data):
    # Go's benchstat: keep values within 1.5 interquartile ranges of the
    # quartiles; returns (inliers, how many were rejected)
    s = sorted(data)
    q1, q3 = _percentile(s, .25), _percentile(s, .75)
    lo, hi = q1 - 1.5 * (q3 - q1), q3 + 1.5 * (q3 - q1)
    inl = [v for v in data if lo <= v <= hi]
    return inl, len(data) - len(inl)


def benchstat(w, B, split=[]):
    """benchstat prints to w the summary Go's benchstat prints for one
    set of results, a table per unit, split by the labels in split."""
    def emit(text):
        print(text, file=w)

    for i, (unit, Bu) in enumerate(B.byunit().items()):
        if i:
            emit('')
        emit("name\t\t\t\t%s" % unit)
        for labkey, Bl in Bu.bylabel(split).items():
            emit(' '.join('%s:%s' % kv for kv in labkey))
            for name, Bn in Bl.byname().items():
                s = Bn.stats()
                text = '%-30s\t%20s' % (name, s)
                if s.noutliers:
                    text += '\t(%d/%d)' % (s.ninliers, s.nsamples)
                emit(text)


def main(argv=None):
    import argparse
    import sys
    p = argparse.ArgumentParser(prog="benchlib",
                                description="Print benchmark statistics.")
    p.add_argument("file", help="input file with benchmark data")
    p.add_argument("--split", default="",
                   help="split benchmarks by labels (comma-separated)")
    args = p.parse_args(argv)
    B, _ = load_file(args.file)
    benchstat(sys.stdout, B, split=[s for s in args.split.split(",") if s])


if __name__ == '__main__':
    main()

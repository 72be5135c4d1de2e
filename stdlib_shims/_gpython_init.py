"""_gpython_init: run by the gpython launcher at startup, before the program.
It reads the -X gpython.* options, makes threads goroutines (unless
-X gpython.runtime=threads), re-arms the scheduler in forked children and
puts pygolang's builtins in place (loaded on first use).

-X gpython.runtime=goroutines (default): threading.Thread, _thread and
    everything built on them (queue, concurrent.futures, ...) run goroutines.
-X gpython.runtime=threads: threading.Thread is a real OS thread, as in
    python3; go() still starts goroutines. The GPYTHON_RUNTIME environment
    variable sets the default (-X wins). An -X choice is exported to
    GPYTHON_RUNTIME, so that gpython child processes (multiprocessing's
    spawn and forkserver workers) run the same runtime.
"""

import os
import sys
import _gpython

RUNTIMES = ("goroutines", "threads")
# What pygolang's gpython users pass: its gevent runtime is what our
# goroutines are (cooperative, one OS thread, blocking calls park).
ALIASES = {"gevent": "goroutines"}


def _runtime():
    rt = sys._xoptions.get("gpython.runtime")
    rt = ALIASES.get(rt, rt)
    if rt is None or rt is True:
        rt = os.environ.get("GPYTHON_RUNTIME") or "goroutines"
        rt = ALIASES.get(rt, rt)
        if sys.flags.ignore_environment:
            rt = "goroutines"
    elif rt in RUNTIMES:
        # multiprocessing passes only CPython's own -X options on.
        os.environ["GPYTHON_RUNTIME"] = rt
    if rt not in RUNTIMES:
        raise SystemExit("gpython: -X gpython.runtime=%s: expected one of %s"
                         % (rt, ", ".join(RUNTIMES)))
    return rt


runtime = _runtime()

# As pygolang's gpython, sys.version says what runs (`'GPython' in
# sys.version` is how pygolang programs tell): " [GPython 0.1.0]
# [goroutines]" (or [threads]). platform's parsing ignores the addition.
sys.version += " [GPython %s] [%s]" % (_gpython.__version__, runtime)


# pygolang's sys._gpy_underlying_executable: the plain python3 that runs
# the same libpython (Debian's /usr/bin/python3.11)
sys._gpy_underlying_executable = "%s/bin/python%d.%d" % (
    sys.base_prefix, sys.version_info[0], sys.version_info[1])


def _after_fork_child():
    # A child forked by a goroutine other than main ends when that
    # goroutine returns (binding/goroutine.c), as python3's child ends with
    # its only thread.
    _gpython._after_fork()


def _any_goroutine(f):
    # CPython lets only the main thread set signal handlers and the wakeup
    # fd; Go lets any goroutine (signal.Notify), and so do we. Handlers
    # still run in the main goroutine.
    as_main = _gpython.as_main

    def call(*args, **kwargs):
        return as_main(f, *args, **kwargs)
    for attr in ("__name__", "__qualname__", "__doc__"):
        setattr(call, attr, getattr(f, attr))
    call.__module__ = "signal"      # where pydoc and inspect look for it
    call.__wrapped__ = f
    return call


def _patch_signal():
    import _signal
    for name in ("signal", "set_wakeup_fd"):
        setattr(_signal, name, _any_goroutine(getattr(_signal, name)))
    signal = sys.modules.get("signal")
    if signal is not None:
        signal.set_wakeup_fd = _signal.set_wakeup_fd


_patch_signal()

# First of the after-fork handlers, so that the others (threading's, the
# program's) already find a working scheduler in the child.
os.register_at_fork(after_in_child=_after_fork_child)

if runtime == "goroutines":
    import _gpython_thread
    _gpython_thread.install()


def _leakreport():
    # -X gpython.leakreport / GPYTHON_LEAKREPORT=1: leaked goroutines at
    # exit (atexit runs while the goroutines still exist).
    on = sys._xoptions.get("gpython.leakreport")
    if on is None and not sys.flags.ignore_environment:
        on = os.environ.get("GPYTHON_LEAKREPORT") not in (None, "", "0")
    if on:
        import atexit

        def report():
            import _gpython_leaks
            _gpython_leaks.report()
        atexit.register(report)


_leakreport()


class _DirFinder(object):
    """Finds top-level modules in one directory as if it were the last
    sys.path entry, without being one: gpython's modules (golang, gpython,
    goless, ...) import while sys.path stays python3's. As for a path
    entry, a regular module of the same name on sys.path wins (unless
    first), and a namespace package does not."""

    def __init__(self, d, first=False):
        self.dir, self.first = d, first
        self.names = None   # what the directory holds, listed on first use

    def _names(self):
        names = set()
        try:
            for entry in os.listdir(self.dir):
                names.add(entry.partition('.')[0])
        except OSError:
            pass
        self.names = names
        return names

    def find_spec(self, name, path=None, target=None):
        if path is not None:
            return None     # submodules: their package's __path__
        # most imports are not ours: a set lookup, not a path search
        if name not in (self.names or self._names()):
            return None
        from _frozen_importlib_external import PathFinder
        spec = PathFinder.find_spec(name, [self.dir], target)
        if spec is None or spec.loader is None or self.first:
            return spec
        other = PathFinder.find_spec(name, None, target)
        if other is not None and other.loader is not None:
            return None     # sys.path has it: it comes first
        return spec

    def invalidate_caches(self):
        self.names = None
        f = sys.path_importer_cache.get(self.dir)
        if f is not None:
            f.invalidate_caches()

    def __repr__(self):
        return "<gpython module finder for %s>" % self.dir


def _module_finders():
    # The launcher put stdlib_shims/ last on sys.path to find us: finders
    # take its place. goless's API on our goroutines (_gpython_goless/)
    # comes after site-packages too, so an installed goless is what
    # `import goless` gets, unless -X gpython.goless / GPYTHON_GOLESS=1 asks
    # for ours.
    here = os.path.dirname(__file__)
    while here in sys.path:
        sys.path.remove(here)
    ours = sys._xoptions.get("gpython.goless")
    if ours is None and not sys.flags.ignore_environment:
        ours = os.environ.get("GPYTHON_GOLESS") not in (None, "", "0")
    # before PathFinder, so that a namespace package does not shadow us
    at = next((i for i, f in enumerate(sys.meta_path)
               if getattr(f, '__name__', '') == 'PathFinder'),
              len(sys.meta_path))
    sys.meta_path[at:at] = [
        _DirFinder(os.path.join(here, "_gpython_goless"), first=bool(ours)),
        _DirFinder(here)]


_module_finders()


# ---- pygolang's builtins ----
# As pygolang's gpython: all of golang.__all__ is builtin. go, chan, select,
# default and nilchan come from _gpython (binding/module.c); the rest live
# in golang, which costs an import: they are stubs that load golang the
# first time one is used and then give way to the real objects. error is a
# class here (`except error` needs a real one).

class error(Exception):
    """error is the base class for Go-style errors (golang.error).

    error("text") (also what errors.New returns) is an error with that text.
    Subclasses define Error() (and Unwrap() when they wrap another error);
    they compare equal when they are of the same type with the same args.
    """

    __module__ = "golang"

    def __init__(self, *argv):
        Exception.__init__(self, *argv)
        if type(self) is error:
            if len(argv) != 1:
                raise ValueError("error: expected 1 argument (text), got %d" % len(argv))
            from golang import u
            self._text = u(argv[0])
            self._w = None

    def Error(self):
        """Error returns the string that represents the error."""
        if type(self) is error:
            return self._text
        return repr(self)   # subclasses should override Error

    def Unwrap(self):
        """Unwrap returns the wrapped error, or None."""
        if type(self) is error:
            return self._w
        return None

    def __str__(self):
        return self.Error()

    def __repr__(self):
        typ = type(self)
        if typ is error:
            from golang.gcompat import qq
            return "<golang.error error=%s>" % qq(self.Error())
        return "%s.%s%r" % (typ.__module__, typ.__qualname__, self.args)

    def __eq__(a, b):
        if type(a) is not type(b):
            return False
        if type(a) is error:
            return (a._text, a._w) == (b._text, b._w)
        return a.args == b.args

    def __ne__(a, b):
        return not (a == b)

    def __hash__(self):
        if type(self) is error:
            return hash(error) ^ hash(self._text)
        return hash(type(self)) ^ hash(self.args)



_LAZY = ('func', 'defer', 'panic', 'recover', 'b', 'u', 'bstr', 'ustr',
         'biter', 'uiter', 'bbyte', 'uchr', 'gimport')


class _Lazy(object):
    """A builtin of golang's before golang is imported: calling it (or
    isinstance, subclassing, attribute access) imports golang and puts the
    real builtins in place."""

    __slots__ = ('_name',)

    def __init__(self, name):
        self._name = name

    def _real(self):
        import golang   # which puts the real builtins in place
        return getattr(golang, self._name)

    def __call__(self, *argv, **kw):
        return self._real()(*argv, **kw)

    def __instancecheck__(self, obj):
        return isinstance(obj, self._real())

    def __subclasscheck__(self, cls):
        return issubclass(cls, self._real())

    def __mro_entries__(self, bases):
        return (self._real(),)

    def __getattr__(self, name):
        return getattr(self._real(), name)

    def __repr__(self):
        return repr(self._real())

    def __reduce__(self):
        return (_golang_attr, (self._name,))

    # what introspection asks for (help(), inspect) is the real object's
    __doc__ = property(lambda self: self._real().__doc__)
    __signature__ = property(lambda self: _signature(self._real()))
    __wrapped__ = property(lambda self: self._real())


def _golang_attr(name):
    import golang
    return getattr(golang, name)


def _signature(f):
    import inspect
    return inspect.signature(f)


# golang's defer/recover/func(Class) look at their caller's frame: they
# skip this one (golang._caller).
_lazy_call_code = _Lazy.__call__.__code__


def _install_builtins():
    import builtins
    d = builtins.__dict__
    d.setdefault('error', error)
    for name in _LAZY:
        d.setdefault(name, _Lazy(name))


_install_builtins()

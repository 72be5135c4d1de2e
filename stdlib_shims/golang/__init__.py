# -*- coding: utf-8 -*-
"""Package golang provides Go-like features for Python (pygolang-compatible).

- `go` spawns a goroutine.
- `chan` and `select` provide channels with Go semantics.
- `func` allows to define methods separate from class.
- `defer` schedules a cleanup to run when the enclosing @func function returns.
- `panic` / `recover` provide Go-style error handling.
- `error` and package `errors` provide error chaining.
- `bstr`/`ustr` are Go-like strings (bytes and unicode that interoperate);
  `b` and `u` make sure an object is one of them.
- `gimport` imports python modules by full path in a Go workspace.

go, chan, select, default, nilchan and _PanicError come from gpython's
runtime (module _gpython); everything else here is pure Python.
"""

from _gpython import __version__   # gpython's (pygolang: golang's)

__all__ = ['go', 'chan', 'select', 'default', 'nilchan', 'defer', 'panic',
           'recover', 'func', 'error', 'b', 'u', 'bstr', 'ustr', 'biter',
           'uiter', 'bbyte', 'uchr', 'gimport']

import sys, functools

try:
    from _gpython import go, chan, select, default, nilchan, _PanicError
    from _gpython import _frame_unbind
except ImportError as e:
    raise ImportError("golang: this package needs the gpython runtime "
                      "(module _gpython); run the program with gpython") from e


# The builtins func, defer, recover... are stubs until first used
# (_gpython_init._Lazy): the first call comes through the stub's frame.
_lazy_call = getattr(sys.modules.get('_gpython_init'), '_lazy_call_code', None)


def _caller(depth):
    # the frame `depth` up from our caller's, not counting a lazy stub's
    f = sys._getframe(depth + 1)
    while f is not None and f.f_code is _lazy_call:
        f = f.f_back
    return f


def panic(arg):
    """panic stops normal execution of the current goroutine with arg."""
    raise _PanicError(arg)


# ---- func / defer / recover ----

def func(f):
    """func is the decorator required by defer.

        @func
        def f(...): ...

    It also defines methods separate from their class:

        @func(MyClass)
        def my_method(self, ...): ...

    which sets MyClass.my_method (staticmethod/classmethod work too) and
    leaves the caller's binding of the name as it was.
    """
    if isinstance(f, type):
        return _meth(f, _caller(1))
    return _func(f)


def _meth(cls, fcall):
    def deco(f):
        f = _func(f)
        inner = f
        if isinstance(f, property):
            # @func(Class) over @property (or @Class.prop.setter): named
            # after its getter.
            inner = f.fget
            if inner is None:
                raise ValueError("func(cls) used on property without getter")
        if isinstance(inner, (staticmethod, classmethod)):
            name = inner.__func__.__name__
        else:
            name = inner.__name__
        setattr(cls, name, f)

        # `@func(cls) def name` assigns to `name` in the caller's namespace;
        # hand back what was bound there so nothing gets shadowed.
        ns = fcall.f_locals
        missing = object()
        already = ns.get(name, missing)
        if already is not missing:
            return already
        # Nothing was: leave `name` unbound. Python stores what we return
        # over the _Unbind put in the namespace (a function's f_locals
        # snapshot is refreshed by its next locals()); freed, that takes
        # the name out again.
        ns[name] = _Unbind(fcall, name)
        return _UNBOUND
    return deco


_UNBOUND = object()


class _Unbind(object):
    __slots__ = ('frame', 'name')

    def __init__(self, frame, name):
        self.frame, self.name = frame, name

    def __del__(self):
        f, name = self.frame, self.name
        self.frame = None
        if f.f_code.co_flags & 0x1:         # CO_OPTIMIZED: a function body
            if _frame_unbind(f, name, _UNBOUND):
                f.f_locals.pop(name, None)  # the snapshot follows
        elif f.f_locals.get(name) is _UNBOUND:
            del f.f_locals[name]


def _func(f):
    if isinstance(f, property):
        return property(*(g if g is None else _func(g)
                          for g in (f.fget, f.fset, f.fdel)), f.__doc__)
    # staticmethod & friends: wrap the function inside, then repack.
    fclass = None
    if isinstance(f, (staticmethod, classmethod)):
        fclass = type(f)
        f = f.__func__
    if getattr(f, '__code__', None) is _wrapper_code:
        return f if fclass is None else fclass(f)     # func·func = func

    @functools.wraps(f)
    def _goframe(*argv, **kw):
        # defer() finds this frame as its caller's parent and registers the
        # deferred calls in __goframe__.
        __goframe__ = _GoFrame()
        with __goframe__:
            return f(*argv, **kw)

    if fclass is not None:
        return fclass(_goframe)
    return _goframe

_wrapper_code = None
_wrapper_code = _func(lambda: None).__code__


class _GoFrame(object):
    """_GoFrame is the __goframe__ that @func sets up: the list of deferred
    calls and whether the panic being raised was recovered."""

    __slots__ = ('deferv', 'recovered')

    def __init__(self):
        self.deferv = []
        self.recovered = False

    def __enter__(self):
        pass

    # __exit__ runs the deferred calls, last registered first. Each one runs
    # inside a nested `with` on the same frame so that the remaining ones
    # still run if it raises; an exception a deferred call raises while
    # another is propagating gets that one as __context__ (PEP 3134).
    def __exit__(__goframe__, exc_type, exc_val, exc_tb):
        if exc_val is not None:
            __goframe__.recovered = False

        if __goframe__.deferv:
            d = __goframe__.deferv.pop()
            with __goframe__:
                d()

        return __goframe__.recovered

_goframe_exit_code = _GoFrame.__exit__.__code__


def defer(f):
    """defer registers f to be called when the calling @func function
    returns, or raises. Deferred calls run in LIFO order."""
    fcall = _caller(1)
    fgo = fcall.f_back
    if fgo is None or fgo.f_code is not _wrapper_code:
        panic("function %s uses defer, but not @func" % fcall.f_code.co_name)
    fgo.f_locals['__goframe__'].deferv.append(f)


def recover():
    """recover stops the panic (or exception) being raised and returns its
    argument (the exception object itself for a non-panic exception).

    It returns None when nothing is being raised, or when not called
    directly by a deferred function."""
    fcall = _caller(1)
    fgo = fcall.f_back
    if fgo is None or fgo.f_code is not _goframe_exit_code:
        return None
    goframe = fgo.f_locals['__goframe__']

    exc = sys.exc_info()[1]
    if exc is not None:
        goframe.recovered = True
        # The exception is dealt with: exceptions raised later by other
        # deferred calls must not be chained to it.
        _sys_exc_clear()
    if type(exc) is _PanicError:
        exc = exc.args[0] if exc.args else None
    return exc


_PyErr_SetExcInfo = None

def _sys_exc_clear():
    # Python 3 has no sys.exc_clear(); PyErr_SetExcInfo(NULL, NULL, NULL)
    # clears the exception being handled in the current frame stack (the
    # handling frame restores its saved value when it leaves the handler).
    global _PyErr_SetExcInfo
    if _PyErr_SetExcInfo is None:
        try:
            import ctypes
            fn = ctypes.pythonapi.PyErr_SetExcInfo
            fn.argtypes = (ctypes.c_void_p,)*3
            fn.restype = None
            _PyErr_SetExcInfo = fn
        except Exception:
            _PyErr_SetExcInfo = False
    if _PyErr_SetExcInfo:
        _PyErr_SetExcInfo(None, None, None)


# ---- error ----

# error is a builtin of gpython's, defined at startup (so that `except
# error` works before golang is imported): _gpython_init.py.
from _gpython_init import error


def _newerror(text, w=None):
    # error with text wrapping w (an error) -- errors.New and fmt.Errorf.
    e = error(text)
    e._w = w
    return e


# ---- strings ----
# bstr/ustr, b/u, biter/uiter, bbyte/uchr: golang/_golang_str.py

from golang._golang_str import b, u, bstr, ustr, biter, uiter, bbyte, uchr
from golang._golang_str import _butf8b    # pickles of bstr (protocols 0-2)


from golang._gopath import gimport


def _builtins_in_place():
    # gpython made these builtins stubs that load golang on first use
    # (_gpython_init._Lazy): now it is loaded, put the real ones there.
    import builtins
    d = builtins.__dict__
    for name in __all__:
        if type(d.get(name)).__name__ == '_Lazy':
            d[name] = globals()[name]


_builtins_in_place()

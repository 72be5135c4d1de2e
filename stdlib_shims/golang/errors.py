# -*- coding: utf-8 -*-
"""Package errors mirrors Go package errors.

- New creates an error with the given text.
- Unwrap returns the next error in an error's chain.
- Is tells whether an error's chain has an error equal to target.
- As finds the first error in a chain that is an instance of a class.
- Join makes an error wrapping several errors.

In Python errors link to each other both by .Unwrap() (Go-style wrapping)
and by .__cause__ (`raise X from Y`). The chain of e is

    U(None) = []
    U(e)    = [e] + U(e.Unwrap()) + U(e.__cause__)

i.e. an explicit cause comes after everything e wraps, as in pygolang.
"""

from golang import error, _newerror

__all__ = ['New', 'Unwrap', 'Is', 'As', 'Join']


def New(text):
    """New creates a new error with the given text (str or bytes)."""
    if not isinstance(text, (str, bytes, bytearray)):
        raise TypeError("errors.New: text must be str or bytes, not %s" % type(text).__name__)
    return _newerror(text)


def _UnwrapIter(err):
    """_UnwrapIter iterates over err's error chain, err itself excluded."""
    if err is None:
        return
    if not isinstance(err, BaseException):
        raise TypeError("errors: err is not exception: type(err)=%r" % type(err))

    # + U(e.Unwrap())
    eunwrap = getattr(err, 'Unwrap', None)
    if eunwrap is not None:
        w = eunwrap()
        if isinstance(w, (list, tuple)):    # multi-error (Join)
            for w1 in w:
                if w1 is not None:
                    yield w1
                    yield from _UnwrapIter(w1)
        elif w is not None:
            yield w
            yield from _UnwrapIter(w)

    # + U(e.__cause__)
    cause = getattr(err, '__cause__', None)
    if cause is not None:
        yield cause
        yield from _UnwrapIter(cause)


def Unwrap(err):
    """Unwrap returns the error err wraps (by .Unwrap() or else by
    .__cause__), or None. As in Go, it does not unwrap a Join."""
    if err is None:
        return None
    if not isinstance(err, BaseException):
        raise TypeError("errors: err is not exception: type(err)=%r" % type(err))
    eunwrap = getattr(err, 'Unwrap', None)
    w = eunwrap() if eunwrap is not None else None
    if isinstance(w, (list, tuple)):
        return None
    if w is None:
        w = getattr(err, '__cause__', None)
    return w


def _check(what, x):
    if not (x is None or isinstance(x, BaseException)):
        raise TypeError("errors.%s: not exception or None: type=%r" % (what, type(x)))


def Is(err, target):
    """Is returns whether any error in err's chain equals target.

    An error matches if it is of the same type as target and ==, or if it
    has an .Is(target) method returning True."""
    _check('Is: err', err)
    _check('Is: target', target)
    if target is None:
        return err is None
    if err is None:
        return False
    for e in _chain(err):
        if type(e) is type(target) and (e is target or e == target):
            return True
        eis = getattr(e, 'Is', None)
        if eis is not None and callable(eis) and eis(target):
            return True
    return False


def As(err, cls):
    """As returns the first error in err's chain that is an instance of
    cls, or None. (Python has no out-parameters: the match is returned.)"""
    _check('As: err', err)
    if not (isinstance(cls, type) or
            (isinstance(cls, tuple) and all(isinstance(c, type) for c in cls))):
        raise TypeError("errors.As: cls must be a class")
    if err is None:
        return None
    for e in _chain(err):
        if isinstance(e, cls):
            return e
        eas = getattr(e, 'As', None)
        if eas is not None and callable(eas):
            r = eas(cls)
            if r is not None:
                return r
    return None


def _chain(err):
    yield err
    yield from _UnwrapIter(err)


class _JoinError(error):
    def __init__(self, errs):
        error.__init__(self, tuple(errs))
        self._errs = list(errs)

    def Error(self):
        return "\n".join(str(e) if not hasattr(e, 'Error') else e.Error()
                         for e in self._errs)

    def Unwrap(self):
        return list(self._errs)


def Join(*errs):
    """Join returns an error that wraps the given errors (None ones are
    dropped), or None if there are none. Its text is the texts of the
    errors, one per line."""
    for e in errs:
        _check('Join', e)
    errs = [e for e in errs if e is not None]
    if not errs:
        return None
    return _JoinError(errs)

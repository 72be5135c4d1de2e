# -*- coding: utf-8 -*-
"""Package fmt mirrors Go package fmt: Errorf (formatting itself is Python's %)."""

from golang import error, _newerror

__all__ = ['Errorf']


class _PyWrapError(error):
    """_PyWrapError is what Errorf("...: %w", exc) returns when exc is not a
    golang error: it wraps an arbitrary exception (or None)."""

    def __init__(self, prefix, errSuffix):
        error.__init__(self, prefix, errSuffix)
        self._prefix = prefix
        self._errSuffix = errSuffix

    def Unwrap(self):
        return self._errSuffix

    def Error(self):
        esuff = self._errSuffix
        if esuff is None:
            esuff = "%!w(<None>)"   # as Go prints it
        elif isinstance(esuff, error):
            esuff = esuff.Error()
        return "%s: %s" % (self._prefix, esuff)


def Errorf(format, *argv):
    """Errorf formats an error with Python's % operator.

    A format ending with ": %w" wraps its last argument (an exception or
    None) as in Go: errors.Unwrap gives it back and errors.Is sees it.
    %w anywhere else is a ValueError."""
    w = None
    withW = False
    if format.endswith(": %w"):
        withW = True
        format = format[:-4]
        if not argv:
            raise TypeError("fmt.Errorf: not enough arguments for %w")
        w = argv[-1]
        argv = argv[:-1]

    # A misplaced %w makes this raise ValueError ("unsupported format
    # character 'w'"), a format/args mismatch TypeError.
    prefix = format % argv

    if not withW:
        return _newerror(prefix)
    if not (w is None or isinstance(w, BaseException)):
        raise TypeError("fmt.Errorf: lastarg to wrap is not error: type(argv[-1])=%r" % type(w))
    if type(w) is error:
        return _newerror("%s: %s" % (prefix, w.Error()), w)
    return _PyWrapError(prefix, w)


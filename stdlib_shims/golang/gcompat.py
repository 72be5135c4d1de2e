# -*- coding: utf-8 -*-
"""Package gcompat provides Go-compatibility helpers: qq is %q."""

from golang import strconv, b

__all__ = ['qq']


class _qstr(str):
    """_qstr is the str qq returns: it also converts to bytes (UTF-8), so
    both '%s' % qq(x) and b'%s' % bytes(qq(x)) work."""
    __slots__ = ()

    def __bytes__(self):
        return b(str(self))


def qq(obj):
    """qq quotes obj as Go's %q: always with ", printable UTF-8 kept as is.

    obj may be str, bytes or anything str() accepts. The result is a str."""
    if not isinstance(obj, (str, bytes, bytearray)):
        obj = str(obj)
    q = strconv.quote(obj)
    if isinstance(q, bytes):
        q = q.decode('utf-8')   # quote's output of bytes is valid UTF-8
    return _qstr(q)

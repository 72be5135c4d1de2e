# -*- coding: utf-8 -*-
"""Package gcompat provides Go-compatibility helpers: qq is %q."""

from golang import strconv, bstr

__all__ = ['qq']


def qq(obj):
    """qq quotes obj as Go's %q: always with ", printable UTF-8 kept as is.

    obj may be any string or anything str() accepts (strings inside
    containers show as text). The result is a bstr, which works with both
    '%s' and b'%s'."""
    if not isinstance(obj, (str, bytes, bytearray)):
        obj = bstr(obj)
    return strconv.quote(obj)

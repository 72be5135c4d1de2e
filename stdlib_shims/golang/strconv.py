# -*- coding: utf-8 -*-
"""Package strconv provides Go-compatible string conversions.

- quote quotes a string into "..." as Go's %q would.
- unquote / unquote_next decode what quote produced.

As in pygolang, they take any string (str, bytes, bytearray, bstr, ustr)
and return bstr.
"""

import unicodedata

__all__ = ['quote', 'unquote', 'unquote_next']


def _bstr(s):   # -> (bytes, wasunicode)
    from golang import b
    from golang._golang_str import _bdata
    if isinstance(s, str):
        return _bdata(b(s)), True
    if isinstance(s, (bytes, bytearray)):
        return _bdata(s) if isinstance(s, bytes) else bytes(s), False
    raise TypeError("strconv: invalid type %s" % type(s))


def _ustr(s):   # -> (unicode, wasbytes)
    from golang import u
    if isinstance(s, str):
        return s, False
    if isinstance(s, (bytes, bytearray)):
        return u(s), True
    raise TypeError("strconv: invalid type %s" % type(s))


# Go's unicode.IsPrint: letters, marks, numbers, punctuation and symbols
# print as they are (of the spaces only U+0020, handled with ASCII).
_printable_cat0 = frozenset('LMNPS')

_ascii_esc = {}
for _c in range(0x80):
    if _c in b'\\"':
        _ascii_esc[_c] = b'\\' + bytes([_c])
    elif 0x20 <= _c <= 0x7e:
        _ascii_esc[_c] = bytes([_c])
    elif _c == 0x09:
        _ascii_esc[_c] = br'\t'
    elif _c == 0x0a:
        _ascii_esc[_c] = br'\n'
    elif _c == 0x0d:
        _ascii_esc[_c] = br'\r'
    else:
        _ascii_esc[_c] = b'\\x%02x' % _c
del _c


def _utf8_rune(s, i):   # -> (rune | None, size)
    """decodes the UTF-8 character at s[i]; None, 1 if it is invalid."""
    c = s[i]
    if c < 0xc0:
        return None, 1
    elif c < 0xe0:
        n = 2
    elif c < 0xf0:
        n = 3
    elif c < 0xf8:
        n = 4
    else:
        return None, 1
    try:
        r = s[i:i+n].decode('utf-8')
    except UnicodeDecodeError:
        return None, 1
    if len(r) != 1:
        return None, 1
    return r, n


def quote(s):
    """quote returns string s quoted in "..." the way Go's %q does (a
    bstr). Printable UTF-8 stays as is."""
    from golang import b
    bs, _ = _bstr(s)
    return b(_quote(bs))


def _quote(s):
    outv = []
    emit = outv.append
    esc = _ascii_esc
    i, n = 0, len(s)
    while i < n:
        c = s[i]
        if c < 0x80:
            emit(esc[c])
            i += 1
            continue
        r, size = _utf8_rune(s, i)
        if r is None:
            emit(b'\\x%02x' % c)
        elif unicodedata.category(r)[0] in _printable_cat0:
            emit(s[i:i+size])
        else:
            for j in range(i, i+size):
                emit(b'\\x%02x' % s[j])
        i += size
    return b'"' + b''.join(outv) + b'"'


def unquote(s):
    """unquote decodes a string produced by quote (a bstr).

    ValueError is raised on syntax errors, or if anything follows the
    closing quote."""
    us, tail = unquote_next(s)
    if len(tail) != 0:
        raise ValueError('non-empty tail after closing "')
    return us


def unquote_next(s):
    """unquote_next decodes the quoted string s starts with.

    It returns (unquoted, tail after the closing "), as bstr.
    ValueError is raised on syntax errors."""
    from golang import b
    bs, _ = _bstr(s)
    us, tail = _unquote_next(bs)
    return b(us), b(tail)


_simple_unesc = {
    ord('\\'): b'\\', ord('"'): b'"', ord("'"): b"'",
    ord('a'): b'\a', ord('b'): b'\b', ord('f'): b'\f', ord('n'): b'\n',
    ord('r'): b'\r', ord('t'): b'\t', ord('v'): b'\v',
}


def _unquote_next(s):
    if len(s) == 0 or s[0] != ord('"'):
        raise ValueError('no starting "')

    outv = []
    emit = outv.append
    i, n = 1, len(s)
    while 1:
        # copy the run of plain characters at once
        j = i
        while j < n and s[j] != 0x22 and s[j] != 0x5c:     # " \
            j += 1
        if j > i:
            emit(s[i:j])
            i = j
        if i >= n:
            raise ValueError('no closing "')
        if s[i] == 0x22:
            i += 1
            break

        # backslash escape
        if i + 1 >= n:
            raise ValueError('unexpected EOL after \\')
        c = s[i+1]
        e = _simple_unesc.get(c)
        if e is not None:
            emit(e)
            i += 2
            continue

        if c in b'xuU':
            ndig = {ord('x'): 2, ord('u'): 4, ord('U'): 8}[c]
            digits = s[i+2:i+2+ndig]
            if len(digits) < ndig:
                raise ValueError('unexpected EOL after \\%s' % chr(c))
            try:
                v = int(digits, 16)
            except ValueError:
                raise ValueError('invalid \\%s escape' % chr(c)) from None
            if c == ord('x'):
                emit(bytes([v]))
            else:
                try:
                    emit(chr(v).encode('utf-8'))
                except (ValueError, UnicodeEncodeError):
                    raise ValueError('invalid \\%s escape' % chr(c)) from None
            i += 2 + ndig
            continue

        if ord('0') <= c <= ord('7'):
            digits = s[i+1:i+4]
            if len(digits) < 3:
                raise ValueError('unexpected EOL after \\')
            try:
                v = int(digits, 8)
            except ValueError:
                raise ValueError('invalid octal escape') from None
            if v > 0xff:
                raise ValueError('invalid octal escape')
            emit(bytes([v]))
            i += 4
            continue

        raise ValueError('invalid escape \\%s' % chr(c))

    return b''.join(outv), s[i:]

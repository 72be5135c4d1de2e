# -*- coding: utf-8 -*-
"""golang strings (pygolang's bstr/ustr): one string, two representations.

- bstr is a bytes subclass: a string as UTF-8 bytes. Indexing, slicing,
  len, find/index/count/startswith/endswith and iteration work on bytes
  (an element is a 1-byte bstr); every other str method works on the text
  and returns bstr.
- ustr is a str subclass: the same string as unicode characters.
- The two convert into each other without loss, whatever the bytes:
  invalid UTF-8 decodes to surrogates U+DC80..U+DCFF and encodes back.
- They mix with str, bytes, bytearray and each other: comparisons compare
  the strings; `+`, `*`, `%` and format give the left operand's kind (bstr
  for bytes-like, ustr for str-like); bytes are read as UTF-8 text.
  Buffers (memoryview, array) are not strings: they are refused.
- b(x) / u(x) make sure x is a bstr / ustr (converting str, bytes,
  bytearray or a buffer; TypeError otherwise); bstr(obj) / ustr(obj)
  stringify anything, as str() does.
- biter/uiter iterate any string by bytes/characters; bbyte(i)/uchr(i) make
  a 1-byte bstr / 1-character ustr.

hash(bstr) and hash(ustr) are the hash of the str they equal, so both work
as keys next to str (not next to bytes: b'x' and 'x' hash differently).
"""

import codecs
import copyreg

__all__ = ['b', 'u', 'bstr', 'ustr', 'biter', 'uiter', 'bbyte', 'uchr']


# ---- the conversions ----

def _b_encode_error(exc):
    # encoding must always succeed and undo decoding: the surrogates
    # U+DC80..U+DCFF decoding made of invalid bytes become those bytes,
    # any other lone surrogate keeps its (UTF-8 style) 3-byte form.
    if not isinstance(exc, UnicodeEncodeError):
        raise exc
    out = bytearray()
    for ch in exc.object[exc.start:exc.end]:
        c = ord(ch)
        if 0xdc80 <= c <= 0xdcff:
            out.append(c - 0xdc00)
        else:
            out += ch.encode('utf-8', 'surrogatepass')
    return bytes(out), exc.end


codecs.register_error('golang.b', _b_encode_error)

_bytes_new = bytes.__new__
_str_new = str.__new__


def _utf8(text):
    # str -> bytes, never failing, undoing _text
    try:
        return str.encode(text, 'utf-8')
    except UnicodeEncodeError:
        return str.encode(text, 'utf-8', 'golang.b')


def _text(data):
    # bytes -> str, never failing (invalid bytes as surrogates)
    try:
        return bytes.decode(data, 'utf-8')
    except UnicodeDecodeError:
        return bytes.decode(data, 'utf-8', 'surrogateescape')


_ALL = slice(None)
_HEAPTYPE = 1 << 9      # Py_TPFLAGS_HEAPTYPE: a class defined in Python
_bytes_getitem = bytes.__getitem__


def _bdata(s):
    """_bdata returns the bytes of bstr s (as plain bytes)."""
    # (bytes(s) would ask s.__bytes__; a full slice of a subclass copies)
    return _bytes_getitem(s, _ALL)


_str_getitem = str.__getitem__


def _udata(s):
    """_udata returns the text of ustr s (as plain str)."""
    return _str_getitem(s, _ALL)


def _strbytes(x):
    # the UTF-8 bytes of a string-like x (str, bytes, bytearray, ours);
    # None if x is no string
    if isinstance(x, bytes):
        return _bdata(x) if type(x) is not bytes else x
    if isinstance(x, str):
        return _utf8(x)
    if isinstance(x, bytearray):
        return bytes(x)
    return None


def _strtext(x):
    # the text of a string-like x; None if x is no string
    if isinstance(x, str):
        return _udata(x) if type(x) is not str else x
    if isinstance(x, (bytes, bytearray)):
        return _text(bytes(x))
    return None


def _must(conv, x, what):
    # conv(x) (_strbytes or _strtext), or TypeError if x is no string
    v = conv(x)
    if v is None:
        raise TypeError("%s: expected a string (str, bytes, bytearray, bstr "
                        "or ustr), got %s" % (what, type(x).__name__))
    return v


def _plain_string(x):
    # a string whose str() is its text (its type keeps the base's __str__):
    # bstr(x)/ustr(x) convert it rather than stringify it
    return isinstance(x, (str, bytes, bytearray)) and type(x).__str__ in (
        str.__str__, bytes.__str__, bytearray.__str__, _Str.__str__)


def _is_buffer(x):
    try:
        memoryview(x).release()
        return True
    except TypeError:
        return False


def b(s):
    """b returns s as a bstr: str, ustr are UTF-8 encoded, bytes, bytearray
    and buffers taken as they are (b(u(x)) == x for any bytes x).
    TypeError for anything else."""
    if type(s) is bstr:
        return s
    if isinstance(s, bytes):
        return _bytes_new(bstr, _bdata(s))
    if isinstance(s, str):
        return _bytes_new(bstr, _utf8(s))
    if isinstance(s, bytearray):
        return _bytes_new(bstr, bytes(s))
    if s is not None and _is_buffer(s):
        return _bytes_new(bstr, bytes(memoryview(s)))
    raise TypeError("b: invalid type %s" % type(s).__name__)


def u(s):
    """u returns s as a ustr: bytes, bytearray, bstr and buffers are UTF-8
    decoded (never failing: invalid bytes become surrogates U+DC80..U+DCFF
    that b() turns back). TypeError for anything else."""
    if type(s) is ustr:
        return s
    if isinstance(s, str):
        return _str_new(ustr, _udata(s))
    if isinstance(s, (bytes, bytearray)):
        return _str_new(ustr, _text(bytes(s)))
    if s is not None and _is_buffer(s):
        return _str_new(ustr, _text(bytes(memoryview(s))))
    raise TypeError("u: invalid type %s" % type(s).__name__)


# ---- stringification ----

_CONTAINERS = {list: list.__repr__, tuple: tuple.__repr__,
               dict: dict.__repr__, set: set.__repr__,
               frozenset: frozenset.__repr__}


def _container(x):
    # the builtin container type x is shown as (a subclass keeping its
    # base's repr counts), or None
    for base, r in _CONTAINERS.items():
        if isinstance(x, base):
            return base if type(x).__repr__ is r else None
    return None


def _srepr(x, seen):
    # repr of x inside a container being stringified: strings of any kind
    # as str's repr of their text ("['β']", as in Go and pygolang)
    t = _strtext(x)
    if t is not None:
        return repr(t)
    base = _container(x)
    if base is None:
        return repr(x)
    name = type(x).__name__
    i = id(x)
    if i in seen:
        return {list: '[...]', tuple: '(...)', dict: '{...}'}.get(
            base, '%s(...)' % name)
    seen.add(i)
    try:
        if base is list:
            return '[' + ', '.join(_srepr(e, seen) for e in x) + ']'
        if base is tuple:
            if len(x) == 1:
                return '(' + _srepr(x[0], seen) + ',)'
            return '(' + ', '.join(_srepr(e, seen) for e in x) + ')'
        if base is dict:
            return '{' + ', '.join('%s: %s' % (_srepr(k, seen),
                                               _srepr(v, seen))
                                   for k, v in x.items()) + '}'
        if not x:
            return '%s()' % name
        body = '{' + ', '.join(_srepr(e, seen) for e in x) + '}'
        return body if type(x) is set else '%s(%s)' % (name, body)
    finally:
        seen.discard(i)


def _stringify(obj):
    # str(obj) as text, with strings inside containers shown as text
    if _container(obj) is not None and type(obj).__str__ is object.__str__:
        return _srepr(obj, set())
    s = str(obj)
    return _udata(s) if type(s) is not str else s


def _decoded(obj, encoding, errors, who):
    # bstr(obj, encoding, errors) / ustr(...): obj's bytes decoded precisely
    if isinstance(obj, str):
        raise TypeError("%s: decoding str is not supported" % who)
    data = bytes(memoryview(obj)) if not isinstance(obj, bytes) else obj
    return bytes.decode(data, encoding or 'utf-8', errors or 'strict')


# ---- argument and result conversion for methods ----

def _targ(x, who):
    # an argument of a text method: strings become their text; buffers are
    # refused (they are not strings); tuples convert element-wise
    if isinstance(x, (str, bytes, bytearray)):
        return _strtext(x)
    if isinstance(x, tuple):
        return tuple(_targ(e, who) for e in x)
    if x is not None and not isinstance(x, (int, float, dict, list)) \
            and _is_buffer(x):
        raise TypeError("%s: a buffer (%s) is not a string"
                        % (who, type(x).__name__))
    return x


def _barg(x, who):
    # an argument of a bytes method: strings become their bytes
    if isinstance(x, (str, bytes, bytearray)):
        return _strbytes(x)
    if isinstance(x, tuple):
        return tuple(_barg(e, who) for e in x)
    if x is not None and not isinstance(x, (int, float)) and _is_buffer(x):
        raise TypeError("%s: a buffer (%s) is not a string"
                        % (who, type(x).__name__))
    return x


def _wrap(r, kind):
    # results of str/bytes methods: strings become kind, recursively in
    # lists and tuples
    if isinstance(r, (str, bytes)):
        return kind(r) if type(r) is not kind else r
    if type(r) is list:
        return [_wrap(e, kind) for e in r]
    if type(r) is tuple:
        return tuple(_wrap(e, kind) for e in r)
    return r


def _text_method(name):
    strm = getattr(str, name)

    def meth(self, *argv, **kw):
        who = '%s.%s' % (type(self).__name__, name)
        argv = [_targ(a, who) for a in argv]
        kw = {k: _targ(v, who) for k, v in kw.items()}
        return _wrap(strm(self._text(), *argv, **kw), self._kind)
    meth.__name__ = name
    meth.__qualname__ = name
    meth.__doc__ = strm.__doc__
    return meth


def _bytes_method(name):
    bm = getattr(bytes, name)

    def meth(self, *argv, **kw):
        who = 'bstr.%s' % name
        argv = [_barg(a, who) for a in argv]
        kw = {k: _barg(v, who) for k, v in kw.items()}
        return _wrap(bm(_bdata(self), *argv, **kw), bstr)
    meth.__name__ = name
    meth.__qualname__ = name
    meth.__doc__ = bm.__doc__
    return meth


def _join(self, iterable):
    parts = []
    for i, x in enumerate(iterable):
        t = _strtext(x)
        if t is None:
            raise TypeError("sequence item %d: expected str instance, %s "
                            "found" % (i, type(x).__name__))
        parts.append(t)
    return self._kind(str.join(self._text(), parts))


# The text methods both types have (str's), and bstr's byte-position ones.
_TEXT_METHODS = (
    'capitalize', 'casefold', 'center', 'expandtabs',
    'isalnum', 'isalpha', 'isascii', 'isdecimal', 'isdigit', 'isidentifier',
    'islower', 'isnumeric', 'isprintable', 'isspace', 'istitle', 'isupper',
    'ljust', 'lower', 'lstrip', 'partition', 'removeprefix', 'removesuffix',
    'replace', 'rjust', 'rpartition', 'rsplit', 'rstrip', 'split',
    'splitlines', 'strip', 'swapcase', 'title', 'upper', 'zfill',
)
_BYTEPOS_METHODS = ('count', 'find', 'index', 'rfind', 'rindex',
                    'startswith', 'endswith')


class _Str(object):
    # what bstr and ustr share (no instance layout: a mixin)
    __slots__ = ()

    # --- comparisons: as strings ---
    def __eq__(self, other):
        o = self._other(other)
        if o is None:
            return NotImplemented
        return self._cmpdata() == o

    def __ne__(self, other):
        o = self._other(other)
        if o is None:
            return NotImplemented
        return self._cmpdata() != o

    def __lt__(self, other):
        o = self._other(other)
        return NotImplemented if o is None else self._cmpdata() < o

    def __le__(self, other):
        o = self._other(other)
        return NotImplemented if o is None else self._cmpdata() <= o

    def __gt__(self, other):
        o = self._other(other)
        return NotImplemented if o is None else self._cmpdata() > o

    def __ge__(self, other):
        o = self._other(other)
        return NotImplemented if o is None else self._cmpdata() >= o

    def __hash__(self):
        return hash(self._text())

    # --- operators ---
    def __add__(self, other):
        o = self._other(other)
        if o is None:
            return NotImplemented
        return self._kind(self._cmpdata() + o)

    def __radd__(self, other):
        if isinstance(other, bytearray):
            if isinstance(self, bytes):
                return NotImplemented   # bytearray's own concat (+= in place)
            return bytearray(other) + _strbytes(self)
        if isinstance(other, (bytes, bytearray)):
            return bstr(_strbytes(other) + _strbytes(self))
        if isinstance(other, str):
            return ustr(_strtext(other) + self._text())
        return NotImplemented

    def __mul__(self, n):
        if not hasattr(n, '__index__'):
            return NotImplemented
        return self._kind(self._cmpdata() * n)

    __rmul__ = __mul__

    def __mod__(self, args):
        # a Python class with its own __rmod__ (and no item access, which
        # would make it a % mapping) takes over, as for other operators
        ta = type(args)
        if ta.__flags__ & _HEAPTYPE and hasattr(ta, '__rmod__') and \
                not isinstance(args, (str, bytes, bytearray, tuple, dict)) \
                and not hasattr(ta, '__getitem__'):
            return NotImplemented
        return self._kind(_format(self._text(), args))

    def __rmod__(self, fmt):
        # fmt % self with fmt a str or bytes that is not ours
        if isinstance(fmt, bytearray):
            return NotImplemented
        kind = bstr if isinstance(fmt, bytes) else ustr
        if kind is not self._kind:
            return NotImplemented
        return kind(_format(_strtext(fmt), self))

    def __format__(self, spec):
        return ustr(format(self._text(), spec))

    def __str__(self):
        return u(self)

    def __unicode__(self):
        return u(self)

    def __bytes__(self):
        return _strbytes(self)

    def encode(self, encoding=None, errors=None):
        """encode returns the text encoded (bytes): UTF-8 by default, where
        invalid bytes the string came from are kept."""
        if encoding is None and errors is None:
            return _strbytes(self)
        return str.encode(self._text(), encoding or 'utf-8',
                          errors or 'strict')

    def decode(self, encoding=None, errors=None):
        """decode returns the string's bytes decoded (ustr): UTF-8 by
        default, never failing."""
        if encoding is None and errors is None:
            return u(self)
        return ustr(bytes.decode(_strbytes(self), encoding or 'utf-8',
                                 errors or 'strict'))

    join = _join

    def format(self, *args, **kw):
        """format is str.format, strings of any kind in the arguments taken
        as their text."""
        return self._kind(str.format(
            self._text(), *[_fmtarg(a) for a in args],
            **{k: _fmtarg(v) for k, v in kw.items()}))

    def format_map(self, mapping):
        """format_map is str.format_map, as format."""
        return self._kind(str.format_map(self._text(),
                                         _Mapping(mapping, _fmtarg)))

    for _m in _TEXT_METHODS:
        locals()[_m] = _text_method(_m)
    del _m


class bstr(_Str, bytes):
    """bstr is a string as bytes (UTF-8): see golang._golang_str."""

    __slots__ = ()

    def __new__(cls, object=b'', encoding=None, errors=None):
        if encoding is not None or errors is not None:
            data = _utf8(_decoded(object, encoding, errors, 'bstr'))
        elif type(object) is bstr and cls is bstr:
            return object
        elif _plain_string(object):
            data = _strbytes(object)
        else:
            data = _utf8(_stringify(object))
        return _bytes_new(cls, data)

    _kind = property(lambda self: bstr)

    def _text(self):
        return _text(_bdata(self))

    def _cmpdata(self):
        return _bdata(self)

    @staticmethod
    def _other(x):
        return _strbytes(x)

    def __repr__(self):
        return 'b(%s)' % _qrepr(_bdata(self))

    def __getitem__(self, i):
        r = bytes.__getitem__(self, i)
        if isinstance(r, int):
            return _bytes_new(bstr, bytes((r,)))
        return _bytes_new(bstr, r)

    def __iter__(self):
        for c in _bdata(self):
            yield _bytes_new(bstr, bytes((c,)))

    def __contains__(self, x):
        if isinstance(x, int) and not isinstance(x, bool):
            return bytes.__contains__(self, x)
        return _must(_strbytes, x, "'in <bstr>'") in _bdata(self)

    def translate(self, table, delete=b''):
        """translate maps characters through table (as str.translate), or,
        with a 256-byte table (bytes.maketrans), bytes (as
        bytes.translate)."""
        if table is None or (isinstance(table, (bytes, bytearray)) and
                             len(table) == 256) or delete:
            return bstr(bytes.translate(_bdata(self), table,
                                        _must(_strbytes, delete, 'bstr.translate')))
        return bstr(str.translate(self._text(), _table(table)))

    maketrans = staticmethod(lambda *argv: _maketrans(*argv))

    def __reduce_ex__(self, protocol):
        # pygolang's pickles, so that they load in both: golang.bstr of its
        # bytes from protocol 3, before that golang._butf8b of its text
        # (protocols 0-2 have no bytes)
        if protocol < 3:
            return (_butf8b, (self._text(),))
        return (copyreg.__newobj__, (type(self), _bdata(self)))

    for _m in _BYTEPOS_METHODS:
        locals()[_m] = _bytes_method(_m)
    del _m


class ustr(_Str, str):
    """ustr is a string as unicode characters: see golang._golang_str."""

    __slots__ = ()

    def __new__(cls, object='', encoding=None, errors=None):
        if encoding is not None or errors is not None:
            text = _decoded(object, encoding, errors, 'ustr')
        elif type(object) is ustr and cls is ustr:
            return object
        elif _plain_string(object):
            text = _strtext(object)
        else:
            text = _stringify(object)
        return _str_new(cls, text)

    _kind = property(lambda self: ustr)

    def _text(self):
        return _udata(self)

    def _cmpdata(self):
        return _udata(self)

    @staticmethod
    def _other(x):
        return _strtext(x)

    def __repr__(self):
        t = self._text()
        try:
            t.encode('utf-8')
        except UnicodeEncodeError:
            return 'u(%s)' % _qrepr(_utf8(t))
        return 'u(%s)' % repr(t)

    def __str__(self):
        return self if type(self) is ustr else u(self)

    def __getitem__(self, i):
        return _str_new(ustr, str.__getitem__(self, i))

    def __iter__(self):
        for c in str.__iter__(self):
            yield _str_new(ustr, c)

    def __contains__(self, x):
        return _must(_strtext, x, "'in <ustr>'") in self._text()

    def translate(self, table):
        return ustr(str.translate(self._text(), _table(table)))

    maketrans = staticmethod(lambda *argv: _maketrans(*argv))

    def __reduce_ex__(self, protocol):
        # pygolang's pickles: golang.ustr of its text
        if protocol < 2:
            return (type(self), (self._text(),))
        return (copyreg.__newobj__, (type(self), self._text()))

    for _m in _BYTEPOS_METHODS:
        locals()[_m] = _text_method(_m)
    del _m


def _table(table):
    # a str.translate table with strings of any kind as text
    if isinstance(table, dict):
        return {k: _strtext(v) if isinstance(v, (bytes, bytearray)) else v
                for k, v in table.items()}
    if isinstance(table, (list, tuple)):
        return [_strtext(v) if isinstance(v, (bytes, bytearray)) else v
                for v in table]
    return table


def _maketrans(*argv):
    # str.maketrans, strings of any kind (also as dict keys) as text
    def conv(v):
        return _strtext(v) if isinstance(v, (str, bytes, bytearray)) else v
    if len(argv) == 1 and isinstance(argv[0], dict):
        argv = ({conv(k): conv(v) for k, v in argv[0].items()},)
    else:
        argv = tuple(conv(a) for a in argv)
    return str.maketrans(*argv)


def _qrepr(data):
    # the repr of bytes data as Python would show the text it holds: valid
    # UTF-8 as str's repr, else a bytes literal keeping the valid parts
    # readable (b'привет \xcd')
    t = _text(data)
    if not any(0xdc80 <= ord(c) <= 0xdcff for c in t):
        return repr(t)
    quote = "'"
    if "'" in t and '"' not in t:
        quote = '"'
    out = ["b", quote]
    for c in t:
        o = ord(c)
        if 0xdc80 <= o <= 0xdcff:
            out.append('\\x%02x' % (o - 0xdc00))
        elif c == quote or c == '\\':
            out.append('\\' + c)
        elif c.isprintable() and o >= 0x20:
            out.append(c)
        else:
            r = repr(c)[1:-1]
            out.append(r if not r.startswith('\\u') or o >= 0x80 else r)
    out.append(quote)
    return ''.join(out)


def _fmtarg(a):
    # an argument of % or .format: strings of any kind as their text,
    # containers shown with the strings inside as text
    if isinstance(a, _Str):
        return a._text()
    if isinstance(a, (bytes, bytearray)):
        return _text(bytes(a))
    if _container(a) is not None:
        return _Stringified(a)
    return a


def _format(fmt, args):
    # fmt % args, with _fmtarg's view of the arguments
    if isinstance(args, tuple):
        args = tuple(_fmtarg(a) for a in args)
    elif isinstance(args, dict) or (hasattr(args, 'keys') and
                                    hasattr(args, '__getitem__') and
                                    not isinstance(args, (str, bytes))):
        args = _Mapping(args, _fmtarg)
    else:
        args = _fmtarg(args)
    return str.__mod__(fmt, args)


class _Stringified(object):
    # a container argument of %: %s and %r show strings inside as text
    __slots__ = ('x',)

    def __init__(self, x):
        self.x = x

    def __str__(self):
        return _stringify(self.x)

    __repr__ = __str__

    def __getitem__(self, k):   # a container is a % mapping, as in Python
        return _fmtarg(self.x[k])

    def __getattr__(self, name):    # '{0.attr}'
        return getattr(self.x, name)


class _Mapping(object):
    __slots__ = ('m', 'conv')

    def __init__(self, m, conv):
        self.m, self.conv = m, conv

    def __getitem__(self, k):
        return self.conv(self.m[_strtext(k) if type(self.m) is not dict
                                else k])

    def keys(self):
        return self.m.keys()

    def __str__(self):      # '%s %(x)s' % {'x': 1}: the mapping itself
        return _stringify(self.m)

    __repr__ = __str__


# pickled as pygolang pickles them: golang.bstr, golang.ustr
bstr.__module__ = ustr.__module__ = 'golang'


def _butf8b(text):
    """_butf8b makes a bstr from its text (pygolang's pickles of bstr for
    protocols 0-2)."""
    return _bytes_new(bstr, _utf8(text))


_butf8b.__module__ = 'golang'


def biter(s):
    """biter iterates string s by bytes: each a 1-byte bstr."""
    for c in _bdata(b(s)):
        yield _bytes_new(bstr, bytes((c,)))


def uiter(s):
    """uiter iterates string s by unicode characters: each a ustr."""
    for c in _udata(u(s)):
        yield _str_new(ustr, c)


_BYTES = [None] * 256


def bbyte(i):
    """bbyte returns the 1-byte bstr of byte value i (0..255)."""
    if not 0 <= i < 256:
        raise ValueError("bbyte: byte %r out of range 0..255" % (i,))
    x = _BYTES[i]
    if x is None:
        x = _BYTES[i] = _bytes_new(bstr, bytes((i,)))
    return x


def uchr(i):
    """uchr returns the 1-character ustr of code point i."""
    return _str_new(ustr, chr(i))

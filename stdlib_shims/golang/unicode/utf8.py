"""Package utf8 mirrors Go's package unicode/utf8: runes and their UTF-8
encoding, on bytes (and bstr) as Go works on []byte and string.

A rune is an int (a Unicode code point). Invalid UTF-8 decodes as
RuneError (U+FFFD) of width 1, as in Go, so that decoding always makes
progress.

See https://golang.org/pkg/unicode/utf8 for Go's package.
"""

__all__ = ['RuneError', 'RuneSelf', 'MaxRune', 'UTFMax', 'DecodeRune',
           'DecodeRuneInString', 'DecodeLastRune', 'DecodeLastRuneInString',
           'EncodeRune', 'AppendRune', 'RuneLen', 'RuneCount',
           'RuneCountInString', 'FullRune', 'FullRuneInString', 'Valid',
           'ValidString', 'ValidRune', 'RuneStart']

RuneError = 0xFFFD      # the "error" rune, Unicode's replacement character
RuneSelf = 0x80         # below it a rune is its own single byte
MaxRune = 0x10FFFF      # the largest valid code point
UTFMax = 4              # the longest encoding of a rune

_SURR_MIN, _SURR_MAX = 0xD800, 0xDFFF


def _bytes(p):
    if isinstance(p, str):
        # a Go string: its UTF-8 bytes (lone surrogates as their 3-byte
        # form, and pygolang's escapes of invalid bytes as the bytes)
        from golang import b
        return bytes(b(p))
    return bytes(p) if not isinstance(p, bytes) else p


def _decode(p, i):
    # (rune, size) of the encoding starting at p[i]; p is bytes
    n = len(p) - i
    if n <= 0:
        return RuneError, 0
    c0 = p[i]
    if c0 < 0x80:
        return c0, 1
    if 0xC2 <= c0 <= 0xDF:
        need, r, lo, hi = 1, c0 & 0x1F, 0x80, 0xBF
    elif 0xE0 <= c0 <= 0xEF:
        need, r = 2, c0 & 0x0F
        lo, hi = (0xA0 if c0 == 0xE0 else 0x80), (0x9F if c0 == 0xED else 0xBF)
    elif 0xF0 <= c0 <= 0xF4:
        need, r = 3, c0 & 0x07
        lo, hi = (0x90 if c0 == 0xF0 else 0x80), (0x8F if c0 == 0xF4 else 0xBF)
    else:
        return RuneError, 1
    if n < need + 1:
        return RuneError, 1
    c1 = p[i + 1]
    if not lo <= c1 <= hi:
        return RuneError, 1
    r = (r << 6) | (c1 & 0x3F)
    for k in range(2, need + 1):
        c = p[i + k]
        if not 0x80 <= c <= 0xBF:
            return RuneError, 1
        r = (r << 6) | (c & 0x3F)
    return r, need + 1


def DecodeRune(p):
    """DecodeRune returns (rune, width) of the first UTF-8 encoding in p:
    (RuneError, 0) if p is empty, (RuneError, 1) if it is invalid."""
    return _decode(_bytes(p), 0)


DecodeRuneInString = DecodeRune


def DecodeLastRune(p):
    """DecodeLastRune returns (rune, width) of the last UTF-8 encoding in
    p: (RuneError, 0) if p is empty, (RuneError, 1) if it is invalid."""
    p = _bytes(p)
    end = len(p)
    if end == 0:
        return RuneError, 0
    if p[end - 1] < RuneSelf:
        return p[end - 1], 1
    start = end - 1
    lim = max(end - UTFMax, 0)
    while start > lim and not RuneStart(p[start]):
        start -= 1
    r, size = _decode(p, start)
    if start + size != end:
        return RuneError, 1
    return r, size


DecodeLastRuneInString = DecodeLastRune


def ValidRune(r):
    """ValidRune tells whether r can be encoded in UTF-8 (no surrogates,
    nothing above MaxRune)."""
    return 0 <= r < _SURR_MIN or _SURR_MAX < r <= MaxRune


def RuneLen(r):
    """RuneLen returns how many bytes encode r, or -1 if r is no valid
    rune."""
    if r < 0:
        return -1
    if r < 0x80:
        return 1
    if r < 0x800:
        return 2
    if _SURR_MIN <= r <= _SURR_MAX:
        return -1
    if r < 0x10000:
        return 3
    if r <= MaxRune:
        return 4
    return -1


def EncodeRune(r):
    """EncodeRune returns the UTF-8 encoding of r (bytes); an invalid rune
    encodes as RuneError."""
    if not ValidRune(r):
        r = RuneError
    return chr(r).encode('utf-8')


def AppendRune(p, r):
    """AppendRune returns p with the UTF-8 encoding of r appended."""
    return _bytes(p) + EncodeRune(r)


def RuneCount(p):
    """RuneCount returns how many runes p holds: each invalid byte counts
    as one (a RuneError)."""
    p = _bytes(p)
    i = n = 0
    while i < len(p):
        i += _decode(p, i)[1]
        n += 1
    return n


RuneCountInString = RuneCount


def FullRune(p):
    """FullRune tells whether p begins with a full UTF-8 encoding of a
    rune (an invalid one counts as full: it decodes as a width-1 error)."""
    p = _bytes(p)
    if not p:
        return False
    r, size = _decode(p, 0)
    if size > 1 or r != RuneError or p[0] < 0x80:
        return True
    # RuneError of width 1: full unless p is a valid but cut prefix
    for k in range(len(p) + 1, UTFMax + 1):
        for tail in (b'\x80', b'\x90', b'\xa0', b'\xbf'):
            if _decode(p + tail * (k - len(p)), 0)[1] == k:
                return False
    return True


FullRuneInString = FullRune


def Valid(p):
    """Valid tells whether p is entirely valid UTF-8."""
    p = _bytes(p)
    i = 0
    while i < len(p):
        r, size = _decode(p, i)
        if r == RuneError and size == 1:
            return False
        i += size
    return True


ValidString = Valid


def RuneStart(c):
    """RuneStart tells whether byte c could begin an encoded rune (it is no
    continuation byte)."""
    return c & 0xC0 != 0x80

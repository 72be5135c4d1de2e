# -*- coding: utf-8 -*-
# Tests of golang.strconv (quote/unquote as Go's %q) and golang.gcompat.qq.
# Runs under gpython.

import unittest

from golang.strconv import quote, unquote, unquote_next
from golang.gcompat import qq
from golang import bstr


def byterange(start, stop):
    return bytes(range(start, stop))


class TestQuote(unittest.TestCase):

    def test_quote(self):
        testv = (
            # in                quoted without the surrounding "
            ('',                r""),
            (byterange(0, 32),  br'\x00\x01\x02\x03\x04\x05\x06\x07\x08\t\n\x0b\x0c\r\x0e\x0f'
                                br'\x10\x11\x12\x13\x14\x15\x16\x17\x18\x19\x1a\x1b\x1c\x1d\x1e\x1f'),
            (byterange(32, 127), b' !\\"#$%&\'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ'
                                 b'[\\\\]^_`abcdefghijklmnopqrstuvwxyz{|}~'),
            ('\'',              r"'"),
            ('"',               r"\""),
            ('ab c\ndef',       r"ab c\ndef"),
            ('a\'c\ndef',       r"a'c\ndef"),
            ('a\"c\ndef',       r"a\"c\ndef"),
            (b'a\"c\ndef',      br'a\"c\ndef'),
            ('привет\nмир',     r"привет\nмир"),
            ('\\',              r"\\"),
            ('\U0001F600 e\u0301',  "\U0001F600 e\u0301"),  # emoji, combining mark

            # invalid UTF-8
            (b"\xd0a",          br"\xd0a"),
            (b"\xff\xfe",       br"\xff\xfe"),
            (b"\xe2\x82",       br"\xe2\x82"),     # truncated

            # non-printable UTF-8
            ("\u007f\u0080\u0081\u0085", r"\x7f\xc2\x80\xc2\x81\xc2\x85"),
            ("\u00a0\u2028",    r"\xc2\xa0\xe2\x80\xa8"),   # NBSP, line separator
        )

        for tin, tquoted in testv:
            with self.subTest(tin=tin):
                q = b'"' if isinstance(tquoted, bytes) else '"'
                tail = b'123' if isinstance(tquoted, bytes) else '123'
                tquoted = q + tquoted + q
                self._check(tin, tquoted, tail)

                # the complementary type
                if isinstance(tin, bytes):
                    try:
                        tin = tin.decode('utf-8')
                    except UnicodeDecodeError:
                        continue
                    tquoted, tail = tquoted.decode('utf-8'), tail.decode('utf-8')
                else:
                    tin = tin.encode('utf-8')
                    tquoted, tail = tquoted.encode('utf-8'), tail.encode('utf-8')
                self._check(tin, tquoted, tail)

    def _check(self, tin, tquoted, tail):
        # as pygolang: any string in, bstr out (bstr equals str and bytes)
        self.assertEqual(quote(tin), tquoted)
        self.assertIs(type(quote(tin)), bstr)
        self.assertEqual(unquote(tquoted), tin)
        self.assertIs(type(unquote(tquoted)), bstr)
        self.assertEqual(unquote_next(tquoted), (tin, type(tin)()))
        self.assertEqual([type(x) for x in unquote_next(tquoted)],
                         [bstr, bstr])
        self.assertEqual(unquote_next(tquoted + tail), (tin, tail))
        with self.assertRaises(ValueError):
            unquote(tquoted + tail)
        # qq always gives bstr
        sq = tquoted.decode('utf-8') if isinstance(tquoted, bytes) else tquoted
        self.assertEqual(qq(tin), sq)
        self.assertIs(type(qq(tin)), bstr)

    def test_unquote_go_escapes(self):
        # what Go's strconv.Quote may produce besides what quote does
        self.assertEqual(unquote(r'"\a\b\f\v\'"'), "\a\b\f\v'")
        self.assertEqual(unquote(r'"\u0444\U0001F600"'), "ф\U0001F600")
        self.assertEqual(unquote(r'"\101\060"'), "A0")
        self.assertEqual(unquote(br'"\xff"'), b"\xff")

    def test_unquote_bad(self):
        testv = (
            # in            error
            ('',            'no starting "'),
            ('x"zzz"',      'no starting "'),
            ('"zzz',        'no closing "'),
            ('"\\',         'unexpected EOL after \\'),
            ('"\\x',        'unexpected EOL after \\x'),
            ('"\\x0',       'unexpected EOL after \\x'),
            ('"\\z"',       'invalid escape \\z'),
            ('"a"b',        'non-empty tail after closing "'),
        )
        for tin, err in testv:
            with self.subTest(tin=tin):
                with self.assertRaises(ValueError) as cm:
                    unquote(tin)
                self.assertEqual(cm.exception.args, (err,))
        for bad in [r'"\xzz"', r'"\u12"', r'"\777"', r'"\udfff"']:
            with self.assertRaises(ValueError):
                unquote(bad)

    def test_types(self):
        for x in [1, None]:
            with self.assertRaises(TypeError):
                quote(x)
            with self.assertRaises(TypeError):
                unquote(x)


class TestQQ(unittest.TestCase):

    def test_qq(self):
        self.assertEqual(qq("hello"), '"hello"')
        self.assertEqual(qq(b"hello"), '"hello"')
        self.assertEqual(qq(123), '"123"')
        self.assertEqual(qq(None), '"None"')
        self.assertEqual(qq("при\"вет"), '"при\\"вет"')
        self.assertEqual('hello %s' % qq("мир"), 'hello "мир"')
        self.assertEqual(bytes(qq("мир")), '"мир"'.encode('utf-8'))
        self.assertEqual(qq(b"\xff"), r'"\xff"')


if __name__ == '__main__':
    unittest.main()

# -*- coding: utf-8 -*-
# Tests of golang.errors and golang.fmt.Errorf (error chaining via .Unwrap()
# and .__cause__). Runs under gpython.

import unittest

from golang import error, b
from golang import errors, fmt


def mkchain(textv):
    """mkchain builds  textv[0]: textv[1]: ...  with each error wrapping the
    next one, the last made by errors.New."""
    if not textv:
        return None
    err = errors.New(textv[-1])
    for t in reversed(textv[:-1]):
        err = fmt.Errorf("%s: %w", t, err)
    return err


class EError(error):
    """a user error class with no .Unwrap"""
    def __init__(myerr, op, ret):
        myerr.op = op
        myerr.ret = ret
    def Error(myerr):
        return "my %s: %s" % (myerr.op, myerr.ret)


class EErrorWrap(error):
    """a user error class that wraps"""
    def __init__(myw, text, err):
        myw.text = text
        myw.err = err
    def Error(myw):
        return "%s: %s" % (myw.text, myw.err)
    def Unwrap(myw):
        return myw.err


class XWrap(BaseException):
    """wraps, but is not a golang error and has no .Error"""
    def __init__(xw, text, err):
        xw.text = text
        xw.err = err
    def Unwrap(xw):
        return xw.err
    def __str__(xw):
        return "%s: %s" % (xw.text, xw.err)
    def __eq__(a, b):
        return type(a) is type(b) and (a.text, a.err) == (b.text, b.err)
    __hash__ = None


class XExc(Exception):
    """a plain exception"""
    def __init__(xerr, text):
        xerr.text = text
    def __str__(xerr):
        return xerr.text
    def __eq__(a, b):
        return type(a) is type(b) and a.text == b.text
    __hash__ = None


def U(e):
    """U(e): e's chain computed directly by the documented rule."""
    if e is None:
        return []
    w = getattr(e, 'Unwrap', lambda: None)()
    return [e] + U(w) + U(getattr(e, '__cause__', None))


class TestErrors(unittest.TestCase):

    def assertEeq(self, e1, e2):
        self.assertTrue(e1 == e2 and e2 == e1)
        self.assertFalse(e1 != e2 or e2 != e1)
        self.assertEqual(hash(e1), hash(e2))

    def assertEne(self, e1, e2):
        self.assertTrue(e1 != e2 and e2 != e1)
        self.assertFalse(e1 == e2 or e2 == e1)

    def test_new(self):
        for x in ["мир", b("мир"), bytearray(b("мир"))]:
            err = errors.New(x)
            self.assertIs(type(err), error)
            self.assertEqual(err.Error(), "мир")
            self.assertEeq(err, errors.New("мир"))
            self.assertEne(err, errors.New("def"))
            self.assertEeq(err, error("мир"))
        for x in [1, None, object()]:
            with self.assertRaises(TypeError):
                errors.New(x)

    def test_chain(self):
        e = mkchain(["привет", "abc"])
        self.assertIs(type(e), error)
        self.assertEqual(e.Error(), "привет: abc")
        self.assertEqual(str(e), "привет: abc")
        self.assertEeq(e.Unwrap(), errors.New("abc"))
        self.assertIsNone(e.Unwrap().Unwrap())
        self.assertEeq(e, mkchain(["привет", "abc"]))
        self.assertEne(e, errors.New("abc"))
        self.assertEne(e, errors.New("привет: abc"))  # same text, but wraps

        wpy = EErrorWrap("mywrap", EError("load", 3))
        self.assertEqual(wpy.Error(), "mywrap: my load: 3")
        self.assertEqual(str(wpy), "mywrap: my load: 3")
        self.assertEqual(repr(wpy), "%s.EErrorWrap('mywrap', %s.EError('load', 3))" % (__name__, __name__))

        epy = RuntimeError("zzz")
        wpy = EErrorWrap("qqq", epy)
        self.assertEqual(wpy.Error(), "qqq: zzz")
        self.assertIs(wpy.Unwrap(), epy)

    def test_unwrap(self):
        E, Ec = errors.New, mkchain
        self.assertIsNone(errors.Unwrap(None))
        self.assertIsNone(errors.Unwrap(BaseException()))
        for x in [1, object()]:
            with self.assertRaises(TypeError):
                errors.Unwrap(x)

        ewrap = Ec(["abc", "def", "zzz"])
        e1 = errors.Unwrap(ewrap)
        self.assertEeq(e1, Ec(["def", "zzz"]))
        e2 = errors.Unwrap(e1)
        self.assertEeq(e2, E("zzz"))
        self.assertIsNone(errors.Unwrap(e2))

        e = EError("try", "fail")
        w = EErrorWrap("topic", e)
        self.assertIs(errors.Unwrap(w), e)
        self.assertIsNone(errors.Unwrap(e))

        # explicit cause is followed too
        x = XExc("x")
        try:
            try:
                raise x
            except XExc as exc:
                raise EError("op", 1) from exc
        except EError as e:
            self.assertIs(errors.Unwrap(e), x)

    def test_is(self):
        E, Ec = errors.New, mkchain
        self.assertTrue(errors.Is(None, None))
        self.assertFalse(errors.Is(E("a"), None))
        self.assertFalse(errors.Is(None, E("b")))
        self.assertFalse(errors.Is(BaseException(), None))
        for x in [1, object()]:
            with self.assertRaises(TypeError):
                errors.Is(x, None)
            with self.assertRaises(TypeError):
                errors.Is(None, x)

        ewrap = Ec(["hello", "world", "мир"])
        self.assertTrue(errors.Is(ewrap, E("мир")))
        self.assertFalse(errors.Is(ewrap, E("май")))
        self.assertTrue(errors.Is(ewrap, Ec(["world", "мир"])))
        self.assertFalse(errors.Is(ewrap, Ec(["hello", "мир"])))
        self.assertTrue(errors.Is(ewrap, Ec(["hello", "world", "мир"])))
        self.assertFalse(errors.Is(ewrap, Ec(["x", "hello", "world", "мир"])))

        ewrap = XWrap("qqq", Ec(["abc", "привет"]))
        self.assertFalse(errors.Is(ewrap, E("zzz")))
        self.assertTrue(errors.Is(ewrap, E("привет")))
        self.assertTrue(errors.Is(ewrap, Ec(["abc", "привет"])))
        self.assertTrue(errors.Is(ewrap, ewrap))
        self.assertFalse(errors.Is(ewrap, XWrap("qqq", Ec(["abc", "def"]))))
        self.assertTrue(errors.Is(ewrap, XWrap("qqq", Ec(["abc", "привет"]))))

        # a class may define .Is
        class Any(error):
            def Is(self, target):
                return isinstance(target, XExc)
        self.assertTrue(errors.Is(EErrorWrap("w", Any()), XExc("whatever")))
        self.assertFalse(errors.Is(EErrorWrap("w", Any()), E("whatever")))

    def test_unwrap_with_cause(self):
        Ec = mkchain

        def V(e, estrvok):
            chain = list(errors._chain(e))
            self.assertEqual([str(_) for _ in chain], estrvok)
            self.assertEqual(chain, U(e))

        #   e1 w→ e2 w→ e3
        #   |
        #   v  cause
        #   X          the cause comes after everything e1 wraps
        e1 = Ec(["1", "2", "3"])
        e1.__cause__ = XExc("x")
        V(e1, ["1: 2: 3", "2: 3", "3", "x"])
        self.assertTrue(errors.Is(e1, Ec(["2", "3"])))
        self.assertTrue(errors.Is(e1, XExc("x")))
        self.assertFalse(errors.Is(e1, XExc("y")))

        #   e1 w→ e2 w→ e3
        #   |     |
        #   v     v
        #   X1    X2
        e2 = Ec(["2", "3"])
        e1 = EErrorWrap("1", e2)
        e1.__cause__ = XExc("x1")
        e2.__cause__ = XExc("x2")
        V(e1, ["1: 2: 3", "2: 3", "3", "x2", "x1"])
        self.assertTrue(errors.Is(e1, XExc("x1")))
        self.assertTrue(errors.Is(e1, XExc("x2")))
        self.assertTrue(errors.Is(e1, EErrorWrap("1", Ec(["2", "3"]))))
        self.assertFalse(errors.Is(e1, EErrorWrap("0", Ec(["2", "3"]))))

        #   X11 w→ X12
        #   |
        #   v
        #   X21 w→ X22
        x11 = XWrap("x11", XExc("x12"))
        x11.__cause__ = XWrap("x21", XExc("x22"))
        V(x11, ["x11: x12", "x12", "x21: x22", "x22"])
        self.assertTrue(errors.Is(x11, XExc("x22")))
        self.assertFalse(errors.Is(x11, XWrap("x11", XWrap("x21", XExc("x22")))))

    def test_as(self):
        e = EError("load", 3)
        w = fmt.Errorf("ctx: %w", EErrorWrap("topic", e))
        self.assertIs(errors.As(w, EError), e)
        self.assertIs(errors.As(w, (KeyError, EError)), e)
        self.assertIs(errors.As(w, error), w)
        self.assertIsNone(errors.As(w, KeyError))
        self.assertIsNone(errors.As(None, KeyError))
        with self.assertRaises(TypeError):
            errors.As(w, "notaclass")

        k = KeyError("k")
        try:
            try:
                raise k
            except KeyError as exc:
                raise RuntimeError("wrapper") from exc
        except RuntimeError as r:
            self.assertIs(errors.As(r, KeyError), k)

    def test_join(self):
        self.assertIsNone(errors.Join())
        self.assertIsNone(errors.Join(None, None))
        e1, e2 = errors.New("e1"), KeyError("e2")
        j = errors.Join(e1, None, e2)
        self.assertIsInstance(j, error)
        self.assertEqual(str(j), "e1\n'e2'")
        self.assertTrue(errors.Is(j, e1))
        self.assertIs(errors.As(j, KeyError), e2)
        self.assertIsNone(errors.Unwrap(j))     # as in Go


class TestIO(unittest.TestCase):

    def test_eof(self):
        from golang import io
        self.assertIs(type(io.EOF), error)
        self.assertEqual(str(io.EOF), "EOF")
        self.assertEqual(str(io.ErrUnexpectedEOF), "unexpected EOF")
        self.assertNotEqual(io.EOF, io.ErrUnexpectedEOF)
        self.assertTrue(errors.Is(fmt.Errorf("read: %w", io.EOF), io.EOF))
        self.assertFalse(errors.Is(fmt.Errorf("read: %w", io.EOF), io.ErrUnexpectedEOF))


class TestErrorf(unittest.TestCase):

    def test_errorf(self):
        e = fmt.Errorf("abc")
        self.assertIs(type(e), error)
        self.assertEqual(e.Error(), "abc")
        self.assertIsNone(errors.Unwrap(e))

        e = fmt.Errorf("hello %d world %s", 123, "мир")
        self.assertEqual(e.Error(), "hello 123 world мир")
        self.assertIsNone(errors.Unwrap(e))

        for x in [1, object()]:
            with self.assertRaises(TypeError):
                fmt.Errorf(": %w", x)

        e = errors.New("problem")
        w = fmt.Errorf("%s %s: %w", "op", "file", e)
        self.assertIs(type(w), error)
        self.assertEqual(w.Error(), "op file: problem")
        self.assertEqual(errors.Unwrap(w), e)
        self.assertTrue(errors.Is(w, e))

        w = fmt.Errorf("%s %s: %s", "op", "file", e)
        self.assertEqual(w.Error(), "op file: problem")
        self.assertIsNone(errors.Unwrap(w))
        self.assertFalse(errors.Is(w, e))

        # wrapping a non-golang exception
        e = RuntimeError("abc")
        w = fmt.Errorf("zzz: %w", e)
        self.assertIsInstance(w, error)
        self.assertEqual(w.Error(), "zzz: abc")
        self.assertIs(errors.Unwrap(w), e)
        self.assertTrue(errors.Is(w, e))

        class MyError(Exception):
            def __init__(myerr, op, path, err):
                super(MyError, myerr).__init__(op, path, err)
                myerr.err = err
                myerr.op, myerr.path = op, path
            def Unwrap(myerr):
                return myerr.err
            def __str__(myerr):
                return "myerror %s %s: %s" % (myerr.op, myerr.path, myerr.err)

        e1 = KeyError("not found")
        e = MyError("load", "zzz", e1)
        w = fmt.Errorf("yyy: %w", e)
        self.assertEqual(w.Error(), "yyy: myerror load zzz: 'not found'")
        self.assertEqual(str(w), "yyy: myerror load zzz: 'not found'")
        self.assertIs(errors.Unwrap(w), e)
        self.assertIs(errors.Unwrap(e), e1)
        self.assertTrue(errors.Is(w, e1))

        e = fmt.Errorf("aaa: %w", None)
        self.assertEqual(e.Error(), "aaa: %!w(<None>)")
        self.assertIsNone(errors.Unwrap(e))

        for bad in ["%w", ":%w", "a %w : %w", "%w hi"]:
            with self.assertRaises(ValueError):
                fmt.Errorf(bad, e, e)


if __name__ == '__main__':
    unittest.main()

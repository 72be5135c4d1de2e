"""Typed channels, as pygolang's chan(dtype=...): element conversion and
checks, zero values from closed channels, typed nil channels."""
import unittest


class TestDtype(unittest.TestCase):
    def test_default_is_object(self):
        self.assertEqual(chan().dtype, "object")
        self.assertEqual(chan(dtype=object).dtype, "object")
        self.assertEqual(nilchan.dtype, "object")

    def test_zero_values_after_close(self):
        for dt, zero in [("C.int", 0), ("C.bool", False), ("C.double", 0.0),
                         ("C.structZ", None), ("object", None)]:
            c = chan(1, dtype=dt)
            c.close()
            v = c.recv()
            self.assertEqual(v, zero, dt)
            self.assertIs(type(v), type(zero), dt)
            self.assertEqual(c.recv_(), (zero, False), dt)
            self.assertEqual(select(c.recv), (0, zero), dt)
            self.assertEqual(select(c.recv_), (0, (zero, False)), dt)

    def test_conversion_and_checks(self):
        c = chan(4, dtype="C.int")
        c.send(7)
        c.send(1)
        self.assertEqual((c.recv(), c.recv()), (7, 1))
        # As pygolang: a bool is not a C int nor a C double.
        self.assertRaises(TypeError, c.send, True)
        self.assertRaises(TypeError, chan(1, dtype="C.double").send, False)
        self.assertRaises(TypeError, c.send, "1")
        self.assertRaises(TypeError, c.send, 1.5)
        self.assertRaises(OverflowError, c.send, 2 ** 31)
        self.assertRaises(OverflowError, c.send, -2 ** 31 - 1)
        c.send(-2 ** 31)
        self.assertEqual(c.recv(), -2 ** 31)
        b = chan(1, dtype="C.bool")
        self.assertRaises(TypeError, b.send, 1)
        d = chan(1, dtype="C.double")
        d.send(2)
        self.assertEqual(repr(d.recv()), "2.0")
        self.assertRaises(TypeError, d.send, "x")
        z = chan(1, dtype="C.structZ")
        self.assertRaises(TypeError, z.send, 0)
        self.assertEqual(len(c), 0)

    def test_select_send_converts(self):
        c = chan(1, dtype="C.double")
        self.assertEqual(select((c.send, 3), default), (0, None))
        self.assertEqual(repr(c.recv()), "3.0")
        self.assertRaises(TypeError, select, (c.send, "x"), default)
        self.assertEqual(len(c), 0)   # the failed select sent nothing

    def test_unbuffered_typed_between_goroutines(self):
        c = chan(dtype="C.int")
        done = chan()

        def producer():
            for i in range(100):
                c.send(i)
            c.close()
            done.close()
        go(producer)
        got = [v for v, ok in iter(c.recv_, (0, False))]
        done.recv()
        self.assertEqual(got, list(range(100)))

    def test_typed_nil(self):
        n = chan.nil("C.int")
        self.assertIs(chan.nil("C.int"), n)
        self.assertIs(chan.nil(), nilchan)
        self.assertEqual(n.dtype, "C.int")
        # As pygolang: the untyped nil channel equals every typed nil;
        # typed nils of different types differ.
        self.assertEqual(n, nilchan)
        self.assertEqual(nilchan, n)
        self.assertNotEqual(n, chan.nil("C.double"))
        self.assertNotEqual(n, chan(dtype="C.int"))
        self.assertEqual(repr(n), "chan.nil('C.int')")
        self.assertEqual(select(n.recv, default), (1, None))
        with self.assertRaises(BaseException) as cm:
            n.close()
        self.assertEqual(str(cm.exception), "close of nil channel")

    def test_bad_dtype(self):
        for bad in ("int", "C.float", 1):
            with self.assertRaises(TypeError):
                chan(dtype=bad)
            with self.assertRaises(TypeError):
                chan.nil(bad)


if __name__ == "__main__":
    unittest.main()

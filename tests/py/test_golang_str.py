# -*- coding: utf-8 -*-
# Tests of pygolang's strings (bstr/ustr, b/u, biter/uiter, bbyte/uchr),
# written from pygolang's documentation, and of pygolang's builtins and
# interpreter markers under gpython. Runs under gpython.

import builtins, copy, os, pickle, subprocess, sys, textwrap, unittest
import array

import golang
from golang import b, u, bstr, ustr, biter, uiter, bbyte, uchr
from golang._golang import _bdata, _udata

K8 = "мир".encode("koi8-r")          # not UTF-8: b'\xcd\xc9\xd2'


class TestConvert(unittest.TestCase):

    def test_b_u_types_and_round_trip(self):
        for raw in (b"", b"hello", "мир".encode(), b"\xd0", b"a\xffb",
                    b"\xed\xa0\x80", bytes(range(256))):
            bs, us = b(raw), u(raw)
            self.assertIs(type(bs), bstr)
            self.assertIs(type(us), ustr)
            self.assertEqual(_bdata(bs), raw)
            self.assertIs(type(_bdata(bs)), bytes)
            self.assertEqual(_bdata(b(us)), raw)       # never loses bytes
            self.assertEqual(_udata(u(b(us))), _udata(us))
        self.assertEqual(_udata(u(K8)), "\udccd\udcc9\udcd2")
        self.assertEqual(_udata(u(b"\xd0\xbc\xd0")), "м\udcd0")
        x = b("x")
        self.assertIs(b(x), x)
        y = u("y")
        self.assertIs(u(y), y)
        self.assertIs(bstr(x), x)
        self.assertIs(str(y), y)

    def test_b_u_accept(self):
        for src in ("мир", "мир".encode(), bytearray("мир".encode()),
                    memoryview("мир".encode()),
                    array.array('B', "мир".encode()), u("мир"), b("мир")):
            self.assertEqual(b(src), "мир")
            self.assertEqual(u(src), "мир")
        for bad in (None, 1, 1.5, [1], object()):
            with self.assertRaises(TypeError):
                b(bad)
            with self.assertRaises(TypeError):
                u(bad)

    def test_constructors_stringify(self):
        self.assertEqual((bstr(), ustr()), ("", ""))
        self.assertEqual(bstr(123), "123")
        self.assertIs(type(ustr(123)), ustr)
        self.assertEqual(ustr([1, "β"]), "[1, 'β']")
        # strings inside containers show as text
        self.assertEqual(bstr(["β".encode()]), "['β']")
        self.assertEqual(ustr((bytearray("β".encode()),)), "('β',)")
        self.assertEqual(bstr({b"k": u("v")}), "{'k': 'v'}")
        m = memoryview(b"abc")
        self.assertEqual(bstr(m), str(m))       # buffers: stringified
        # with an encoding: decoded precisely
        self.assertEqual(bstr(K8, "koi8-r"), "мир")
        self.assertEqual(ustr(bytearray(K8), "koi8-r"), "мир")
        with self.assertRaises(UnicodeDecodeError):
            ustr(K8, "utf-8")
        self.assertEqual(ustr(K8, "ascii", "replace"), "\ufffd" * 3)
        with self.assertRaises(TypeError):
            bstr("x", "utf-8")

    def test_no_attributes(self):
        with self.assertRaises(AttributeError):
            b("x").attr = 1
        with self.assertRaises(AttributeError):
            u("x").attr = 1


class TestStringBehaviour(unittest.TestCase):

    def test_str_repr_hash(self):
        bs, us = b("мир"), u("мир")
        self.assertEqual((str(bs), str(us)), ("мир", "мир"))
        self.assertIs(type(str(bs)), ustr)
        self.assertEqual((repr(bs), repr(us)), ("b('мир')", "u('мир')"))
        bad = b("привет ") + b(K8)
        self.assertEqual(repr(bad), r"b(b'привет \xcd\xc9\xd2')")
        self.assertEqual(repr(u(bad)), r"u(b'привет \xcd\xc9\xd2')")
        self.assertEqual(repr(b("'")), 'b("\'")')
        self.assertEqual(hash(bs), hash("мир"))
        self.assertEqual(hash(us), hash("мир"))
        self.assertEqual({"мир": 1}[bs], 1)
        self.assertEqual(bytes(us), "мир".encode())
        self.assertEqual(bytearray(bs), "мир".encode())
        self.assertEqual(memoryview(bs).tobytes(), "мир".encode())
        with self.assertRaises(TypeError):
            memoryview(us)
        self.assertEqual("{}".format(bs), "мир")
        self.assertIs(type(format(bs, ">5")), ustr)
        self.assertEqual(format(us, ">5"), "  мир")
        with self.assertRaises(ValueError):
            format(bs, "d")

    def test_compare(self):
        for x in (b("мир"), u("мир")):
            for y in ("мир", "мир".encode(), bytearray("мир".encode()),
                      b("мир"), u("мир")):
                self.assertTrue(x == y and y == x and not x != y, (x, y))
                self.assertTrue(x <= y and x >= y and not x < y)
            self.assertLess(x, "мирр")
            self.assertGreater(x, b"hello")
            for other in (None, 0, (), [1], memoryview(b"x")):
                self.assertFalse(x == other)
                self.assertTrue(x != other)
                with self.assertRaises(TypeError):
                    x < other
            self.assertIs(x.__eq__(0), NotImplemented)

    def test_index_iter(self):
        bs, us = b("миру мир"), u("миру мир")
        self.assertEqual((len(bs), len(us)), (15, 8))
        self.assertIs(type(bs[0]), bstr)
        self.assertEqual(bs[0], b"\xd0")
        self.assertEqual(us[0], "м")
        self.assertIs(type(us[1:3]), ustr)
        self.assertEqual(bs[2:6], "ир")
        self.assertEqual([type(c) for c in bs][:1], [bstr])
        self.assertEqual(len(list(bs)), 15)
        self.assertEqual(list(uiter(bs)), list("миру мир"))
        self.assertTrue(all(type(c) is ustr for c in uiter(bs)))
        self.assertEqual(list(biter(us)), [bytes([c]) for c in
                                           "миру мир".encode()])
        self.assertTrue(all(type(c) is bstr for c in biter(us)))
        self.assertEqual(ord(b("a")), 97)
        self.assertEqual(ord(u("м")), 1084)
        with self.assertRaises(TypeError):
            ord(b("м"))             # 2 bytes
        self.assertIs(type(bbyte(0xd0)), bstr)
        self.assertEqual(bbyte(0xd0), b"\xd0")
        with self.assertRaises(ValueError):
            bbyte(256)
        self.assertEqual(uchr(0x43c), "м")
        self.assertIs(type(uchr(65)), ustr)

    def test_positions(self):
        # bstr: byte positions; ustr: character positions
        bs, us = b("миру мир"), u("миру мир")
        self.assertEqual((bs.find("ир"), us.find("ир")), (2, 1))
        self.assertEqual((bs.rfind("ир"), us.rfind("ир")), (11, 6))
        self.assertEqual((bs.count("ир", 2, 7), us.count("ир", 2, 7)), (1, 0))
        self.assertEqual(bs.index(u("ир")), 2)
        self.assertTrue(bs.startswith(("α", "мир")))
        self.assertTrue(us.endswith("мир", None, 3))
        self.assertIn("ру", bs)
        self.assertIn(b"\xd1\x80", bs)
        with self.assertRaises(TypeError):
            memoryview(b"x") in bs
        with self.assertRaises(ValueError):
            us.index("α")

    def test_text_methods(self):
        for s in (b("мир"), u("мир")):
            kind = type(s)
            r = s.upper()
            self.assertEqual((r, type(r)), ("МИР", kind))
            self.assertEqual(s.center(7, "ж"), "жжмиржж")
            self.assertEqual(s.zfill(5), "00мир")
            self.assertEqual(s.capitalize(), "Мир")
            self.assertTrue(s.isalpha())
            parts = (s + " труд май").split()
            self.assertEqual(parts, ["мир", "труд", "май"])
            self.assertTrue(all(type(p) is kind for p in parts))
            self.assertEqual(s.partition("и"), ("м", "и", "р"))
            self.assertEqual(s.replace(b"\xd0\xb8", "ы"), "мыр")
            j = kind(", ").join(["a", b"b", u("c"), bytearray(b"d")])
            self.assertEqual((j, type(j)), ("a, b, c, d", kind))
            with self.assertRaises(TypeError):
                s.join([1])
            with self.assertRaises(TypeError):
                s.split(memoryview(b"i"))
            self.assertEqual(s.translate({ord("м"): "б"}), "бир")
            self.assertEqual(kind.maketrans({b"a": u("b")}), {97: "b"})
            self.assertEqual(s.encode(), "мир".encode())
            self.assertIs(type(s.encode()), bytes)
            self.assertEqual(s.encode("cp1251"), "мир".encode("cp1251"))
            self.assertIs(type(s.decode()), ustr)
        self.assertEqual(b(K8).decode("koi8-r"), "мир")
        with self.assertRaises(UnicodeDecodeError):
            b(K8).decode("utf-8")
        self.assertEqual(b(K8).encode(), K8)    # default: the bytes back
        with self.assertRaises(UnicodeEncodeError):
            u(K8).encode("utf-8")
        # bytes-mode translate
        self.assertEqual(b("abc").translate(bytes.maketrans(b"a", b"x")),
                         "xbc")

    def test_operators(self):
        bs, us = b("мир"), u("мир")
        for x, kind in ((bs, bstr), (us, ustr)):
            for y in (" да", " да".encode(), bytearray(" да".encode()),
                      b(" да"), u(" да")):
                r = x + y
                self.assertEqual((r, type(r)), ("мир да", kind))
            r = x * 2
            self.assertEqual((r, type(r)), ("мирмир", kind))
            self.assertIs(type(2 * x), kind)
            with self.assertRaises(TypeError):
                x + memoryview(b"1")
            with self.assertRaises(TypeError):
                x * memoryview(b"1")
        # the left operand's kind: bytes-like -> bstr, str-like -> ustr
        self.assertIs(type(b"x" + us), bstr)
        self.assertIs(type("x" + bs), ustr)
        ba = bytearray(b"x")
        ba2 = ba
        ba2 += bs
        self.assertIs(ba2, ba)                  # bytearray stays itself
        self.assertEqual(ba, b"x" + "мир".encode())

        class R:
            def __radd__(self, other):
                return "radd"

            def __rmod__(self, other):
                return "rmod"
        self.assertEqual((bs + R(), us + R()), ("radd", "radd"))
        self.assertEqual((bs % R(), us % R()), ("rmod", "rmod"))

    def test_percent_and_format(self):
        f = b("привет %s %s %s")
        r = f % ("мир", "труд".encode(), u("май"))
        self.assertEqual((r, type(r)), ("привет мир труд май", bstr))
        r = u("%s|%r") % (b"\xce\xb2", 1)
        self.assertEqual((r, type(r)), ("β|1", ustr))
        self.assertEqual(b("α %s π") % (["β".encode()],), "α ['β'] π")
        self.assertEqual(b("%(x)s") % {"x": b"y"}, "y")
        self.assertEqual(b("%s %(x)s") % {"x": 1}, "{'x': 1} 1")
        self.assertEqual(b("%d%%") % 5, "5%")
        self.assertEqual(b("") % [], "")
        l = [1]
        l.append(l)
        self.assertEqual(b("%s") % (l,), "[1, [...]]")
        with self.assertRaises(TypeError):
            b("%s %s") % 1
        self.assertEqual(b("{} {x}").format(b"a", x=u("b")), "a b")
        self.assertIs(type(u("{}").format(1)), ustr)
        self.assertEqual(b("{0[0]}").format([b"q"]), "q")
        self.assertEqual(u("{x}").format_map({"x": b"z"}), "z")
        # the plain types' own % keeps their kind
        self.assertIs(type(b"hello %s" % b("мир")), bstr)
        self.assertIs(type("hello %s" % u("мир")), ustr)
        self.assertEqual("hello %s" % b("мир"), "hello мир")
        self.assertIs(type(b"hello %s" % u("мир")), bytes)

    def test_subclass(self):
        class MyB(bstr):
            pass

        class MyU(ustr):
            def __str__(self):
                return "αβγ"
        x = MyB("мир")
        self.assertIs(type(x), MyB)
        self.assertIs(type(bstr(x)), bstr)
        self.assertEqual(b(x), "мир")
        y = MyU("мир")
        self.assertEqual(ustr(y), "αβγ")        # stringified by __str__
        self.assertEqual(u(y), "мир")           # converted: its data

    def test_pickle_copy(self):
        for x in (b("мир"), u("мир"), b(K8), u(K8)):
            for proto in range(pickle.HIGHEST_PROTOCOL + 1):
                y = pickle.loads(pickle.dumps(x, proto))
                self.assertIs(type(y), type(x))
                self.assertEqual(y, x)
            self.assertEqual(copy.copy(x), x)
            self.assertIs(type(copy.deepcopy(x)), type(x))
        # pygolang's pickle format, so that pickles go both ways
        import pickletools
        dumps = lambda x, p: pickletools.optimize(pickle.dumps(x, p))
        self.assertEqual(dumps(b("м"), 0),
                         b"cgolang\n_butf8b\n(V\\u043c\ntR.")
        self.assertEqual(dumps(u("м"), 0),
                         b"cgolang\nustr\n(V\\u043c\ntR.")
        self.assertEqual(dumps(b("м"), 3),
                         b"\x80\x03cgolang\nbstr\nC\x02\xd0\xbc\x85\x81.")
        self.assertEqual(repr(bstr), "<class 'golang.bstr'>")

    def test_error_and_qq(self):
        from golang.gcompat import qq
        e = golang.error("мир")
        self.assertIs(type(e.Error()), ustr)
        self.assertEqual(repr(e), '<golang.error error="мир">')
        for x, q in ((b"\xd0\xbc", '"м"'), ("a\tb", '"a\\tb"'),
                     ([b"x"], '"[\'x\']"'), (1, '"1"')):
            self.assertEqual((qq(x), type(qq(x))), (q, bstr))


class TestBuiltins(unittest.TestCase):

    NAMES = ('go', 'chan', 'select', 'default', 'nilchan', 'func', 'defer',
             'panic', 'recover', 'error', 'b', 'u', 'bstr', 'ustr', 'biter',
             'uiter', 'bbyte', 'uchr', 'gimport')

    def test_all_of_golang_all(self):
        self.assertEqual(set(golang.__all__), set(self.NAMES))
        for name in golang.__all__:
            self.assertIs(getattr(builtins, name), getattr(golang, name),
                          name)

    def run_fresh(self, prog):
        r = subprocess.run([sys.executable, "-c", textwrap.dedent(prog)],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           universal_newlines=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        return r.stdout

    def test_lazy(self):
        # golang is not imported until a builtin of its is used; then the
        # real objects take the stubs' place
        out = self.run_fresh("""\
            import sys, builtins
            print('golang' in sys.modules)
            class E(error): pass
            try:
                raise E('x')
            except error:
                print('caught')
            print('golang' in sys.modules)
            print(isinstance(b('x'), bstr), 'golang' in sys.modules)
            import golang
            print(all(getattr(builtins, n) is getattr(golang, n)
                      for n in golang.__all__))
            """)
        self.assertEqual(out.split(), ["False", "caught", "False", "True",
                                       "True", "True"])

    def test_stub_first_use(self):
        # each builtin works when it is the first one used
        progs = {
            "func": "@func\ndef f():\n    defer(lambda: print('ok'))\nf()",
            "defer-held": "d = defer\nimport golang\n"
                          "@golang.func\ndef f():\n    d(lambda: print('ok'))\n"
                          "f()",
            "recover-held": "r = recover\nimport golang\n@golang.func\n"
                            "def f():\n    def g():\n        print(r())\n"
                            "    golang.defer(g)\n    panic('ok')\nf()",
            "bstr-subclass": "class S(bstr): pass\nprint(type(S('x')).__mro__[1].__name__ == 'bstr' and 'ok')",
            "ustr-isinstance": "print(isinstance(u('x'), ustr) and 'ok')",
            "uchr": "print(uchr(0x6f) + 'k')",
            "gimport": "print(callable(gimport) and 'ok')",
            "pickle-stub": "import pickle, sys\n"
                           "d = pickle.dumps(bbyte)\n"
                           "assert 'golang' not in sys.modules\n"
                           "import golang\n"
                           "print(pickle.loads(d) is golang.bbyte and 'ok')",
            "inspect-stub": "import inspect\n"
                            "print(str(inspect.signature(uchr)) == '(i)' "
                            "and 'b returns' in b.__doc__ and 'ok')",
        }
        for name, prog in progs.items():
            with self.subTest(name):
                self.assertEqual(self.run_fresh(prog), "ok\n")

    def test_gpython_markers(self):
        # what pygolang programs look at to tell they run under gpython
        self.assertIn("[GPython %s]" % golang.__version__, sys.version)
        self.assertRegex(sys.version, r"\[(goroutines|threads)\]$")
        import platform
        self.assertEqual(platform.python_implementation(), "CPython")
        self.assertEqual(platform.python_version(), "%d.%d.%d"
                         % sys.version_info[:3])
        self.assertTrue(os.access(sys._gpy_underlying_executable, os.X_OK))
        # and sys.path is python3's: gpython's modules are found apart
        r = subprocess.run([sys._gpy_underlying_executable, "-c",
                            "import sys; print(sys.path)"],
                           stdout=subprocess.PIPE, universal_newlines=True)
        r2 = subprocess.run([sys.executable, "-c",
                             "import sys; print(sys.path)"],
                            stdout=subprocess.PIPE, universal_newlines=True)
        self.assertEqual(r2.stdout, r.stdout)


if __name__ == "__main__":
    unittest.main()

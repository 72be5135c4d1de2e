# probe.py: prints, as JSON, the interpreter state that command-line options
# and the environment control; test_cli.py runs it under python3 and gpython
# (as a script, through -c, -m, stdin, a directory or a zip) and compares.
import json
import sys


def _documented():
    "docstring kept unless -OO"


def _asserts():
    try:
        assert False, "assert kept"
    except AssertionError:
        return True
    return False


def probe():
    import _imp
    import faulthandler
    import io
    import locale
    import os
    import tracemalloc

    main = sys.modules["__main__"]
    site = sys.modules.get("site")
    return {
        "argv": sys.argv,
        "orig_argv": sys.orig_argv,
        "path0": sys.path[0] if sys.path else None,
        "path": sys.path,
        "name": __name__,
        "main_file": getattr(main, "__file__", None),
        "main_spec": getattr(getattr(main, "__spec__", None), "name", None),
        "flags": repr(sys.flags),
        "warnoptions": sys.warnoptions,
        "xoptions": sys._xoptions,
        "dont_write_bytecode": sys.dont_write_bytecode,
        "debug": __debug__,
        "asserts": _asserts(),
        "doc": _documented.__doc__,
        "site_imported": site is not None,
        "user_site": getattr(site, "ENABLE_USER_SITE", None),
        "prefix": [sys.prefix, sys.exec_prefix, sys.base_prefix],
        "stdout": [sys.stdout.encoding, sys.stdout.errors,
                   sys.stdout.line_buffering, sys.stdout.write_through,
                   type(sys.stdout.buffer).__name__],
        "stderr": [sys.stderr.encoding, sys.stderr.errors],
        "stdin": [sys.stdin.encoding, sys.stdin.errors] if sys.stdin else None,
        "fsencoding": [sys.getfilesystemencoding(),
                       sys.getfilesystemencodeerrors()],
        "preferred": locale.getpreferredencoding(False),
        "lc_ctype_env": os.environ.get("LC_CTYPE"),
        "faulthandler": faulthandler.is_enabled(),
        "tracemalloc": tracemalloc.is_tracing(),
        "int_max_str_digits": sys.get_int_max_str_digits(),
        "check_hash_based_pycs": _imp.check_hash_based_pycs,
        "hash": hash("gpython"),
        "text_encoding": io.text_encoding(None),
        "recursionlimit": sys.getrecursionlimit(),
    }


print(json.dumps(probe(), sort_keys=True))

# test_churn: millions of goroutines through the thread-state and stack
# pools, each setting ContextVars, a decimal context, an exception being
# handled and a threading.local: every new goroutine starts clean and
# memory stays flat. Runs under gpython (GPYTHON_CHURN=N sets the count;
# 5,000,000 by default, 200,000 in the sanitizer build).
import builtins
import contextvars
import decimal
import os
import sys
import threading
import unittest

if not hasattr(builtins, "go"):
    sys.exit("test_churn.py must run under gpython")

DEFAULT = 200000 if os.environ.get("GPY_SANITIZE") == "1" else 5000000
TOTAL = int(os.environ.get("GPYTHON_CHURN", DEFAULT))
BATCH = 2000

var = contextvars.ContextVar("var")
local = threading.local()


def rss_mib():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096 / 2**20


class ChurnTest(unittest.TestCase):

    def test_churn(self):
        dirty = [0]
        done = chan(BATCH)

        def body(i):
            ctx = decimal.getcontext()
            if (var.get(None) is not None or ctx.prec != 28 or
                    sys.exc_info()[0] is not None or
                    getattr(local, "x", None) is not None):
                dirty[0] += 1
            var.set(i)
            ctx.prec = 5 + i % 20
            local.x = i
            try:
                raise ValueError(i)
            except ValueError:
                if var.get() != i:
                    dirty[0] += 1
                done.send(None)
                # ends with the exception still being handled

        mid = None
        for start in range(0, TOTAL, BATCH):
            for i in range(start, start + BATCH):
                go(body, i)
            for _ in range(BATCH):
                done.recv()
            if mid is None and start >= TOTAL // 10:
                mid = rss_mib()
        self.assertEqual(dirty[0], 0)
        if os.environ.get("GPY_SANITIZE") != "1":
            # (ASan's quarantine holds freed memory: RSS says nothing there)
            self.assertLess(rss_mib() - mid, 16,
                            "memory grew while goroutines came and went")


if __name__ == "__main__":
    unittest.main()

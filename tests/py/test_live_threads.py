# test_live_threads: faulthandler and sys._current_frames() show exactly the
# live goroutines (as python3 shows live threads), however many goroutines
# have come and gone through the thread-state pool. Runs under gpython.
import builtins
import faulthandler
import re
import sys
import tempfile
import threading
import time
import unittest

if not hasattr(builtins, "go"):
    sys.exit("test_live_threads.py must run under gpython")


def churn(n):
    """n goroutines and n/10 threads alive at once, then all ended: their
    thread states wait in the pool."""
    gate = chan()
    done = chan(n)

    def g():
        gate.recv()
        done.send(None)
    for _ in range(n):
        go(g)
    threads = [threading.Thread(target=gate.recv) for _ in range(n // 10)]
    for t in threads:
        t.start()
    time.sleep(0.01)
    gate.close()
    for _ in range(n):
        done.recv()
    for t in threads:
        t.join()


def dump():
    with tempfile.TemporaryFile("w+") as f:
        faulthandler.dump_traceback(f, all_threads=True)
        f.seek(0)
        return f.read()


class LiveTest(unittest.TestCase):

    def test_dump_lists_only_live(self):
        churn(500)
        stop = chan()

        def blocked_in_python(i):
            stop.recv()
        for i in range(5):
            go(blocked_in_python, i)
        time.sleep(0.01)
        out = dump()
        headers = re.findall(r"^(Thread|Current thread) 0x", out, re.M)
        self.assertEqual(len(headers), 6, out)
        self.assertNotIn("<no Python frame>", out)
        self.assertEqual(out.count("in blocked_in_python"), 5, out)
        self.assertIn("in test_dump_lists_only_live", out)
        stop.close()

    def test_current_frames(self):
        churn(300)
        stop = chan()
        started = chan(3)

        def parked():
            started.send(None)
            stop.recv()
        ids = set()
        for _ in range(3):
            t = threading.Thread(target=parked)
            t.start()
            ids.add(t.ident)
        for _ in range(3):
            started.recv()
        frames = sys._current_frames()
        self.assertEqual(set(frames), ids | {threading.get_ident()})
        for i in ids:
            self.assertEqual(frames[i].f_code.co_name, "parked")
        stop.close()

    def test_preemption_monitor_not_listed(self):
        # A goroutine computing while another waits on a timer starts the
        # monitor thread: it must not show up as a thread. The waiter stays
        # alive (parked on `stop`) so the listing does not depend on whether
        # a loaded machine has resumed it yet.
        # The main goroutine computes until the sleeper has woken: only
        # preemption (the monitor) lets it run.
        stop = chan()
        asleep = chan()
        woke = []

        def sleeper():
            asleep.close()
            time.sleep(0.05)
            woke.append(True)
            stop.recv()
        go(sleeper)
        asleep.recv()
        t0 = time.monotonic()
        while not woke and time.monotonic() - t0 < 20:
            pass
        self.assertTrue(woke, "the sleeper was never preempted in")
        out = dump()
        stop.close()
        self.assertEqual(sorted(re.findall(r"^(Thread|Current thread) 0x",
                                           out, re.M)),
                         ["Current thread", "Thread"], out)
        self.assertNotIn("<no Python frame>", out)
        self.assertEqual(out.count("in sleeper"), 1, out)

if __name__ == "__main__":
    unittest.main()

# test_preempt_audit: preemption of a computing goroutine raises no audit
# event, keeps working under an audit hook that forbids sys.settrace, and
# the program's own tracer and profiler see no foreign events. Runs under
# gpython; each case in a child (audit hooks cannot be removed).
import builtins
import subprocess
import sys
import textwrap
import unittest

if not hasattr(builtins, "go"):
    sys.exit("test_preempt_audit.py must run under gpython")

COMMON = textwrap.dedent("""
    import sys, time
    ticks = [0]
    def ticker():
        while True:
            ticks[0] += 1
            time.sleep(0.005)
    def spin(seconds):
        t = time.monotonic()
        while time.monotonic() - t < seconds:
            pass
    go(ticker)
    time.sleep(0.01)
""")


def run(code):
    r = subprocess.run([sys.executable, "-c", COMMON + textwrap.dedent(code)],
                       capture_output=True, text=True, timeout=60)
    return r


class AuditTest(unittest.TestCase):

    def test_no_audit_events(self):
        r = run("""
            events = []
            sys.addaudithook(lambda name, args: name.startswith("sys.set")
                             and events.append(name))
            spin(0.5)
            print(len(events), ticks[0] > 5)
        """)
        self.assertEqual(r.stdout.split(), ["0", "True"], r.stderr)

    def test_forbidding_hook_keeps_preemption(self):
        r = run("""
            def hook(name, args):
                if name == "sys.settrace":
                    raise RuntimeError("sandbox: no tracing")
            sys.addaudithook(hook)
            spin(0.5)
            print(ticks[0] > 5)
        """)
        self.assertEqual(r.stdout.split(), ["True"], r.stderr)

    def test_program_tracer_sees_only_own(self):
        r = run("""
            seen = set()
            def tracer(frame, event, arg):
                seen.add((frame.f_code.co_name, event))
                return tracer
            prof = set()
            def profiler(frame, event, arg):
                prof.add((frame.f_code.co_name, event))
            sys.settrace(tracer)
            sys.setprofile(profiler)
            def work():
                spin(0.4)
            work()
            sys.settrace(None)
            sys.setprofile(None)
            names = {n for n, e in seen} | {n for n, e in prof}
            print(sorted(names - {"work", "spin", "<module>"}),
                  ticks[0] > 5, sys.gettrace())
            print(sorted(e for n, e in seen if n == "spin"))
        """)
        out = r.stdout.splitlines()
        self.assertEqual(out[0], "[] True None", r.stderr)
        # No opcode events: the program did not ask for them.
        self.assertEqual(out[1], "['call', 'line', 'return']")


if __name__ == "__main__":
    unittest.main()

"""_gpython_leaks: gpython.leaks() — goroutines blocked forever on channels
that no running code can reach any more, as Go 1.26's goroutine leak
profile finds them with its garbage collector.

A goroutine blocked in a channel operation (send, receive, select) is
leaked when none of its channels can be reached from the program's roots:
the modules, and the stacks of every goroutine that is not itself a
candidate (running, runnable, sleeping, waiting on I/O or a lock — such a
goroutine may still use any channel it can reach). A candidate whose channel
is reachable may be woken: it is not leaked, and what its stack reaches
counts as reachable too, until nothing changes. A channel C code holds a
reference to (gpython.h) counts as reachable. A goroutine blocked on nil
channels only, or in select() with no cases, is leaked by definition.
"""
import gc
import sys

import _gpython


def _frames_of(frame):
    # A frame that is executing (every goroutine's innermost ones are)
    # does not show its locals to gc.get_referents: f_locals does.
    while frame is not None:
        yield frame
        yield frame.f_locals
        frame = frame.f_back


def find():
    import gpython
    waits = _gpython._chan_waits()          # {goroutine id: [chan address]}
    me = _gpython.goid()
    waits.pop(me, None)
    frames = sys._current_frames()
    del frames[me]
    frames[me] = sys._getframe()
    # Python chan objects by runtime channel, and how many there are of
    # each (a runtime channel with more references than Python wrappers is
    # held by C code).
    wrappers = {}
    refs = {}
    chan_type = _gpython.chan
    gc.collect()
    for o in gc.get_objects():
        if chan_type is not None and type(o) is chan_type:
            addr, n = _gpython._chan_info(o)[:2]
            if addr:
                wrappers.setdefault(addr, []).append(o)
                refs[addr] = n
    c_held = {a for a, objs in wrappers.items() if refs[a] > len(objs)}
    candidates = set(waits)
    seen = set()
    stack = []

    def mark(o):
        i = id(o)
        if i not in seen:
            seen.add(i)
            stack.append(o)

    def flood():
        while stack:
            o = stack.pop()
            for r in gc.get_referents(o):
                mark(r)

    # Roots: the modules, every goroutine's stack but the candidates' (and
    # but this function's own frame, which holds every chan and frame).
    mark(sys.modules)
    for gid, f in frames.items():
        if gid == me:
            while f is not None and f.f_code.co_filename == __file__:
                f = f.f_back
        if gid not in candidates:
            for fr in _frames_of(f):
                mark(fr)
    flood()
    while True:
        woken = set()
        for gid in candidates:
            for addr in waits[gid]:
                if addr in c_held or any(id(o) in seen
                                         for o in wrappers.get(addr, ())):
                    woken.add(gid)
                    break
        if not woken:
            break
        candidates -= woken
        for gid in woken:
            for fr in _frames_of(frames.get(gid)):
                mark(fr)
        flood()
    return [g for g in gpython.goroutines() if g.id in candidates]


def report(file=None):
    """Print the leaked goroutines (-X gpython.leakreport, at exit)."""
    leaked = find()
    if file is None:
        file = sys.stderr
    if not leaked:
        return
    print("gpython: %d leaked goroutine%s (blocked forever on channels no "
          "running code can reach):" % (len(leaked),
                                        "" if len(leaked) == 1 else "s"),
          file=file)
    for g in leaked:
        print("\ngoroutine %d [%s]:\nname: %s" % (g.id, g.wait_reason,
                                                   g.name), file=file)
        print("Traceback (most recent call last):", file=file)
        for fn, line, name in g.stack:
            print('  File "%s", line %d, in %s' % (fn, line, name),
                  file=file)
        if g.created_by:
            fn, line, name = g.created_by
            print("created by %s in goroutine %d\n  %s:%d"
                  % (name, g.creator, fn, line), file=file)
    file.flush()

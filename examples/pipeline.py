#!/usr/bin/env gpython
# pipeline.py: a fan-out/fan-in pipeline with cancellation and a deadline, as
# in Go's "Pipelines and cancellation": one goroutine walks a directory tree
# and emits file paths, N worker goroutines read the files and hash them (the
# blocking reads park only the worker), a merge stage fans their results in,
# and main collects until done or until the deadline fires — then closes
# `done` so that every stage stops.
#
#   gpython examples/pipeline.py [DIR] [--workers N] [--timeout SECONDS]
import argparse
import hashlib
import os
import sys
import time


def after(seconds):
    """A channel that is closed once seconds have passed (Go's time.After)."""
    ch = chan()

    def fire():
        time.sleep(seconds)
        ch.close()
    go(fire)
    return ch


def walk(done, root):
    """Stage 1: send the path of every regular file under root; close the
    output when the walk ends or done is closed."""
    out = chan()

    def run():
        try:
            for dirpath, dirnames, filenames in os.walk(root):
                dirnames.sort()
                for name in sorted(filenames):
                    path = os.path.join(dirpath, name)
                    if not os.path.isfile(path) or os.path.islink(path):
                        continue
                    idx, _ = select((out.send, path), done.recv)
                    if idx == 1:
                        return      # cancelled
        finally:
            out.close()
    go(run)
    return out


def hasher(done, paths):
    """Stage 2 (one per worker): read each path, send (path, size, sha256)
    or (path, error, None); close the output when paths is exhausted or done
    is closed."""
    out = chan()

    def run():
        try:
            while True:
                idx, (path, ok) = select(paths.recv_, done.recv_)
                if idx == 1 or not ok:
                    return
                h = hashlib.sha256()
                size = 0
                try:
                    with open(path, "rb") as f:
                        while True:
                            block = f.read(1 << 16)
                            if not block:
                                break
                            size += len(block)
                            h.update(block)
                    result = (path, size, h.hexdigest())
                except OSError as e:
                    result = (path, e, None)
                idx, _ = select((out.send, result), done.recv)
                if idx == 1:
                    return
        finally:
            out.close()
    go(run)
    return out


def merge(done, inputs):
    """Stage 3: fan in — forward every value of every input to one output,
    which is closed once all inputs are."""
    out = chan()
    remaining = chan(len(inputs))

    def forward(src):
        try:
            while True:
                v, ok = src.recv_()
                if not ok:
                    return
                idx, _ = select((out.send, v), done.recv)
                if idx == 1:
                    return
        finally:
            remaining.send(None)

    def closer():
        for _ in inputs:
            remaining.recv()
        out.close()
    for src in inputs:
        go(forward, src)
    go(closer)
    return out


def main():
    ap = argparse.ArgumentParser(
        description="hash a directory tree with a pipeline of goroutines")
    ap.add_argument("root", nargs="?", default=os.path.dirname(os.__file__),
                    help="directory to hash (default: the Python stdlib)")
    ap.add_argument("--workers", type=int, default=8)
    ap.add_argument("--timeout", type=float, default=10.0,
                    help="seconds before giving up (default 10)")
    args = ap.parse_args()
    if args.workers < 1:
        ap.error("--workers must be >= 1")

    t0 = time.monotonic()
    done = chan()
    paths = walk(done, args.root)
    results = merge(done, [hasher(done, paths)
                           for _ in range(args.workers)])
    deadline = after(args.timeout)

    files = errors = total = 0
    largest = []
    digests = {}
    timed_out = False
    while True:
        idx, v = select(results.recv_, deadline.recv)
        if idx == 1:
            timed_out = True
            break
        result, ok = v
        if not ok:
            break
        path, size, digest = result
        if digest is None:
            errors += 1
            continue
        files += 1
        total += size
        digests.setdefault(digest, []).append(path)
        largest = sorted(largest + [(size, path)], reverse=True)[:5]
    done.close()    # stop every stage that is still running

    dt = time.monotonic() - t0
    dups = sum(len(p) - 1 for p in digests.values() if len(p) > 1)
    print("%s: %d files, %d bytes, %d duplicate contents, %d errors, "
          "%d workers, %.2fs%s" % (args.root, files, total, dups, errors,
                                   args.workers, dt,
                                   " (timed out)" if timed_out else ""))
    for size, path in largest:
        print("%12d  %s" % (size, os.path.relpath(path, args.root)))
    sys.exit(3 if timed_out else 0)


if __name__ == "__main__":
    main()

# hash2: N goroutines hash 64 MiB each with sha256 at the same time
# (hashlib releases the GIL: work that can run in parallel); wall time.
# usage: hash2.py [N]  -> RESULT wall_ms=...
import hashlib
import sys

from _liveness import together

n = int(sys.argv[1]) if len(sys.argv) > 1 else 2
data = b'\x5a' * (64 << 20)
together(n, lambda: hashlib.sha256(data).digest())

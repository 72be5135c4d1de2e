"""golang.runtime: a little of Go's runtime package for pygolang code."""
import os
import sys

import _gpython

__all__ = ["NumGoroutine", "Gosched", "NumCPU", "GOMAXPROCS", "GOOS",
           "GOARCH", "OS", "ARCH", "CC"]


def _goarch():
    m = os.uname().machine
    return {"x86_64": "amd64", "amd64": "amd64", "i386": "386",
            "i686": "386", "aarch64": "arm64", "arm64": "arm64",
            "armv7l": "arm", "armv6l": "arm", "ppc64le": "ppc64le",
            "s390x": "s390x", "riscv64": "riscv64"}.get(m, m)


def _cc():
    import sysconfig
    cc = (sysconfig.get_config_var("CC") or "cc").split()[0]
    return os.path.basename(cc)


# Go's names: runtime.GOOS "linux", runtime.GOARCH "amd64"; pygolang calls
# them OS and ARCH, and CC the C compiler.
GOOS = OS = {"linux": "linux", "darwin": "darwin", "win32": "windows"}.get(
    sys.platform, sys.platform)
GOARCH = ARCH = _goarch()


def __getattr__(name):
    if name == "CC":
        return _cc()
    raise AttributeError("module 'golang.runtime' has no attribute %r"
                         % (name,))


def NumGoroutine():
    """How many goroutines exist."""
    return _gpython.numgoroutine()


def Gosched():
    """Yield to other goroutines."""
    _gpython.gosched()


def NumCPU():
    """How many CPUs the process may use."""
    return len(os.sched_getaffinity(0))


def GOMAXPROCS(n=0):
    """Goroutines run Python on one OS thread at a time (the GIL): 1.
    Setting it is accepted and changes nothing."""
    return 1

"""_gopath imports python modules by full path in a Go workspace.

    lonet = gimport('lab.nexedi.com/kirr/go123/xnet/lonet')

imports lab.nexedi.com/kirr/go123/xnet/lonet.py, or .../lonet/__init__.py,
from src/ of the first $GOPATH entry (default ~/go) that has it.
"""

import os, sys

_lock = None    # threading.RLock, made on first use: `import golang` must not
                # pull threading in before gpython has set up its goroutine shims


def _gopathv():
    gopath = os.environ.get('GOPATH')
    if gopath is None:
        gopath = os.path.expanduser(os.path.join('~', 'go'))
    return [g for g in gopath.split(os.pathsep) if g]


def gimport(name):
    """gimport imports the python module or package at name under $GOPATH/src."""
    global _lock
    if _lock is None:
        import threading
        _lock = threading.RLock()
    with _lock:
        return _gimport(name)


def _gimport(name):
    import importlib.util

    # The module is registered in sys.modules under golang._gopath with the
    # dots of the path turned into '_', so that Python does not look for
    # parent packages like 'lab.nexedi'.
    modname = 'golang._gopath.' + name.replace('.', '_')
    mod = sys.modules.get(modname)
    if mod is not None:
        return mod

    for g in _gopathv():
        base = os.path.join(g, 'src', *name.split('/'))
        if os.path.exists(base + '.py'):
            spec = importlib.util.spec_from_file_location(modname, base + '.py')
            break
        init = os.path.join(base, '__init__.py')
        if os.path.exists(init):
            spec = importlib.util.spec_from_file_location(
                modname, init, submodule_search_locations=[base])
            break
    else:
        raise ImportError('gopath: no module named %s' % name)

    mod = importlib.util.module_from_spec(spec)
    sys.modules[modname] = mod
    try:
        spec.loader.exec_module(mod)
    except BaseException:
        del sys.modules[modname]
        raise
    return mod

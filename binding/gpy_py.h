/* gpy_py.h: what the launcher calls to put the runtime under CPython. */
#ifndef GPY_PY_H
#define GPY_PY_H

#include <Python.h>

/* gpy_py_preinit makes this thread the scheduler and installs the arena
 * allocator; call before Py_Initialize. Returns 0 or -errno. */
int gpy_py_preinit(void);

/* gpy_py_install installs go/chan/select/default/nilchan as builtins, the
 * scheduler hooks and the exit and fork handlers; call after Py_Initialize
 * with the GIL held. Returns 0 or -1 with an exception set. */
int gpy_py_install(void);

/* PyInit__gpython creates the `_gpython` module (for the inittab). */
PyMODINIT_FUNC PyInit__gpython(void);

#endif

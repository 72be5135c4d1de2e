/* pycheck.c: the one question patches/ asks CPython — has the caller
 * released the GIL? — kept here so no other file of patches/ includes
 * Python.h. */
#include <Python.h>

#include "internal.h"

int
gpy_patch_releases_gil(void)
{
    /* CPython 3.11 keeps one global "thread state holding the GIL". NULL:
     * nobody holds it, so the calling goroutine released it around this
     * call. Non-NULL: either we hold it (a call made with the GIL held
     * must not park: no other goroutine could take the GIL) or another OS
     * thread does, which still means our goroutine released it. On the
     * scheduler thread "we" is the running goroutine's thread state (each
     * goroutine's carries its goroutine id as thread_id) or, before the
     * runtime knows it, one created on this OS thread. (Another thread's
     * state may be freed while we look; the worst outcome is a blocking
     * pass-through.) */
    PyThreadState *ts = _PyThreadState_UncheckedGet();
    if (ts == NULL) {
        return 1;
    }
    gpy_g *g = gpy_g_current();
    if (g && gpy_g_user(g) == ts) {
        return 0;
    }
    return ts->thread_id != PyThread_get_thread_ident();
}

/* errno_ext.c: the C extension module _gpy_handoff_ext, built for
 * tests/py/test_handoff.py. Its calls behave as a careful C extension
 * would, and check what a goroutine moved between OS threads could get
 * wrong: errno read through a pointer taken before the blocking call (what
 * GCC does with `errno` itself), the signal mask, PyGILState's thread
 * state, the OS thread. */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* recv_cached_errno(fd) -> (result, errno, gilstate_ok, mask_same,
 * same_os_thread): one blocking recv of a byte with &errno taken before
 * it, as GCC compiles `errno = 0; r = recv(...); return errno;`. */
static PyObject *
recv_cached_errno(PyObject *self, PyObject *arg)
{
    (void)self;
    int fd = (int)PyLong_AsLong(arg);
    if (fd == -1 && PyErr_Occurred()) {
        return NULL;
    }
    PyThreadState *ts = PyThreadState_Get();
    sigset_t before, after;
    pthread_sigmask(SIG_BLOCK, NULL, &before);
    pthread_t me = pthread_self();
    int *volatile ep = &errno;
    char c;
    ssize_t r;
    Py_BEGIN_ALLOW_THREADS
    *ep = 0;
    r = recv(fd, &c, 1, 0);
    Py_END_ALLOW_THREADS
    int err = *ep;
    pthread_sigmask(SIG_BLOCK, NULL, &after);
    int mask_same = 1;
    for (int s = 1; s < NSIG; s++) {
        if (sigismember(&before, s) != sigismember(&after, s)) {
            mask_same = 0;
        }
    }
    int gil_ok = PyGILState_GetThisThreadState() == ts;
    /* PyGILState_Ensure from here must find this thread state and not
     * deadlock on the GIL we hold. */
    PyGILState_STATE g = PyGILState_Ensure();
    gil_ok = gil_ok && PyThreadState_Get() == ts;
    PyGILState_Release(g);
    return Py_BuildValue("(niiii)", (Py_ssize_t)r, err, gil_ok, mask_same,
                         pthread_equal(me, pthread_self()) != 0);
}

/* cond_wait(ms): wait on a condition variable of the library's own that
 * nobody signals, with the GIL released, as a C library's worker handshake
 * would. Returns pthread_cond_timedwait's result (ETIMEDOUT). */
static PyObject *
cond_wait(PyObject *self, PyObject *arg)
{
    (void)self;
    long ms = PyLong_AsLong(arg);
    if (ms == -1 && PyErr_Occurred()) {
        return NULL;
    }
    static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
    static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
    int r = 0;
    Py_BEGIN_ALLOW_THREADS
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += ms / 1000;
    until.tv_nsec += (ms % 1000) * 1000000;
    if (until.tv_nsec >= 1000000000) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000;
    }
    pthread_mutex_lock(&mu);
    while (r == 0) {
        r = pthread_cond_timedwait(&cv, &mu, &until);
    }
    pthread_mutex_unlock(&mu);
    Py_END_ALLOW_THREADS
    return PyLong_FromLong(r);
}

/* spin_ms: compute for ms milliseconds (a long hash or compression
 * stands in); no GIL. */
static unsigned long
spin_ms(long ms)
{
    volatile unsigned long x = 0;
    struct timespec t0, t;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    do {
        for (int i = 0; i < 100000; i++) {
            x += (unsigned long)i;
        }
        clock_gettime(CLOCK_MONOTONIC, &t);
    } while ((t.tv_sec - t0.tv_sec) * 1000 +
                 (t.tv_nsec - t0.tv_nsec) / 1000000 <
             ms);
    return x;
}

/* spin(ms): compute in C without the GIL for ms milliseconds. */
static PyObject *
spin(PyObject *self, PyObject *arg)
{
    (void)self;
    long ms = PyLong_AsLong(arg);
    if (ms == -1 && PyErr_Occurred()) {
        return NULL;
    }
    unsigned long x;
    Py_BEGIN_ALLOW_THREADS
    x = spin_ms(ms);
    Py_END_ALLOW_THREADS
    return PyLong_FromUnsignedLong(x);
}

/* write_then_spin(fd, ms): in one GIL-released region, a write that
 * completes at once (an interposed call that does not park), then ms of
 * computing -- as a library writes, then fsyncs or compresses. */
static PyObject *
write_then_spin(PyObject *self, PyObject *args)
{
    (void)self;
    int fd;
    long ms;
    if (!PyArg_ParseTuple(args, "il", &fd, &ms)) {
        return NULL;
    }
    ssize_t w;
    Py_BEGIN_ALLOW_THREADS
    w = write(fd, "x", 1);
    spin_ms(ms);
    Py_END_ALLOW_THREADS
    return PyLong_FromSsize_t(w);
}

static PyMethodDef methods[] = {
    {"recv_cached_errno", recv_cached_errno, METH_O, NULL},
    {"cond_wait", cond_wait, METH_O, NULL},
    {"spin", spin, METH_O, NULL},
    {"write_then_spin", write_then_spin, METH_VARARGS, NULL},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef def = {
    PyModuleDef_HEAD_INIT,
    "_gpy_handoff_ext",
    NULL,
    0,
    methods,
    NULL,
    NULL,
    NULL,
    NULL,
};

PyMODINIT_FUNC
PyInit__gpy_handoff_ext(void)
{
    return PyModule_Create(&def);
}

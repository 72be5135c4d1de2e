/* gpyext.c: a small extension module written against gpython's C API.
 *
 *   counter(n, cap=0) -> chan[C.int]  a C goroutine sends 0 .. n-1 on a
 *                                     new channel, then closes it
 *   total(ch) -> int                  sums the C ints received from ch
 *                                     (e.g. a chan(dtype='C.int') Python
 *                                     code feeds) until it is closed
 *   pingpong(n) -> float              seconds two C goroutines take to
 *                                     pass an int back and forth n times
 *
 * Build it with CMake or setup.py (see README.md); run it with gpython.
 */
#define PY_SSIZE_T_CLEAN
#include <gpython/gpython.h>

#include <stdlib.h>
#include <time.h>

typedef struct {
    gpy_chan *ch;
    int n;
} count_job;

/* A C goroutine: no Python, no GIL. It owns one reference to job->ch. */
static void
count_to(void *arg)
{
    count_job *job = arg;
    for (int i = 0; i < job->n; i++) {
        if (gpy_chan_send(job->ch, &i) < 0) {
            break; /* somebody closed it: stop */
        }
    }
    gpy_chan_close(job->ch);
    gpy_chan_decref(job->ch);
    free(job);
}

static PyObject *
counter(PyObject *self, PyObject *args)
{
    int n;
    Py_ssize_t cap = 0;
    (void)self;
    if (!PyArg_ParseTuple(args, "i|n:counter", &n, &cap)) {
        return NULL;
    }
    if (cap < 0) {
        PyErr_SetString(PyExc_ValueError, "counter: cap < 0");
        return NULL;
    }
    gpy_chan *ch = gpy_chan_new(sizeof(int), (size_t)cap);
    if (!ch) {
        return PyErr_NoMemory();
    }
    PyObject *py = gpy_chan_wrap(ch, "C.int"); /* takes its own reference */
    count_job *job = malloc(sizeof(*job));
    if (!py || !job) {
        free(job);
        gpy_chan_decref(ch);
        Py_XDECREF(py);
        return py ? PyErr_NoMemory() : NULL;
    }
    job->ch = ch; /* our reference goes to the goroutine */
    job->n = n;
    int r = gpy_go(count_to, job);
    if (r < 0) {
        free(job);
        gpy_chan_decref(ch);
        Py_DECREF(py);
        errno = -r;
        return PyErr_SetFromErrno(PyExc_OSError);
    }
    return py;
}

static PyObject *
total(PyObject *self, PyObject *arg)
{
    (void)self;
    gpy_chan *ch = gpy_chan_unwrap(arg, sizeof(int));
    if (!ch && PyErr_Occurred()) {
        return NULL;
    }
    long long sum = 0;
    int v;
    gpy_chan_incref(ch); /* arg's channel stays alive while we wait */
    Py_BEGIN_ALLOW_THREADS
    while (gpy_chan_recv(ch, &v) == 1) {
        sum += v;
    }
    Py_END_ALLOW_THREADS
    gpy_chan_decref(ch);
    return PyLong_FromLongLong(sum);
}

typedef struct {
    gpy_chan *ping, *pong, *done;
    int n;
} pp_job;

static void
ponger(void *arg)
{
    pp_job *j = arg;
    int v;
    while (gpy_chan_recv(j->ping, &v) == 1) {
        v++;
        gpy_chan_send(j->pong, &v);
    }
    gpy_chan_close(j->done);
}

static void
pinger(void *arg)
{
    pp_job *j = arg;
    int v = 0;
    for (int i = 0; i < j->n; i++) {
        gpy_chan_send(j->ping, &v);
        gpy_chan_recv(j->pong, &v);
    }
    gpy_chan_close(j->ping);
}

static PyObject *
pingpong(PyObject *self, PyObject *args)
{
    pp_job j = {0};
    (void)self;
    if (!PyArg_ParseTuple(args, "i:pingpong", &j.n)) {
        return NULL;
    }
    j.ping = gpy_chan_new(sizeof(int), 0);
    j.pong = gpy_chan_new(sizeof(int), 0);
    j.done = gpy_chan_new(0, 0);
    struct timespec t0, t1;
    int r = -ENOMEM;
    if (j.ping && j.pong && j.done) {
        clock_gettime(CLOCK_MONOTONIC, &t0);
        int started = (r = gpy_go(ponger, &j)) == 0;
        if (started && (r = gpy_go(pinger, &j)) < 0) {
            gpy_chan_close(j.ping); /* the ponger ends */
        }
        if (started) {
            Py_BEGIN_ALLOW_THREADS
            gpy_chan_recv(j.done, NULL);
            Py_END_ALLOW_THREADS
        }
        clock_gettime(CLOCK_MONOTONIC, &t1);
    }
    gpy_chan_decref(j.ping);
    gpy_chan_decref(j.pong);
    gpy_chan_decref(j.done);
    if (r < 0) {
        errno = -r;
        return PyErr_SetFromErrno(PyExc_OSError);
    }
    return PyFloat_FromDouble((double)(t1.tv_sec - t0.tv_sec) +
                              (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
}

static PyMethodDef methods[] = {
    {"counter", counter, METH_VARARGS,
     "counter(n, cap=0) -> chan[C.int] fed 0 .. n-1 by a C goroutine"},
    {"total", total, METH_O, "total(ch) -> the sum of ch's C ints"},
    {"pingpong", pingpong, METH_VARARGS,
     "pingpong(n) -> seconds for n round trips between two C goroutines"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT,
    "gpyext",
    "gpython C API example",
    -1,
    methods,
    NULL,
    NULL,
    NULL,
    NULL,
};

PyMODINIT_FUNC
PyInit_gpyext(void)
{
    if (gpython_import() < 0) {
        return NULL;
    }
    return PyModule_Create(&module);
}

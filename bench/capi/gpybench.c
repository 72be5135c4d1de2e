/* gpybench.c: the C API benchmarks' extension (bench/run.py builds it
 * against include/gpython/gpython.h).
 *
 *   pingpong(n) -> seconds  n round trips of a C int between two C
 *                           goroutines over two unbuffered channels (Go's
 *                           pingpong in bench/go, in C)
 *   feed(n) -> chan[C.int]  a C goroutine sends 0 .. n-1 unbuffered, then
 *                           closes (a C producer for a Python consumer)
 */
#define PY_SSIZE_T_CLEAN
#include <gpython/gpython.h>

#include <stdlib.h>
#include <time.h>

typedef struct {
    gpy_chan *ping, *pong, *done;
    long n;
    int wrong;
} pp;

static void
player(void *arg)
{
    pp *p = arg;
    int v;
    while (gpy_chan_recv(p->ping, &v) == 1) {
        v++;
        gpy_chan_send(p->pong, &v);
    }
    gpy_chan_close(p->done);
}

static void
driver(void *arg)
{
    pp *p = arg;
    for (long i = 0; i < p->n; i++) {
        int v = (int)i, r;
        gpy_chan_send(p->ping, &v);
        gpy_chan_recv(p->pong, &r);
        p->wrong |= r != v + 1;
    }
    gpy_chan_close(p->ping);
}

static PyObject *
pingpong(PyObject *self, PyObject *args)
{
    pp p = {0};
    (void)self;
    if (!PyArg_ParseTuple(args, "l", &p.n)) {
        return NULL;
    }
    p.ping = gpy_chan_new(sizeof(int), 0);
    p.pong = gpy_chan_new(sizeof(int), 0);
    p.done = gpy_chan_new(0, 0);
    if (!p.ping || !p.pong || !p.done) {
        return PyErr_NoMemory();
    }
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    if (gpy_go(player, &p) < 0 || gpy_go(driver, &p) < 0) {
        return PyErr_NoMemory();
    }
    Py_BEGIN_ALLOW_THREADS
    gpy_chan_recv(p.done, NULL);
    Py_END_ALLOW_THREADS
    clock_gettime(CLOCK_MONOTONIC, &t1);
    gpy_chan_decref(p.ping);
    gpy_chan_decref(p.pong);
    gpy_chan_decref(p.done);
    if (p.wrong) {
        PyErr_SetString(PyExc_AssertionError, "pingpong: wrong reply");
        return NULL;
    }
    return PyFloat_FromDouble((double)(t1.tv_sec - t0.tv_sec) +
                              (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
}

typedef struct {
    gpy_chan *ch;
    long n;
} feed_job;

static void
producer(void *arg)
{
    feed_job *j = arg;
    for (long i = 0; i < j->n; i++) {
        int v = (int)i;
        if (gpy_chan_send(j->ch, &v) < 0) {
            break;
        }
    }
    gpy_chan_close(j->ch);
    gpy_chan_decref(j->ch);
    free(j);
}

static PyObject *
feed(PyObject *self, PyObject *args)
{
    feed_job *j = malloc(sizeof(*j));
    (void)self;
    if (!j) {
        return PyErr_NoMemory();
    }
    if (!PyArg_ParseTuple(args, "l", &j->n)) {
        free(j);
        return NULL;
    }
    j->ch = gpy_chan_new(sizeof(int), 0);
    PyObject *py = j->ch ? gpy_chan_wrap(j->ch, "C.int") : NULL;
    if (!py || gpy_go(producer, j) < 0) {
        gpy_chan_decref(j->ch);
        free(j);
        Py_XDECREF(py);
        return PyErr_Occurred() ? NULL : PyErr_NoMemory();
    }
    return py;
}

static PyMethodDef methods[] = {
    {"pingpong", pingpong, METH_VARARGS, NULL},
    {"feed", feed, METH_VARARGS, NULL},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT,
    "gpybench",
    NULL,
    -1,
    methods,
    NULL,
    NULL,
    NULL,
    NULL,
};

PyMODINIT_FUNC
PyInit_gpybench(void)
{
    if (gpython_import() < 0) {
        return NULL;
    }
    return PyModule_Create(&module);
}

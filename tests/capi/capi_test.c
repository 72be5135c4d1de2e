/* capi_test.c: an extension module built out of tree against an installed
 * gpython (pkg-config gpython), exercising every function of the C API
 * for tests/capi/test_capi.py. */
#define PY_SSIZE_T_CLEAN
#include <gpython/gpython.h>

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    gpy_chan *ch;
    int n;
    int step;
} feed_job;

/* A C goroutine sending start, start+step, ... n values, then closing;
 * it owns a reference to ch. */
static void
feed(void *arg)
{
    feed_job *j = arg;
    for (int i = 0; i < j->n; i++) {
        int v = i * j->step;
        if (gpy_chan_send(j->ch, &v) < 0) {
            break;
        }
    }
    gpy_chan_close(j->ch);
    gpy_chan_decref(j->ch);
    free(j);
}

static feed_job *
new_job(gpy_chan *ch, int n, int step)
{
    feed_job *j = malloc(sizeof(*j));
    if (j) {
        gpy_chan_incref(ch);
        j->ch = ch;
        j->n = n;
        j->step = step;
    }
    return j;
}

static PyObject *
err(int r)
{
    errno = -r;
    return PyErr_SetFromErrno(PyExc_OSError);
}

/* c_feed(n, cap, step) -> chan[C.int] fed by a C goroutine. */
static PyObject *
c_feed(PyObject *self, PyObject *args)
{
    int n, step = 1;
    Py_ssize_t cap = 0;
    (void)self;
    if (!PyArg_ParseTuple(args, "i|ni", &n, &cap, &step)) {
        return NULL;
    }
    gpy_chan *ch = gpy_chan_new(sizeof(int), (size_t)cap);
    if (!ch) {
        return PyErr_NoMemory();
    }
    PyObject *py = gpy_chan_wrap(ch, "C.int");
    feed_job *j = py ? new_job(ch, n, step) : NULL;
    gpy_chan_decref(ch); /* py and the goroutine hold theirs */
    if (!j) {
        Py_XDECREF(py);
        return py ? PyErr_NoMemory() : NULL;
    }
    int r = gpy_go(feed, j);
    if (r < 0) {
        gpy_chan_decref(j->ch);
        free(j);
        Py_DECREF(py);
        return err(r);
    }
    return py;
}

static void *
feed_thread(void *arg)
{
    feed(arg);
    return NULL;
}

/* os_thread_feed(ch, n): an OS thread (not a goroutine) sends 0..n-1 on
 * ch (a chan[C.int]) and closes it. */
static PyObject *
os_thread_feed(PyObject *self, PyObject *args)
{
    PyObject *o;
    int n;
    (void)self;
    if (!PyArg_ParseTuple(args, "Oi", &o, &n)) {
        return NULL;
    }
    gpy_chan *ch = gpy_chan_unwrap(o, sizeof(int));
    if (!ch) {
        return PyErr_Occurred() ? NULL : err(-EINVAL);
    }
    feed_job *j = new_job(ch, n, 1);
    pthread_t t;
    if (!j || pthread_create(&t, NULL, feed_thread, j) != 0) {
        if (j) {
            gpy_chan_decref(j->ch);
        }
        free(j);
        return err(-EAGAIN);
    }
    pthread_detach(t);
    Py_RETURN_NONE;
}

typedef struct {
    gpy_chan *ch, *done;
    long long sum;
    int in_goroutine;
} sum_job;

static void *
sum_thread(void *arg)
{
    sum_job *j = arg;
    int v;
    j->in_goroutine = gpy_in_goroutine();
    while (gpy_chan_recv(j->ch, &v) == 1) {
        j->sum += v;
    }
    gpy_chan_close(j->done);
    return NULL;
}

/* os_thread_sum(ch) -> (sum, in_goroutine): an OS thread receives from
 * ch until closed; we wait for it on a channel (pthread_join would block
 * every goroutine: it does not park). */
static PyObject *
os_thread_sum(PyObject *self, PyObject *o)
{
    (void)self;
    sum_job j = {gpy_chan_unwrap(o, sizeof(int)), NULL, 0, -1};
    if (!j.ch) {
        return PyErr_Occurred() ? NULL : err(-EINVAL);
    }
    if (!(j.done = gpy_chan_new(0, 0))) {
        return PyErr_NoMemory();
    }
    pthread_t t;
    if (pthread_create(&t, NULL, sum_thread, &j) != 0) {
        gpy_chan_decref(j.done);
        return err(-EAGAIN);
    }
    gpy_chan_recv(j.done, NULL); /* GIL held: released while parked */
    Py_BEGIN_ALLOW_THREADS
    pthread_join(t, NULL); /* it has closed done: ends at once */
    Py_END_ALLOW_THREADS
    gpy_chan_decref(j.done);
    return Py_BuildValue("Li", j.sum, j.in_goroutine);
}

/* c_sum(ch, gil) -> sum of chan[C.int] ch until closed, received in C —
 * with the GIL held (gil true: the API releases it while waiting) or not. */
static PyObject *
c_sum(PyObject *self, PyObject *args)
{
    PyObject *o;
    int gil;
    (void)self;
    if (!PyArg_ParseTuple(args, "Op", &o, &gil)) {
        return NULL;
    }
    gpy_chan *ch = gpy_chan_unwrap(o, sizeof(int));
    if (!ch) {
        return PyErr_Occurred() ? NULL : err(-EINVAL);
    }
    long long sum = 0;
    int v = -1, r;
    if (gil) {
        while ((r = gpy_chan_recv(ch, &v)) == 1) {
            sum += v;
        }
    } else {
        Py_BEGIN_ALLOW_THREADS
        while ((r = gpy_chan_recv(ch, &v)) == 1) {
            sum += v;
        }
        Py_END_ALLOW_THREADS
    }
    /* A drained closed channel zeroes the element. */
    return Py_BuildValue("Lii", sum, r, v);
}

/* c_send(ch, v, gil) -> gpy_chan_send's result, sent from C. */
static PyObject *
c_send(PyObject *self, PyObject *args)
{
    PyObject *o;
    int v, gil, r;
    (void)self;
    if (!PyArg_ParseTuple(args, "Oip", &o, &v, &gil)) {
        return NULL;
    }
    gpy_chan *ch = gpy_chan_unwrap(o, sizeof(int));
    if (!ch && PyErr_Occurred()) {
        return NULL;
    }
    if (gil) {
        r = gpy_chan_send(ch, &v);
    } else {
        Py_BEGIN_ALLOW_THREADS
        r = gpy_chan_send(ch, &v);
        Py_END_ALLOW_THREADS
    }
    return PyLong_FromLong(r);
}

/* c_close(ch) -> gpy_chan_close's result. */
static PyObject *
c_close(PyObject *self, PyObject *o)
{
    (void)self;
    gpy_chan *ch = gpy_chan_unwrap(o, sizeof(int));
    if (!ch && PyErr_Occurred()) {
        return NULL;
    }
    return PyLong_FromLong(gpy_chan_close(ch));
}

/* c_select(recv_ch, send_ch, v, nonblock) -> (index, ok, received): a
 * select from C over a receive and a send (either may be a nil chan). */
static PyObject *
c_select(PyObject *self, PyObject *args)
{
    PyObject *ro, *so;
    int v, nonblock;
    (void)self;
    if (!PyArg_ParseTuple(args, "OOip", &ro, &so, &v, &nonblock)) {
        return NULL;
    }
    gpy_chan *rc = gpy_chan_unwrap(ro, sizeof(int));
    if (!rc && PyErr_Occurred()) {
        return NULL;
    }
    gpy_chan *sc = gpy_chan_unwrap(so, sizeof(int));
    if (!sc && PyErr_Occurred()) {
        return NULL;
    }
    int got = -7, ok = -7, r;
    gpy_case cases[2] = {gpy_case_recv(rc, &got, &ok), gpy_case_send(sc, &v)};
    Py_BEGIN_ALLOW_THREADS
    r = gpy_select(cases, 2, nonblock ? GPY_SELECT_NONBLOCK : 0);
    Py_END_ALLOW_THREADS
    return Py_BuildValue("iii", r, ok, got);
}

/* close_closed() -> (first close, second close, send after, close NULL,
 * recv after (r, elem)) on a channel made and freed here. */
static PyObject *
close_semantics(PyObject *self, PyObject *unused)
{
    (void)self;
    (void)unused;
    gpy_chan *ch = gpy_chan_new(sizeof(int), 1);
    if (!ch) {
        return PyErr_NoMemory();
    }
    int v = 5, a, b, c, d, e, got = -1;
    a = gpy_chan_send(ch, &v); /* buffered */
    b = gpy_chan_close(ch);
    c = gpy_chan_close(ch);
    d = gpy_chan_send(ch, &v);
    e = gpy_chan_recv(ch, &got); /* the buffered 5 */
    int f = gpy_chan_recv(ch, &got), zero = got;
    int g = gpy_chan_close(NULL);
    gpy_chan_decref(ch);
    return Py_BuildValue("iiiiiiii", a, b, c, d, e, f, zero, g);
}

typedef struct {
    int a;
    double b;
    char tag[4];
} point;

/* struct_feed(n) -> chan[C.bytes:sizeof(point)] carrying points. */
static void
point_feed(void *arg)
{
    gpy_chan *ch = arg;
    for (int i = 0; i < 3; i++) {
        point p;
        memset(&p, 0, sizeof(p));
        p.a = i;
        p.b = i / 2.0;
        memcpy(p.tag, "pt", 3);
        gpy_chan_send(ch, &p);
    }
    gpy_chan_close(ch);
    gpy_chan_decref(ch);
}

static PyObject *
struct_feed(PyObject *self, PyObject *unused)
{
    (void)self;
    (void)unused;
    char dtype[32];
    snprintf(dtype, sizeof(dtype), "C.bytes:%zu", sizeof(point));
    gpy_chan *ch = gpy_chan_new(sizeof(point), 0);
    if (!ch) {
        return PyErr_NoMemory();
    }
    PyObject *py = gpy_chan_wrap(ch, dtype);
    if (!py || gpy_go(point_feed, ch) < 0) { /* our reference goes along */
        gpy_chan_decref(ch);
        return py ? err(-ENOMEM) : NULL;
    }
    return py;
}

/* wrap(elemsize, dtype) -> a wrapped new channel (or the exception). */
static PyObject *
wrap(PyObject *self, PyObject *args)
{
    Py_ssize_t size;
    const char *dtype;
    int nil = 0;
    (void)self;
    if (!PyArg_ParseTuple(args, "ns|p", &size, &dtype, &nil)) {
        return NULL;
    }
    if (nil) {
        return gpy_chan_wrap(NULL, dtype);
    }
    gpy_chan *ch = gpy_chan_new((size_t)size, 2);
    if (!ch) {
        return PyErr_NoMemory();
    }
    PyObject *py = gpy_chan_wrap(ch, dtype);
    gpy_chan_decref(ch);
    return py;
}

/* unwrap(o, elemsize) -> (len, cap, elemsize), None for a nil chan. */
static PyObject *
unwrap(PyObject *self, PyObject *args)
{
    PyObject *o;
    Py_ssize_t size;
    (void)self;
    if (!PyArg_ParseTuple(args, "On", &o, &size)) {
        return NULL;
    }
    gpy_chan *ch = gpy_chan_unwrap(o, (size_t)size);
    if (!ch) {
        if (PyErr_Occurred()) {
            return NULL;
        }
        Py_RETURN_NONE;
    }
    return Py_BuildValue("nnn", (Py_ssize_t)gpy_chan_len(ch),
                         (Py_ssize_t)gpy_chan_cap(ch),
                         (Py_ssize_t)gpy_chan_elemsize(ch));
}

typedef struct {
    gpy_chan *done;
    int64_t ns;
} sleep_job;

static void
sleeper(void *arg)
{
    sleep_job *j = arg;
    gpy_sleep_ns(j->ns);
    uint64_t id = gpy_goid();
    int in = gpy_in_goroutine();
    int v = (int)(id > 1) * 10 + in; /* 11 for a goroutine other than main */
    gpy_chan_send(j->done, &v);
    gpy_chan_close(j->done);
    gpy_chan_decref(j->done);
    free(j);
}

/* c_sleep_go(ns) -> chan[C.int] that gets 11 once a C goroutine has slept
 * ns (parking only itself) and checked it is a goroutine. */
static PyObject *
c_sleep_go(PyObject *self, PyObject *args)
{
    long long ns;
    (void)self;
    if (!PyArg_ParseTuple(args, "L", &ns)) {
        return NULL;
    }
    sleep_job *j = malloc(sizeof(*j));
    gpy_chan *ch = gpy_chan_new(sizeof(int), 1);
    PyObject *py = ch ? gpy_chan_wrap(ch, "C.int") : NULL;
    if (!j || !py) {
        free(j);
        gpy_chan_decref(ch);
        Py_XDECREF(py);
        return PyErr_Occurred() ? NULL : PyErr_NoMemory();
    }
    j->done = ch;
    j->ns = ns;
    if (gpy_go(sleeper, j) < 0) {
        free(j);
        gpy_chan_decref(ch);
        Py_DECREF(py);
        return err(-ENOMEM);
    }
    return py;
}

/* c_sleep(ns): gpy_sleep_ns with the GIL held (the API releases it). */
static PyObject *
c_sleep(PyObject *self, PyObject *args)
{
    long long ns;
    (void)self;
    if (!PyArg_ParseTuple(args, "L", &ns)) {
        return NULL;
    }
    return PyLong_FromLong(gpy_sleep_ns(ns));
}

static PyObject *
ids(PyObject *self, PyObject *unused)
{
    (void)self;
    (void)unused;
    return Py_BuildValue("Ki", (unsigned long long)gpy_goid(),
                         gpy_in_goroutine());
}

/* use_after_free() -> what the API returns for a freed channel. */
static PyObject *
use_after_free(PyObject *self, PyObject *unused)
{
    (void)self;
    (void)unused;
    gpy_chan *ch = gpy_chan_new(sizeof(int), 1);
    if (!ch) {
        return PyErr_NoMemory();
    }
    gpy_chan_decref(ch);
    int v = 1;
    return Py_BuildValue("ii", gpy_chan_send(ch, &v), gpy_chan_close(ch));
}

typedef struct {
    gpy_chan *ch, *done;
    int n;
} hammer_job;

static void
hammer(void *arg)
{
    hammer_job *j = arg;
    for (int i = 1; i <= j->n; i++) {
        gpy_chan_send(j->ch, &i);
    }
    int one = 1;
    gpy_chan_send(j->done, &one);
}

static void *
hammer_thread(void *arg)
{
    hammer(arg);
    return NULL;
}

/* hammer(ch, done, goroutines, threads, n): each of `goroutines` C
 * goroutines and `threads` OS threads sends 1..n on ch, then 1 on done. */
static PyObject *
hammer_start(PyObject *self, PyObject *args)
{
    PyObject *co, *dn;
    int ng, nt, n;
    (void)self;
    if (!PyArg_ParseTuple(args, "OOiii", &co, &dn, &ng, &nt, &n)) {
        return NULL;
    }
    static hammer_job j; /* the channels outlive the test (Python holds) */
    j.ch = gpy_chan_unwrap(co, sizeof(int));
    j.done = j.ch ? gpy_chan_unwrap(dn, sizeof(int)) : NULL;
    if (!j.ch || !j.done) {
        return PyErr_Occurred() ? NULL : err(-EINVAL);
    }
    j.n = n;
    for (int i = 0; i < ng; i++) {
        if (gpy_go(hammer, &j) < 0) {
            return err(-ENOMEM);
        }
    }
    for (int i = 0; i < nt; i++) {
        pthread_t t;
        if (pthread_create(&t, NULL, hammer_thread, &j) != 0) {
            return err(-EAGAIN);
        }
        pthread_detach(t);
    }
    Py_RETURN_NONE;
}

static PyMethodDef methods[] = {
    {"c_feed", c_feed, METH_VARARGS, NULL},
    {"os_thread_feed", os_thread_feed, METH_VARARGS, NULL},
    {"os_thread_sum", os_thread_sum, METH_O, NULL},
    {"c_sum", c_sum, METH_VARARGS, NULL},
    {"c_send", c_send, METH_VARARGS, NULL},
    {"c_close", c_close, METH_O, NULL},
    {"c_select", c_select, METH_VARARGS, NULL},
    {"close_semantics", close_semantics, METH_NOARGS, NULL},
    {"struct_feed", struct_feed, METH_NOARGS, NULL},
    {"wrap", wrap, METH_VARARGS, NULL},
    {"unwrap", unwrap, METH_VARARGS, NULL},
    {"c_sleep_go", c_sleep_go, METH_VARARGS, NULL},
    {"c_sleep", c_sleep, METH_VARARGS, NULL},
    {"ids", ids, METH_NOARGS, NULL},
    {"use_after_free", use_after_free, METH_NOARGS, NULL},
    {"hammer", hammer_start, METH_VARARGS, NULL},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT,
    "capi_test",
    NULL,
    -1,
    methods,
    NULL,
    NULL,
    NULL,
    NULL,
};

PyMODINIT_FUNC
PyInit_capi_test(void)
{
    if (gpython_import() < 0) {
        return NULL;
    }
    PyObject *m = PyModule_Create(&module);
    if (m &&
        (PyModule_AddIntConstant(m, "POINT_SIZE", sizeof(point)) < 0 ||
         PyModule_AddIntConstant(m, "API_VERSION", GPYTHON_API_VERSION) < 0)) {
        Py_CLEAR(m);
    }
    return m;
}

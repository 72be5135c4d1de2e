/* chan.c: the chan type — pygolang's channels carrying Python objects or
 * typed values (dtype), Go's nil channels, and the bound methods select
 * takes as cases. */
#include "binding.h"

#include <errno.h>
#include <structmember.h>

static const char *const dtype_names[DT_COUNT] = {
    "object", "C.structZ", "C.bool", "C.int", "C.double",
};

static int chan_clear(ChanObject *self);

static PyObject *
raise_panic(PyTypeObject *chan_tp, const char *msg)
{
    PyErr_SetString(gpy_py_state_of(chan_tp)->panic_error, msg);
    return NULL;
}

static ChanObject *
chan_alloc(PyTypeObject *type, gpy_chan *ch)
{
    ChanObject *self = (ChanObject *)type->tp_alloc(type, 0);
    if (!self) {
        gpy_chan_decref(ch);
        return NULL;
    }
    self->ch = ch;
    return self;
}

/* parse_dtype maps a dtype argument to DT_*; -1 with TypeError. */
static int
parse_dtype(PyObject *dtype)
{
    if (!dtype || dtype == Py_None ||
        dtype == (PyObject *)&PyBaseObject_Type) {
        return DT_OBJECT;
    }
    if (PyUnicode_Check(dtype)) {
        for (int i = 0; i < DT_COUNT; i++) {
            if (PyUnicode_CompareWithASCIIString(dtype, dtype_names[i]) == 0) {
                return i;
            }
        }
    }
    PyErr_Format(PyExc_TypeError,
                 "chan: invalid dtype %R (expected 'object', 'C.structZ', "
                 "'C.bool', 'C.int' or 'C.double')",
                 dtype);
    return -1;
}

PyObject *
gpy_py_dtype_zero(int dtype)
{
    switch (dtype) {
    case DT_BOOL:
        Py_RETURN_FALSE;
    case DT_INT:
        return PyLong_FromLong(0);
    case DT_DOUBLE:
        return PyFloat_FromDouble(0.0);
    default:
        Py_RETURN_NONE;
    }
}

PyObject *
gpy_py_dtype_convert(int dtype, PyObject *v)
{
    switch (dtype) {
    case DT_OBJECT:
        Py_INCREF(v);
        return v;
    case DT_STRUCTZ:
        if (v != Py_None) {
            PyErr_Format(PyExc_TypeError,
                         "chan[C.structZ]: send expects None, got %.200s",
                         Py_TYPE(v)->tp_name);
            return NULL;
        }
        Py_RETURN_NONE;
    case DT_BOOL:
        if (!PyBool_Check(v)) {
            PyErr_Format(PyExc_TypeError,
                         "chan[C.bool]: send expects bool, got %.200s",
                         Py_TYPE(v)->tp_name);
            return NULL;
        }
        Py_INCREF(v);
        return v;
    case DT_INT: {
        if (!PyIndex_Check(v)) {
            PyErr_Format(PyExc_TypeError,
                         "chan[C.int]: send expects int, got %.200s",
                         Py_TYPE(v)->tp_name);
            return NULL;
        }
        PyObject *i = PyNumber_Index(v);
        if (!i) {
            return NULL;
        }
        long x = PyLong_AsLong(i);
        Py_DECREF(i);
        if ((x == -1 && PyErr_Occurred()) || x < INT_MIN || x > INT_MAX) {
            PyErr_Clear();
            PyErr_SetString(PyExc_OverflowError,
                            "chan[C.int]: value out of range for C int");
            return NULL;
        }
        return PyLong_FromLong(x);
    }
    default: {
        double d = PyFloat_AsDouble(v);
        if (d == -1.0 && PyErr_Occurred()) {
            return NULL;
        }
        return PyFloat_FromDouble(d);
    }
    }
}

static PyObject *
chan_new(PyTypeObject *type, PyObject *args, PyObject *kw)
{
    static char *kwlist[] = {"size", "dtype", NULL};
    PyObject *size_obj = NULL, *dtype = NULL;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "|OO:chan", kwlist, &size_obj,
                                     &dtype)) {
        return NULL;
    }
    Py_ssize_t size = 0;
    if (size_obj) {
        if (!PyIndex_Check(size_obj) || PyBool_Check(size_obj)) {
            PyErr_Format(PyExc_TypeError,
                         "chan: size must be an integer, not %.200s",
                         Py_TYPE(size_obj)->tp_name);
            return NULL;
        }
        size = PyNumber_AsSsize_t(size_obj, PyExc_OverflowError);
        if (size == -1 && PyErr_Occurred()) {
            return NULL;
        }
        if (size < 0) {
            PyErr_SetString(PyExc_ValueError, "chan: size out of range");
            return NULL;
        }
    }
    int dt = parse_dtype(dtype);
    if (dt < 0) {
        return NULL;
    }
    gpy_chan *ch = gpy_chan_new((size_t)size, sizeof(PyObject *));
    if (!ch) {
        return PyErr_NoMemory();
    }
    ChanObject *self = chan_alloc(type, ch);
    if (self) {
        self->dtype = dt;
    }
    return (PyObject *)self;
}

/* chan_finalize runs once, when the channel's last reference goes (or the
 * collector finds it in a cycle). A cached bound method that somebody
 * still holds outlives it: the method takes a reference of its own (the
 * channel lives on, as Python's bound methods keep their object) and
 * leaves the cache. */
static void
chan_finalize(ChanObject *self)
{
    self->nocache = 1;
    for (int op = 0; op < OP_COUNT; op++) {
        PyObject *m = self->bound[op];
        if (m && Py_REFCNT(m) > 1) {
            gpy_cpy_method_own(m);
            self->bound[op] = NULL;
            Py_DECREF(m);
        }
    }
}

static void
chan_dealloc(ChanObject *self)
{
    PyTypeObject *tp = Py_TYPE(self);
    if (PyObject_CallFinalizerFromDealloc((PyObject *)self) < 0) {
        return; /* a bound method someone holds keeps it */
    }
    PyObject_GC_UnTrack(self);
    if (self->weakreflist) {
        PyObject_ClearWeakRefs((PyObject *)self);
    }
    chan_clear(self);
    gpy_chan_decref(self->ch);
    tp->tp_free(self);
    Py_DECREF(tp);
}

static int
chan_traverse(ChanObject *self, visitproc visit, void *arg)
{
    Py_VISIT(Py_TYPE(self));
    /* Buffered values may refer back to the channel. */
    size_t n = gpy_chan_len(self->ch);
    for (size_t i = 0; i < n; i++) {
        PyObject **v = gpy_chan_buffered(self->ch, i);
        Py_VISIT(*v);
    }
    return 0;
}

/* chan_clear drops the values still buffered (a cycle through them is
 * broken here; at dealloc nobody is blocked on the channel: they would
 * hold a reference) and the cached bound methods (after chan_finalize
 * nobody else holds them). */
static int
chan_clear(ChanObject *self)
{
    for (int op = 0; op < OP_COUNT; op++) {
        if (self->bound[op]) {
            gpy_cpy_method_forget(self->bound[op]);
            Py_CLEAR(self->bound[op]);
        }
    }
    while (gpy_chan_len(self->ch) > 0) {
        PyObject *v = NULL;
        gpy_case c = {self->ch, GPY_CASE_RECV, &v, 0};
        if (gpy_select(&c, 1, GPY_SELECT_NONBLOCK, NULL) < 0) {
            break;
        }
        Py_XDECREF(v);
    }
    return 0;
}

static PyObject *
chan_send(ChanObject *self, PyObject *v)
{
    v = gpy_py_dtype_convert(self->dtype, v);
    if (!v) {
        return NULL;
    }
    gpy_case c = {self->ch, GPY_CASE_SEND, &v, 0};
    Py_INCREF(self);
    int r = gpy_py_do_select(&c, 1, 0, NULL);
    Py_DECREF(self);
    if (r < 0) {
        Py_DECREF(v);
        if (r == -3) {
            raise_panic(Py_TYPE(self), "send on closed channel");
        }
        return NULL;
    }
    Py_RETURN_NONE;
}

static int
recv_into(ChanObject *self, PyObject **v)
{
    *v = NULL;
    gpy_case c = {self->ch, GPY_CASE_RECV, v, 0};
    Py_INCREF(self);
    int r = gpy_py_do_select(&c, 1, 0, NULL);
    Py_DECREF(self);
    if (r < 0) {
        return -1;
    }
    if (!c.ok) {
        *v = NULL;
    }
    return c.ok;
}

static PyObject *
chan_recv(ChanObject *self, PyObject *unused)
{
    (void)unused;
    PyObject *v;
    int ok = recv_into(self, &v);
    if (ok < 0) {
        return NULL;
    }
    if (!v) {
        return gpy_py_dtype_zero(self->dtype);
    }
    return v;
}

static PyObject *
chan_recv_(ChanObject *self, PyObject *unused)
{
    (void)unused;
    PyObject *v;
    int ok = recv_into(self, &v);
    if (ok < 0) {
        return NULL;
    }
    PyObject *t = PyTuple_New(2);
    if (!t) {
        Py_XDECREF(v);
        return NULL;
    }
    if (!v && !(v = gpy_py_dtype_zero(self->dtype))) {
        Py_DECREF(t);
        return NULL;
    }
    PyTuple_SET_ITEM(t, 0, v);
    PyObject *b = ok ? Py_True : Py_False;
    Py_INCREF(b);
    PyTuple_SET_ITEM(t, 1, b);
    return t;
}

static PyObject *
chan_close(ChanObject *self, PyObject *unused)
{
    (void)unused;
    int r = gpy_chan_close(self->ch);
    if (r == -EINVAL) {
        return raise_panic(Py_TYPE(self), "close of nil channel");
    }
    if (r == -EPIPE) {
        return raise_panic(Py_TYPE(self), "close of closed channel");
    }
    Py_RETURN_NONE;
}

static PyObject *
chan_cap(ChanObject *self, PyObject *unused)
{
    (void)unused;
    return PyLong_FromSize_t(gpy_chan_cap(self->ch));
}

static Py_ssize_t
chan_len(ChanObject *self)
{
    return (Py_ssize_t)gpy_chan_len(self->ch);
}

static PyObject *
chan_nil(PyObject *cls, PyObject *args)
{
    PyObject *dtype = NULL;
    if (!PyArg_ParseTuple(args, "|O:nil", &dtype)) {
        return NULL;
    }
    int dt = parse_dtype(dtype);
    if (dt < 0) {
        return NULL;
    }
    PyObject **nil = &gpy_py_state_of((PyTypeObject *)cls)->typed_nil[dt];
    if (!*nil) {
        ChanObject *n = chan_alloc((PyTypeObject *)cls, NULL);
        if (!n) {
            return NULL;
        }
        n->dtype = dt;
        *nil = (PyObject *)n;
    }
    Py_INCREF(*nil);
    return *nil;
}

static PyObject *
chan_repr(ChanObject *self)
{
    if (!self->ch) {
        if (self->dtype == DT_OBJECT) {
            return PyUnicode_FromString("nilchan");
        }
        return PyUnicode_FromFormat("chan.nil('%s')",
                                    dtype_names[self->dtype]);
    }
    if (self->dtype != DT_OBJECT) {
        return PyUnicode_FromFormat("<chan[%s] object at %p, cap %zu>",
                                    dtype_names[self->dtype], (void *)self,
                                    gpy_chan_cap(self->ch));
    }
    return PyUnicode_FromFormat("<chan object at %p, cap %zu>", (void *)self,
                                gpy_chan_cap(self->ch));
}

static PyObject *
chan_richcompare(ChanObject *a, PyObject *b, int op)
{
    if (Py_TYPE(b) != Py_TYPE(a) || (op != Py_EQ && op != Py_NE)) {
        Py_RETURN_NOTIMPLEMENTED;
    }
    int eq =
        a->ch == ((ChanObject *)b)->ch && a->dtype == ((ChanObject *)b)->dtype;
    if (op == Py_NE) {
        eq = !eq;
    }
    return PyBool_FromLong(eq);
}

static Py_hash_t
chan_hash(ChanObject *self)
{
    return gpy_cpy_hash_pointer(self->ch);
}

static PyObject *
chan_get_dtype(ChanObject *self, void *closure)
{
    (void)closure;
    return PyUnicode_FromString(dtype_names[self->dtype]);
}

PyMethodDef gpy_py_chan_methods[] = {
    /* send, recv, recv_ first, in OP_* order: chan_getattro binds them */
    {"send", (PyCFunction)chan_send, METH_O,
     "send(v): send v; blocks until a receiver takes it or it is buffered."},
    {"recv", (PyCFunction)chan_recv, METH_NOARGS,
     "recv() -> v: receive a value (the zero value once closed and "
     "drained)."},
    {"recv_", (PyCFunction)chan_recv_, METH_NOARGS,
     "recv_() -> (v, ok): ok is False once closed and drained."},
    {"close", (PyCFunction)chan_close, METH_NOARGS, "close the channel."},
    {"cap", (PyCFunction)chan_cap, METH_NOARGS, "the buffer capacity."},
    {"nil", (PyCFunction)chan_nil, METH_VARARGS | METH_CLASS,
     "chan.nil(dtype): the nil channel."},
    {NULL, NULL, 0, NULL},
};

/* Interned "send", "recv", "recv_" (process-wide, as interned strings
 * are). */
static PyObject *op_names[OP_COUNT];

/* chan_getattro returns ch.send, ch.recv and ch.recv_ bound once and
 * cached in the channel: select(ch.recv, ...) would otherwise allocate and
 * free a method object per case per call (a third of a non-blocking
 * select's cost). Method calls pay a little for it (the interpreter cannot
 * specialise their lookup any more): measured, the better trade.
 * The cache must not make a cycle, or channels would wait for the
 * collector: a cached method's __self__ is borrowed (and the method kept
 * from the collector's view), and chan_finalize gives the ones still held
 * elsewhere a reference of their own when the channel's last goes. */
static PyObject *
chan_getattro(ChanObject *self, PyObject *name)
{
    /* recv first: select's most common case. */
    int op = name == op_names[OP_RECV]    ? OP_RECV
             : name == op_names[OP_SEND]  ? OP_SEND
             : name == op_names[OP_RECV_] ? OP_RECV_
                                          : -1;
    if (op >= 0 && !self->nocache) {
        PyObject *m = self->bound[op];
        if (!m) {
            m = PyCFunction_NewEx(&gpy_py_chan_methods[op], (PyObject *)self,
                                  NULL);
            if (!m) {
                return NULL;
            }
            gpy_cpy_method_borrow(m);
            self->bound[op] = m;
        }
        Py_INCREF(m);
        return m;
    }
    return PyObject_GenericGetAttr((PyObject *)self, name);
}

static PyGetSetDef chan_getset[] = {
    {"dtype", (getter)chan_get_dtype, NULL, "element type", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyMemberDef chan_members[] = {
    {"__weaklistoffset__", T_PYSSIZET, offsetof(ChanObject, weakreflist),
     READONLY, NULL},
    {NULL, 0, 0, 0, NULL},
};

static PyType_Slot chan_slots[] = {
    {Py_tp_new, chan_new},
    {Py_tp_dealloc, chan_dealloc},
    {Py_tp_finalize, chan_finalize},
    {Py_tp_getattro, chan_getattro},
    {Py_tp_traverse, chan_traverse},
    {Py_tp_clear, chan_clear},
    {Py_tp_methods, gpy_py_chan_methods},
    {Py_tp_getset, chan_getset},
    {Py_tp_members, chan_members},
    {Py_tp_repr, chan_repr},
    {Py_tp_richcompare, chan_richcompare},
    {Py_tp_hash, chan_hash},
    {Py_sq_length, chan_len},
    {Py_mp_length, chan_len},
    {Py_tp_doc, "chan(size=0): a Go channel carrying Python objects."},
    {0, NULL},
};

static PyType_Spec chan_spec = {
    "golang.chan",
    sizeof(ChanObject),
    0,
    Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_IMMUTABLETYPE,
    chan_slots,
};

int
gpy_py_chan_init(PyObject *module, gpy_py_state *st)
{
    for (int op = 0; op < OP_COUNT; op++) {
        if (!op_names[op] && !(op_names[op] = PyUnicode_InternFromString(
                                   gpy_py_chan_methods[op].ml_name))) {
            return -1;
        }
    }
    st->chan_type =
        (PyTypeObject *)PyType_FromModuleAndSpec(module, &chan_spec, NULL);
    if (!st->chan_type) {
        return -1;
    }
    ChanObject *nil = chan_alloc(st->chan_type, NULL);
    if (!nil) {
        return -1;
    }
    st->typed_nil[DT_OBJECT] = (PyObject *)nil;
    return 0;
}

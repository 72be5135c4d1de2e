/* chan.c: the chan type — pygolang's channels carrying Python objects or
 * typed values (dtype), Go's nil channels, and the bound methods select
 * takes as cases. */
#include "binding.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <structmember.h>

static const char *const dtype_names[DT_COUNT] = {
    "object",   "C.structZ",    "C.bool",  "C.int",
    "C.double", "C.os::Signal", "C.bytes",
};

static int chan_clear(ChanObject *self);

static PyObject *
raise_panic(PyTypeObject *chan_tp, const char *msg)
{
    PyErr_SetString(gpy_py_state_of(chan_tp)->panic_error, msg);
    return NULL;
}

static ChanObject *
chan_alloc(PyTypeObject *type, gpy_chan *ch, int dt, size_t esize)
{
    ChanObject *self = (ChanObject *)type->tp_alloc(type, 0);
    if (!self) {
        gpy_chan_decref(ch);
        return NULL;
    }
    self->ch = ch;
    self->dtype = dt;
    self->esize = esize;
    return self;
}

/* The largest C.bytes:N element: a channel element is copied by value. */
#define BYTES_MAX (1u << 20)

/* dtype_parse_str maps a dtype name to DT_* and its element size; -1 if
 * it is none. */
static int
dtype_parse_str(const char *name, size_t *esize)
{
    static const size_t sizes[DT_COUNT] = {
        sizeof(PyObject *), 0, sizeof(_Bool), sizeof(int), sizeof(double),
        sizeof(int),        0,
    };
    if (strncmp(name, "C.bytes:", 8) == 0) {
        char *end;
        unsigned long n = strtoul(name + 8, &end, 10);
        if (name[8] < '1' || name[8] > '9' || *end || n > BYTES_MAX) {
            return -1;
        }
        *esize = n;
        return DT_BYTES;
    }
    for (int i = 0; i < DT_BYTES; i++) {
        if (strcmp(name, dtype_names[i]) == 0) {
            *esize = sizes[i];
            return i;
        }
    }
    return -1;
}

/* parse_dtype maps a dtype argument to DT_* (and the element size); -1
 * with TypeError. */
static int
parse_dtype(PyObject *dtype, size_t *esize)
{
    *esize = sizeof(PyObject *);
    if (!dtype || dtype == Py_None ||
        dtype == (PyObject *)&PyBaseObject_Type) {
        return DT_OBJECT;
    }
    if (PyUnicode_Check(dtype)) {
        const char *name = PyUnicode_AsUTF8(dtype);
        int dt = name ? dtype_parse_str(name, esize) : -1;
        if (dt >= 0) {
            return dt;
        }
        PyErr_Clear();
    } else if (PyType_Check(dtype)) {
        /* as pygolang: a class naming its dtype (golang.os.Signal) */
        PyObject *name = PyObject_GetAttrString(dtype, "dtype");
        const char *s =
            name && PyUnicode_Check(name) ? PyUnicode_AsUTF8(name) : NULL;
        int dt = s ? dtype_parse_str(s, esize) : -1;
        Py_XDECREF(name);
        PyErr_Clear();
        if (dt > DT_OBJECT) {
            return dt;
        }
    }
    /* pygolang's words (its tests check them), ours in a note */
    PyErr_Format(PyExc_TypeError, "pychan: invalid dtype: %R", dtype);
    gpy_py_err_note("chan: expected dtype 'object', 'C.structZ', 'C.bool', "
                    "'C.int', 'C.double', 'C.os::Signal' (golang.os.Signal) "
                    "or 'C.bytes:N' with 1 <= N <= %u",
                    BYTES_MAX);
    return -1;
}

static PyObject *
dtype_name(const ChanObject *co)
{
    if (co->dtype == DT_BYTES) {
        return PyUnicode_FromFormat("C.bytes:%zu", co->esize);
    }
    return PyUnicode_FromString(dtype_names[co->dtype]);
}

int
gpy_py_elem_init_raw(gpy_py_elem *e, const ChanObject *co)
{
    if (co->esize <= ELEM_INLINE) {
        memset(e->u.inl, 0, sizeof(e->u.inl));
        e->p = e->u.inl;
    } else if (!(e->p = PyMem_Calloc(1, co->esize))) {
        PyErr_NoMemory();
        return -1;
    }
    return 0;
}

static int
type_error(const ChanObject *co, const char *expect, PyObject *v)
{
    PyObject *name = dtype_name(co);
    if (name) {
        PyErr_Format(PyExc_TypeError, "chan[%U]: send expects %s, got %.200s",
                     name, expect, Py_TYPE(v)->tp_name);
        Py_DECREF(name);
    }
    return -1;
}

/* golang.os.Signal, imported the first time a C.os::Signal is used. */
static PyObject *
signal_type(const ChanObject *co)
{
    gpy_py_state *st = gpy_py_state_of(Py_TYPE(co));
    if (!st->signal_type) {
        PyObject *m = PyImport_ImportModule("golang.os");
        st->signal_type = m ? PyObject_GetAttrString(m, "Signal") : NULL;
        Py_XDECREF(m);
    }
    return st->signal_type;
}

int
gpy_py_elem_pack(const ChanObject *co, PyObject *v, gpy_py_elem *e)
{
    switch (co->dtype) {
    case DT_OBJECT:
        Py_INCREF(v);
        e->u.obj = v;
        return 0;
    case DT_STRUCTZ:
        return v == Py_None ? 0 : type_error(co, "None", v);
    case DT_BOOL:
        if (!PyBool_Check(v)) {
            return type_error(co, "bool", v);
        }
        *(_Bool *)e->p = v == Py_True;
        return 0;
    case DT_INT: {
        /* As pygolang: an int, not a bool (nor a float). */
        if (PyBool_Check(v) || !PyIndex_Check(v)) {
            return type_error(co, "int", v);
        }
        int overflow;
        PyObject *i = PyNumber_Index(v);
        long x = i ? PyLong_AsLongAndOverflow(i, &overflow) : -1;
        Py_XDECREF(i);
        if (x == -1 && PyErr_Occurred()) {
            return -1;
        }
        if (overflow || x < INT_MIN || x > INT_MAX) {
            PyErr_SetString(PyExc_OverflowError,
                            "chan[C.int]: value out of range for C int");
            return -1;
        }
        *(int *)e->p = (int)x;
        return 0;
    }
    case DT_DOUBLE: {
        if (PyBool_Check(v) || !(PyFloat_Check(v) || PyLong_Check(v))) {
            return type_error(co, "float", v);
        }
        double d = PyFloat_AsDouble(v);
        if (d == -1.0 && PyErr_Occurred()) {
            return -1;
        }
        memcpy(e->p, &d, sizeof(d));
        return 0;
    }
    case DT_SIGNAL: {
        PyObject *t = signal_type(co);
        if (!t) {
            return -1;
        }
        int r = PyObject_IsInstance(v, t);
        if (r <= 0) {
            return r < 0 ? -1 : type_error(co, "os.Signal", v);
        }
        PyObject *no = PyObject_GetAttrString(v, "signo");
        long x = no ? PyLong_AsLong(no) : -1;
        Py_XDECREF(no);
        if (x == -1 && PyErr_Occurred()) {
            return -1;
        }
        *(int *)e->p = (int)x;
        return 0;
    }
    default: {
        Py_buffer view;
        if (PyObject_GetBuffer(v, &view, PyBUF_SIMPLE) < 0) {
            PyErr_Clear();
            return type_error(co, "bytes", v);
        }
        int ok = (size_t)view.len == co->esize;
        if (ok) {
            memcpy(e->p, view.buf, co->esize);
        } else {
            PyErr_Format(PyExc_ValueError,
                         "chan[C.bytes:%zu]: send expects %zu bytes, got %zd",
                         co->esize, co->esize, view.len);
        }
        PyBuffer_Release(&view);
        return ok ? 0 : -1;
    }
    }
}

PyObject *
gpy_py_elem_unpack(const ChanObject *co, gpy_py_elem *e)
{
    switch (co->dtype) {
    case DT_OBJECT: {
        PyObject *v = e->u.obj;
        e->u.obj = NULL;
        if (!v) {
            Py_RETURN_NONE;
        }
        return v;
    }
    case DT_STRUCTZ:
        Py_RETURN_NONE;
    case DT_BOOL:
        return PyBool_FromLong(*(_Bool *)e->p);
    case DT_INT:
        return PyLong_FromLong(*(int *)e->p);
    case DT_DOUBLE: {
        double d;
        memcpy(&d, e->p, sizeof(d));
        return PyFloat_FromDouble(d);
    }
    case DT_SIGNAL: {
        PyObject *t = signal_type(co);
        return t ? PyObject_CallFunction(t, "i", *(int *)e->p) : NULL;
    }
    default:
        return PyBytes_FromStringAndSize(e->p, (Py_ssize_t)co->esize);
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
    size_t esize;
    int dt = parse_dtype(dtype, &esize);
    if (dt < 0) {
        return NULL;
    }
    gpy_chan *ch = gpy_chan_new((size_t)size, esize);
    if (!ch) {
        return PyErr_NoMemory();
    }
    return (PyObject *)chan_alloc(type, ch, dt, esize);
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
    if (self->dtype != DT_OBJECT) {
        return 0;
    }
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
    while (self->dtype == DT_OBJECT && gpy_chan_len(self->ch) > 0) {
        PyObject *v = NULL;
        gpy_case c = {self->ch, GPY_CASE_RECV, &v, 0};
        if (gpy_select(&c, 1, GPY_SELECT_NONBLOCK, NULL) < 0) {
            break;
        }
        Py_XDECREF(v);
    }
    return 0;
}

/* send_object is chan_send for channels of Python objects (the common
 * case, kept free of the element staging raw types need). */
static PyObject *
send_object(ChanObject *self, PyObject *v)
{
    gpy_case c = {self->ch, GPY_CASE_SEND, &v, 0};
    Py_INCREF(v);
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

static PyObject *
chan_send(ChanObject *self, PyObject *v)
{
    if (self->dtype == DT_OBJECT) {
        return send_object(self, v);
    }
    gpy_py_elem e;
    if (gpy_py_elem_init(&e, self) < 0) {
        return NULL;
    }
    if (gpy_py_elem_pack(self, v, &e) < 0) {
        gpy_py_elem_fini(&e);
        return NULL;
    }
    gpy_case c = {self->ch, GPY_CASE_SEND, e.p, 0};
    Py_INCREF(self);
    int r = gpy_py_do_select(&c, 1, 0, NULL);
    Py_DECREF(self);
    if (r < 0) {
        if (self->dtype == DT_OBJECT) {
            Py_DECREF(e.u.obj);
        }
        if (r == -3) {
            raise_panic(Py_TYPE(self), "send on closed channel");
        }
    }
    gpy_py_elem_fini(&e);
    if (r < 0) {
        return NULL;
    }
    Py_RETURN_NONE;
}

/* recv_into receives into *v (a new reference, the zero value once
 * closed); returns ok (1/0), or -1 with an exception. */
static int
recv_into(ChanObject *self, PyObject **v)
{
    if (self->dtype == DT_OBJECT) {
        PyObject *o = NULL;
        gpy_case c = {self->ch, GPY_CASE_RECV, &o, 0};
        Py_INCREF(self);
        int r = gpy_py_do_select(&c, 1, 0, NULL);
        Py_DECREF(self);
        if (r < 0) {
            return -1;
        }
        if (!o) {
            o = Py_None;
            Py_INCREF(o);
        }
        *v = o;
        return c.ok;
    }
    gpy_py_elem e;
    if (gpy_py_elem_init(&e, self) < 0) {
        return -1;
    }
    gpy_case c = {self->ch, GPY_CASE_RECV, e.p, 0};
    Py_INCREF(self);
    int r = gpy_py_do_select(&c, 1, 0, NULL);
    Py_DECREF(self);
    *v = r < 0 ? NULL : gpy_py_elem_unpack(self, &e);
    gpy_py_elem_fini(&e);
    if (!*v) {
        return -1;
    }
    return c.ok;
}

static PyObject *
chan_recv(ChanObject *self, PyObject *unused)
{
    (void)unused;
    PyObject *v;
    if (recv_into(self, &v) < 0) {
        return NULL;
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
        Py_DECREF(v);
        return NULL;
    }
    PyTuple_SET_ITEM(t, 0, v);
    PyObject *b = ok ? Py_True : Py_False;
    Py_INCREF(b);
    PyTuple_SET_ITEM(t, 1, b);
    return t;
}

/* for v in ch: Go's `for v := range ch` — values until ch is closed and
 * drained. */
static PyObject *
chan_iter(PyObject *self)
{
    Py_INCREF(self);
    return self;
}

static PyObject *
chan_iternext(ChanObject *self)
{
    PyObject *v;
    int ok = recv_into(self, &v);
    if (ok <= 0) {
        Py_XDECREF(v);
        return NULL; /* closed and drained (no exception): StopIteration */
    }
    return v;
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
    size_t esize;
    int dt = parse_dtype(dtype, &esize);
    if (dt < 0) {
        return NULL;
    }
    if (dt == DT_BYTES) {
        return (PyObject *)chan_alloc((PyTypeObject *)cls, NULL, dt, esize);
    }
    PyObject **nil = &gpy_py_state_of((PyTypeObject *)cls)->typed_nil[dt];
    if (!*nil) {
        ChanObject *n = chan_alloc((PyTypeObject *)cls, NULL, dt, esize);
        if (!n) {
            return NULL;
        }
        *nil = (PyObject *)n;
    }
    Py_INCREF(*nil);
    return *nil;
}

static PyObject *
chan_repr(ChanObject *self)
{
    if (self->dtype == DT_OBJECT) {
        if (!self->ch) {
            return PyUnicode_FromString("nilchan");
        }
        return PyUnicode_FromFormat("<chan object at %p, cap %zu>",
                                    (void *)self, gpy_chan_cap(self->ch));
    }
    PyObject *name = dtype_name(self), *r;
    if (!name) {
        return NULL;
    }
    if (!self->ch) {
        r = PyUnicode_FromFormat("chan.nil('%U')", name);
    } else {
        r = PyUnicode_FromFormat("<chan[%U] object at %p, cap %zu>", name,
                                 (void *)self, gpy_chan_cap(self->ch));
    }
    Py_DECREF(name);
    return r;
}

/* Two channels are equal when they are the same channel of the same type.
 * Nil channels: as in pygolang, the untyped nilchan equals every typed
 * nil channel (typed nils of different types differ). */
static PyObject *
chan_richcompare(ChanObject *a, PyObject *b, int op)
{
    if (Py_TYPE(b) != Py_TYPE(a) || (op != Py_EQ && op != Py_NE)) {
        Py_RETURN_NOTIMPLEMENTED;
    }
    ChanObject *o = (ChanObject *)b;
    int eq = a->ch == o->ch &&
             ((a->dtype == o->dtype && a->esize == o->esize) ||
              (!a->ch && (a->dtype == DT_OBJECT || o->dtype == DT_OBJECT)));
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
    return dtype_name(self);
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
    {Py_tp_iter, chan_iter},
    {Py_tp_iternext, chan_iternext},
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
    ChanObject *nil =
        chan_alloc(st->chan_type, NULL, DT_OBJECT, sizeof(PyObject *));
    if (!nil) {
        return -1;
    }
    st->typed_nil[DT_OBJECT] = (PyObject *)nil;
    return 0;
}

/* ---- channels shared with C (gpython.h) ---- */

/* The chan type C code wraps channels in: the first _gpython module's. */
static PyTypeObject *capi_chan_type;

void
gpy_py_chan_capi_type(PyTypeObject *tp)
{
    if (!capi_chan_type) {
        Py_INCREF(tp);
        capi_chan_type = tp;
    }
}

PyObject *
gpy_py_chan_wrap(gpy_chan *ch, const char *dtype)
{
    size_t esize;
    int dt = dtype ? dtype_parse_str(dtype, &esize) : -1;
    if (dt <= DT_OBJECT) {
        PyErr_Format(PyExc_TypeError,
                     "gpy_chan_wrap: invalid dtype '%s' (expected 'C.int', "
                     "'C.double', 'C.bool', 'C.structZ' or 'C.bytes:N')",
                     dtype ? dtype : "(null)");
        return NULL;
    }
    if (!capi_chan_type) {
        PyErr_SetString(PyExc_RuntimeError,
                        "gpy_chan_wrap: the _gpython module is not loaded");
        return NULL;
    }
    if (ch && gpy_chan_elemsize(ch) != esize) {
        PyErr_Format(PyExc_TypeError,
                     "gpy_chan_wrap: a channel of %zu-byte elements cannot "
                     "be chan[%s] (%zu-byte elements)",
                     gpy_chan_elemsize(ch), dtype, esize);
        return NULL;
    }
    gpy_chan_incref(ch);
    return (PyObject *)chan_alloc(capi_chan_type, ch, dt, esize);
}

int
gpy_py_chan_unwrap(PyObject *o, size_t elemsize, gpy_chan **ch)
{
    if (!capi_chan_type || !PyObject_TypeCheck(o, capi_chan_type)) {
        PyErr_Format(PyExc_TypeError,
                     "gpy_chan_unwrap: expected a chan, got %.200s",
                     Py_TYPE(o)->tp_name);
        return -1;
    }
    ChanObject *co = (ChanObject *)o;
    if (co->dtype == DT_OBJECT) {
        PyErr_SetString(PyExc_TypeError,
                        "gpy_chan_unwrap: a chan of Python objects cannot be "
                        "used from C (make it with dtype='C.int', 'C.double', "
                        "'C.bool', 'C.structZ' or 'C.bytes:N')");
        return -1;
    }
    if (co->esize != elemsize) {
        PyObject *name = dtype_name(co);
        if (name) {
            PyErr_Format(PyExc_TypeError,
                         "gpy_chan_unwrap: chan[%U] carries %zu-byte "
                         "elements, not %zu",
                         name, co->esize, elemsize);
            Py_DECREF(name);
        }
        return -1;
    }
    *ch = co->ch;
    return 0;
}

/* select.c: select(*cases) over ch.recv, ch.recv_, (ch.send, v) and
 * default, as pygolang spells Go's select statement. */
#include "binding.h"

#define SELECT_SMALL 8

/* pair builds (a, b), stealing both references (either may be NULL after
 * a failed allocation: then NULL). Py_BuildValue costs 4x more here. */
static PyObject *
pair(PyObject *a, PyObject *b)
{
    PyObject *t = (a && b) ? PyTuple_New(2) : NULL;
    if (!t) {
        Py_XDECREF(a);
        Py_XDECREF(b);
        return NULL;
    }
    PyTuple_SET_ITEM(t, 0, a);
    PyTuple_SET_ITEM(t, 1, b);
    return t;
}

enum { K_RECV, K_RECV_, K_SEND };

/* What a channel case needs beside its gpy_case (which gpy_select wants
 * in an array of its own). */
typedef struct {
    PyObject *val; /* send: the value given (borrowed) */
    gpy_py_elem e; /* the element sent (owned once packed) or
                      received */
    const ChanObject *co;
    int arg;            /* index among select's arguments */
    unsigned char kind; /* K_* */
    unsigned char live; /* e is initialised */
} sel_arg;

/* parse_case fills c and sa for argument a (index i); -1 with TypeError. */
static int
parse_case(gpy_py_state *st, PyObject *a, Py_ssize_t i, gpy_case *c,
           sel_arg *sa)
{
    ChanObject *co;
    if ((co = gpy_py_chan_op(a, OP_RECV))) {
        sa->kind = K_RECV;
    } else if ((co = gpy_py_chan_op(a, OP_RECV_))) {
        sa->kind = K_RECV_;
    } else if (PyTuple_Check(a)) {
        if (PyTuple_GET_SIZE(a) != 2 ||
            !(co = gpy_py_chan_op(PyTuple_GET_ITEM(a, 0), OP_SEND))) {
            PyErr_Format(PyExc_TypeError,
                         "select: case %zd: a send case must be "
                         "(ch.send, value), got %R",
                         i, a);
            return -1;
        }
        sa->kind = K_SEND;
    } else {
        /* pygolang's words: it looks up the case's __self__ first */
        PyObject *self = PyObject_GetAttrString(a, "__self__");
        if (self || PyErr_ExceptionMatches(PyExc_AttributeError)) {
            PyErr_Clear();
            if (self) {
                PyErr_Format(st->case_error,
                             "select: case %zd: %.200s is not a channel "
                             "operation",
                             i, Py_TYPE(a)->tp_name);
            } else {
                PyErr_Format(st->case_error,
                             "'%.200s' object has no attribute '__self__'",
                             Py_TYPE(a)->tp_name);
            }
            gpy_py_err_note("select: case %zd: expected ch.recv, ch.recv_, "
                            "(ch.send, value) or default, got %.200s",
                            i, Py_TYPE(a)->tp_name);
        }
        Py_XDECREF(self);
        return -1;
    }
    c->ch = co->ch;
    c->ok = 0;
    c->op = sa->kind == K_SEND ? GPY_CASE_SEND : GPY_CASE_RECV;
    sa->val = sa->kind == K_SEND ? PyTuple_GET_ITEM(a, 1) : NULL;
    sa->arg = (int)i;
    sa->co = co;
    sa->live = 0;
    return 0;
}

/* result returns select's (index, value) for the case that fired. */
static PyObject *
result(const gpy_case *c, sel_arg *sa)
{
    PyObject *v;
    switch (sa->kind) {
    case K_SEND:
        Py_INCREF(Py_None);
        v = Py_None;
        break;
    case K_RECV:
        v = gpy_py_elem_unpack(sa->co, &sa->e);
        break;
    default: {
        PyObject *ok = c->ok ? Py_True : Py_False;
        Py_INCREF(ok);
        v = pair(gpy_py_elem_unpack(sa->co, &sa->e), ok);
        break;
    }
    }
    return v ? pair(PyLong_FromLong(sa->arg), v) : NULL;
}

PyObject *
gpy_py_select(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    gpy_py_state *st = PyModule_GetState(module);
    gpy_case small_cases[SELECT_SMALL];
    sel_arg small_args[SELECT_SMALL];
    gpy_case *cases = small_cases;
    sel_arg *sa = small_args;
    PyObject *res = NULL;
    int n = 0, default_idx = -1, nconv = 0, fired = -1;

    if (nargs > INT_MAX / 2) {
        PyErr_SetString(PyExc_ValueError, "select: too many cases");
        return NULL;
    }
    if (nargs > SELECT_SMALL) {
        cases = PyMem_Malloc((size_t)nargs * sizeof(*cases));
        sa = PyMem_Malloc((size_t)nargs * sizeof(*sa));
        if (!cases || !sa) {
            PyErr_NoMemory();
            goto done;
        }
    }
    for (Py_ssize_t i = 0; i < nargs; i++) {
        if (args[i] == st->default_obj) {
            if (default_idx >= 0) {
                PyErr_SetString(PyExc_ValueError,
                                "select: multiple default cases");
                goto done;
            }
            default_idx = (int)i;
        } else if (parse_case(st, args[i], i, &cases[n], &sa[n]) < 0) {
            goto done;
        } else {
            n++;
        }
    }
    /* The values to send, converted to the channels' element types, are
     * owned by the cases until one fires. */
    for (; nconv < n; nconv++) {
        sel_arg *a = &sa[nconv];
        if (gpy_py_elem_init(&a->e, a->co) < 0) {
            goto done;
        }
        a->live = 1;
        cases[nconv].data = a->e.p;
        if (a->kind == K_SEND && gpy_py_elem_pack(a->co, a->val, &a->e) < 0) {
            a->live = 2; /* nothing packed to drop */
            nconv++;
            goto done;
        }
    }
    int closed = -1;
    int r = gpy_py_do_select(cases, n, default_idx >= 0, &closed);
    if (r == -3) {
        PyErr_SetString(st->panic_error, "send on closed channel");
    } else if (r == -2) {
        Py_INCREF(Py_None);
        res = pair(PyLong_FromLong(default_idx), Py_None);
    } else if (r >= 0) {
        fired = r; /* a value it sent is the receiver's now */
        res = result(&cases[r], &sa[r]);
    }
done:
    for (int k = 0; k < nconv; k++) {
        sel_arg *a = &sa[k];
        if (a->kind == K_SEND && k != fired && a->live == 1 &&
            a->co->dtype == DT_OBJECT) {
            Py_DECREF(a->e.u.obj);
        }
        gpy_py_elem_fini(&a->e);
    }
    if (cases != small_cases) {
        PyMem_Free(cases);
        PyMem_Free(sa);
    }
    return res;
}

/* ---- default ---- */

static PyObject *
default_repr(PyObject *self)
{
    (void)self;
    return PyUnicode_FromString("default");
}

static PyType_Slot default_slots[] = {
    {Py_tp_repr, default_repr},
    {Py_tp_doc, "default: the select case taken when no other is ready."},
    {0, NULL},
};

PyType_Spec gpy_py_default_spec = {
    "golang._Default",
    sizeof(PyObject),
    0,
    Py_TPFLAGS_DEFAULT | Py_TPFLAGS_IMMUTABLETYPE,
    default_slots,
};

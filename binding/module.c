/* module.c: the `_gpython` module (multi-phase init, module state) — go,
 * chan, select, default, nilchan, _PanicError and the runtime's functions —
 * and its installation under CPython: the runtime's hooks, the builtins,
 * the exit handler. */
#include "binding.h"
#include "gpy_py.h"

static PyObject *
module_frame_unbind(PyObject *m, PyObject *const *args, Py_ssize_t n)
{
    (void)m;
    if (n != 3 || !PyFrame_Check(args[0]) || !PyUnicode_Check(args[1])) {
        PyErr_SetString(PyExc_TypeError, "_frame_unbind(frame, name, value)");
        return NULL;
    }
    return PyBool_FromLong(
        gpy_cpy_frame_unbind((PyFrameObject *)args[0], args[1], args[2]));
}

static PyObject *
module_signal_waiters(PyObject *m, PyObject *arg)
{
    (void)m;
    long d = PyLong_AsLong(arg);
    if (d == -1 && PyErr_Occurred()) {
        return NULL;
    }
    gpy_sched_signal_waiters(d > 0 ? 1 : -1);
    Py_RETURN_NONE;
}

static PyMethodDef module_methods[] = {
    {"_signal_waiters", module_signal_waiters, METH_O,
     "_signal_waiters(+1/-1): signals are (no longer) relayed to channels,\n"
     "so waiting is no deadlock (golang.os.signal)."},
    {"_frame_unbind", (PyCFunction)(void (*)(void))module_frame_unbind,
     METH_FASTCALL,
     "_frame_unbind(frame, name, value): unbind a function frame's local\n"
     "name if it holds value (for golang's @func(Class))."},
    {"select", (PyCFunction)(void (*)(void))gpy_py_select, METH_FASTCALL,
     "select(*cases) -> (index, value): wait for the first ready case."},
    {NULL, NULL, 0, NULL},
};

static int
module_exec(PyObject *m)
{
    gpy_py_state *st = PyModule_GetState(m);
    if (PyModule_AddFunctions(m, gpy_py_goroutine_methods) < 0 ||
        PyModule_AddFunctions(m, gpy_py_diag_methods) < 0 ||
        gpy_py_chan_init(m, st) < 0 || gpy_py_preempt_init() < 0) {
        return -1;
    }
    PyTypeObject *dt = (PyTypeObject *)PyType_FromModuleAndSpec(
        m, &gpy_py_default_spec, NULL);
    if (!dt) {
        return -1;
    }
    st->default_obj = PyType_GenericAlloc(dt, 0);
    Py_DECREF(dt); /* the instance holds its heap type */
    if (!st->default_obj) {
        return -1;
    }
    st->panic_error = PyErr_NewExceptionWithDoc(
        "golang._PanicError",
        "a Go panic: raised by panic() and by channel "
        "misuse",
        PyExc_BaseException, NULL);
    if (!st->panic_error) {
        return -1;
    }
    /* A select case that is no channel operation: pygolang raises the
     * AttributeError of looking up its __self__ (its tests check that);
     * a TypeError is what the mistake is. Both catch it. */
    PyObject *bases = PyTuple_Pack(2, PyExc_AttributeError, PyExc_TypeError);
    st->case_error = bases
                         ? PyErr_NewExceptionWithDoc(
                               "golang._SelectCaseError",
                               "a select case that is not ch.recv, ch.recv_, "
                               "(ch.send, value) or default",
                               bases, NULL)
                         : NULL;
    Py_XDECREF(bases);
    if (!st->case_error) {
        return -1;
    }
    if (PyModule_AddStringConstant(m, "__version__", GPY_VERSION) < 0 ||
        PyModule_AddObjectRef(m, "chan", (PyObject *)st->chan_type) < 0 ||
        PyModule_AddObjectRef(m, "default", st->default_obj) < 0 ||
        PyModule_AddObjectRef(m, "nilchan", st->typed_nil[DT_OBJECT]) < 0 ||
        PyModule_AddObjectRef(m, "_PanicError", st->panic_error) < 0 ||
        gpy_py_capi_add(m, st) < 0) {
        return -1;
    }
    return 0;
}

static int
module_traverse(PyObject *m, visitproc visit, void *arg)
{
    gpy_py_state *st = PyModule_GetState(m);
    Py_VISIT(st->chan_type);
    Py_VISIT(st->panic_error);
    Py_VISIT(st->case_error);
    Py_VISIT(st->signal_type);
    Py_VISIT(st->default_obj);
    for (int i = 0; i < DT_COUNT; i++) {
        Py_VISIT(st->typed_nil[i]);
    }
    return 0;
}

static int
module_clear(PyObject *m)
{
    gpy_py_state *st = PyModule_GetState(m);
    Py_CLEAR(st->chan_type);
    Py_CLEAR(st->panic_error);
    Py_CLEAR(st->case_error);
    Py_CLEAR(st->signal_type);
    Py_CLEAR(st->default_obj);
    for (int i = 0; i < DT_COUNT; i++) {
        Py_CLEAR(st->typed_nil[i]);
    }
    return 0;
}

static void
module_free(void *m)
{
    module_clear((PyObject *)m);
}

static PyModuleDef_Slot module_slots[] = {
    {Py_mod_exec, module_exec},
    {0, NULL},
};

PyModuleDef gpy_py_module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "_gpython",
    .m_doc = "The gpython runtime: goroutines, channels and select.",
    .m_size = sizeof(gpy_py_state),
    .m_methods = module_methods,
    .m_slots = module_slots,
    .m_traverse = module_traverse,
    .m_clear = module_clear,
    .m_free = module_free,
};

PyMODINIT_FUNC
PyInit__gpython(void)
{
    return PyModuleDef_Init(&gpy_py_module);
}

/* ---- installation (called by the launcher) ---- */

int
gpy_py_preinit(void)
{
    int r = gpy_sched_init();
    if (r < 0) {
        return r;
    }
    /* From the start: the interposers ask it during Py_Initialize too. */
    gpy_hooks hooks = {.gil_released = gpy_cpy_gil_released};
    gpy_sched_set_hooks(&hooks);
    gpy_py_arena_install();
    return 0;
}

int
gpy_py_install(void)
{
    gpy_py_goroutines_install();
    gpy_hooks hooks = {
        .switch_in = gpy_py_switch_in,
        .deadlock = gpy_py_report_deadlock,
        .park_enter = gpy_py_park_enter,
        .park_exit = gpy_py_park_exit,
        .stack_overflow = gpy_py_report_stack_overflow,
    };
    gpy_sched_set_hooks(&hooks);
    /* After Py_Initialize: the signal module recorded SIGSEGV as SIG_DFL,
     * as python3 reports it. */
    gpy_stack_guard_install();
    if (gpy_py_sched_options() < 0 || gpy_py_diag_install() < 0) {
        return -1;
    }

    PyObject *m = PyImport_ImportModule("_gpython");
    if (!m) {
        return -1;
    }
    PyObject *builtins = PyEval_GetBuiltins();
    const char *names[] = {"go", "chan", "select", "default", "nilchan"};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        PyObject *o = PyObject_GetAttrString(m, names[i]);
        if (!o || PyDict_SetItemString(builtins, names[i], o) < 0) {
            Py_XDECREF(o);
            Py_DECREF(m);
            return -1;
        }
        Py_DECREF(o);
    }
    /* Registered first, so it runs last among atexit handlers: other
     * goroutines may run until then, never after. */
    PyObject *atexit = PyImport_ImportModule("atexit");
    PyObject *shut = atexit ? PyObject_GetAttrString(m, "_shutdown") : NULL;
    PyObject *r =
        shut ? PyObject_CallMethod(atexit, "register", "O", shut) : NULL;
    Py_XDECREF(r);
    Py_XDECREF(shut);
    Py_XDECREF(atexit);
    Py_DECREF(m);
    return r ? 0 : -1;
}

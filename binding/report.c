/* report.c: how a gpython program ends badly — an exception escaping a
 * goroutine (Go's panic), a deadlock, a stack overflow — in Go's words,
 * with the goroutines' Python tracebacks. */
#include "binding.h"

#include <stdarg.h>
#include <string.h>
#include <unistd.h>

void
gpy_py_err_note(const char *fmt, ...)
{
    PyObject *t, *v, *tb;
    PyErr_Fetch(&t, &v, &tb);
    PyErr_NormalizeException(&t, &v, &tb);
    va_list ap;
    va_start(ap, fmt);
    PyObject *note = PyUnicode_FromFormatV(fmt, ap);
    va_end(ap);
    PyObject *r =
        note && v ? PyObject_CallMethod(v, "add_note", "O", note) : NULL;
    if (!r) {
        PyErr_Clear();
    }
    Py_XDECREF(r);
    Py_XDECREF(note);
    PyErr_Restore(t, v, tb);
}

void
gpy_py_flush_std(void)
{
    PyObject *exc_type, *exc_value, *exc_tb;
    PyErr_Fetch(&exc_type, &exc_value, &exc_tb);
    const char *names[] = {"stdout", "stderr"};
    for (int i = 0; i < 2; i++) {
        PyObject *f = PySys_GetObject(names[i]);
        if (f && f != Py_None) {
            PyObject *r = PyObject_CallMethod(f, "flush", NULL);
            if (!r) {
                PyErr_Clear();
            }
            Py_XDECREF(r);
        }
    }
    PyErr_Restore(exc_type, exc_value, exc_tb);
}

/* The deadlock report, as Go prints it: every goroutine's traceback. */
void
gpy_py_report_deadlock(void)
{
    gpy_g *cur = gpy_g_current();
    PyThreadState *ts = cur ? gpy_g_user(cur) : NULL;
    if (!ts) {
        ts = gpy_py_main_tstate;
    }
    PyEval_RestoreThread(ts);
    gpy_py_flush_std();
    fputs("fatal error: all goroutines are asleep - deadlock!\n\n", stderr);
    fflush(stderr);
    gpy_py_dump_all(2);
    _exit(2);
}

void
gpy_py_report_escaped(uint64_t id)
{
    if (PyErr_ExceptionMatches(PyExc_SystemExit)) {
        PyObject *t, *v, *tb;
        PyErr_Fetch(&t, &v, &tb);
        PyErr_NormalizeException(&t, &v, &tb);
        int code = 0;
        PyObject *c = v ? PyObject_GetAttrString(v, "code") : NULL;
        if (!c) {
            PyErr_Clear();
        } else if (c == Py_None) {
            code = 0;
        } else if (PyLong_Check(c)) {
            code = (int)PyLong_AsLong(c);
        } else {
            PyObject_Print(c, stderr, Py_PRINT_RAW);
            fputc('\n', stderr);
            code = 1;
        }
        Py_XDECREF(c);
        gpy_py_flush_std();
        fflush(stderr);
        _exit(code);
    }
    PyObject *t, *v, *tb;
    PyErr_Fetch(&t, &v, &tb);
    PyErr_NormalizeException(&t, &v, &tb);
    if (tb && v) {
        PyException_SetTraceback(v, tb);
    }
    gpy_py_flush_std();
    fprintf(stderr, "panic: exception escaped goroutine %llu\n\n",
            (unsigned long long)id);
    fflush(stderr);
    PyErr_Display(t, v, tb);
    Py_XDECREF(t);
    Py_XDECREF(v);
    Py_XDECREF(tb);
    gpy_py_flush_std();
    fputs("\n", stderr);
    fflush(stderr);
    gpy_py_dump_goroutine(2, gpy_g_current());
    _exit(2);
}

/* put_str and put_u64 write to stderr from a signal handler. */
static void
put_str(const char *s)
{
    ssize_t w = write(2, s, strlen(s));
    (void)w;
}

static void
put_u64(unsigned long long v)
{
    char buf[24];
    char *p = buf + sizeof(buf);
    *--p = 0;
    do {
        *--p = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    put_str(p);
}

/* gpy_py_report_stack_overflow reports, as Go does, a goroutine that ran into
 * its stack's guard page (a C-level recursion CPython's check did not see);
 * signal context, on the alternate stack. */
void
gpy_py_report_stack_overflow(gpy_g *g)
{
    put_str("runtime: goroutine stack exceeds ");
    put_u64(gpy_stack_size());
    put_str("-byte limit\nfatal error: stack overflow\n\ngoroutine ");
    put_u64(gpy_g_id(g));
    put_str(" [running]:\n");
    PyThreadState *ts = gpy_g_user(g);
    if (ts) {
        gpy_cpy_dump_traceback(2, ts);
    }
    _exit(2);
}

/* diag.c: seeing inside a running program, as Go programmers do — the
 * goroutine dump (SIGQUIT, gpython.dump(), the deadlock report), the
 * goroutines as objects (gpython.goroutines()), the blocking report
 * (-X gpython.blockreport=MS) and leaked goroutines (gpython.leaks()).
 *
 * The dump reads frames and goroutine records with plain loads, no
 * allocation and no Python calls (as faulthandler does), so the SIGQUIT
 * handler can print it while the program is stuck anywhere, even in a C
 * call that holds the GIL. */
#include "binding.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

/* ---- what a goroutine started from Python records ---- */

void
gpy_py_ginfo_init(gpy_py_ginfo *gi, PyObject *f, int thread)
{
    gi->f = f;
    gi->name = NULL;
    gi->ccode = NULL;
    gi->clasti = 0;
    gpy_g *cur = gpy_g_current();
    gi->cid = cur ? gpy_g_id(cur) : 0;
    PyObject *code;
    PyThreadState *ts = PyThreadState_Get();
    if (gpy_cpy_caller(ts, &code, &gi->clasti)) {
        /* A threading.Thread is created by whoever called its start(). */
        if (thread && gpy_cpy_code_name(code) &&
            PyUnicode_CompareWithASCIIString(gpy_cpy_code_name(code),
                                             "start") == 0) {
            gpy_cpy_caller_up(ts, 1, &code, &gi->clasti);
        }
        Py_INCREF(code);
        gi->ccode = code;
    }
    if (thread && PyMethod_Check(f)) {
        /* threading.Thread._bootstrap: the thread's name. */
        PyObject *name = PyObject_GetAttrString(PyMethod_GET_SELF(f), "_name");
        if (name && PyUnicode_Check(name)) {
            gi->name = name;
        } else {
            Py_XDECREF(name);
            PyErr_Clear();
        }
    }
}

void
gpy_py_ginfo_clear(gpy_py_ginfo *gi)
{
    Py_CLEAR(gi->name);
    Py_CLEAR(gi->ccode);
}

/* ---- output: to a fd (async-signal-safe) or to memory ---- */

typedef struct wbuf {
    int fd;    /* >= 0: write there; < 0: collect in mem */
    char *mem; /* malloc()ed, mem mode */
    size_t mlen, mcap;
    int oom;
    size_t n;
    char buf[4096];
} wbuf;

static void
w_flush(wbuf *w)
{
    if (w->fd >= 0) {
        size_t off = 0;
        while (off < w->n) {
            ssize_t r = write(w->fd, w->buf + off, w->n - off);
            if (r <= 0) {
                break;
            }
            off += (size_t)r;
        }
    } else if (!w->oom) {
        if (w->mlen + w->n > w->mcap) {
            size_t cap = w->mcap ? w->mcap * 2 : 65536;
            while (cap < w->mlen + w->n) {
                cap *= 2;
            }
            char *m = realloc(w->mem, cap);
            if (!m) {
                w->oom = 1;
                w->n = 0;
                return;
            }
            w->mem = m;
            w->mcap = cap;
        }
        memcpy(w->mem + w->mlen, w->buf, w->n);
        w->mlen += w->n;
    }
    w->n = 0;
}

static void
w_bytes(wbuf *w, const char *p, size_t len)
{
    while (len) {
        size_t k = sizeof(w->buf) - w->n;
        if (k > len) {
            k = len;
        }
        memcpy(w->buf + w->n, p, k);
        w->n += k;
        p += k;
        len -= k;
        if (w->n == sizeof(w->buf)) {
            w_flush(w);
        }
    }
}

static void
w_str(wbuf *w, const char *s)
{
    w_bytes(w, s, strlen(s));
}

static void
w_u64(wbuf *w, uint64_t v)
{
    char b[24];
    int i = sizeof(b);
    do {
        b[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    w_bytes(w, b + i, sizeof(b) - (size_t)i);
}

static void
w_pystr(wbuf *w, PyObject *s)
{
    size_t len;
    const char *p = gpy_cpy_str_bytes(s, &len);
    if (p) {
        w_bytes(w, p, len);
    } else {
        w_str(w, "?");
    }
}

/* ---- one goroutine ---- */

#define MAX_FRAMES 100

/* g_name writes the goroutine's name: the threading.Thread's, or the
 * function's qualified name (what go() was given). */
static void
w_name(wbuf *w, gpy_g *g)
{
    gpy_py_ginfo *gi = gpy_g_info(g);
    if (g == gpy_g_main()) {
        w_str(w, "main");
        return;
    }
    if (!gi) {
        w_str(w, gpy_g_user(g) ? "?" : "(C code)");
        return;
    }
    if (gi->name) {
        w_pystr(w, gi->name);
        return;
    }
    PyObject *q = gpy_cpy_callable_name(gi->f);
    size_t len;
    const char *p = q ? gpy_cpy_str_bytes(q, &len) : NULL;
    if (p) {
        /* f.__qualname__ without the functions it is nested in:
         * "Server.handle", not "main.<locals>.Server.handle". */
        static const char nest[] = "<locals>.";
        for (size_t i = len; i-- > 0;) {
            if (i + sizeof(nest) - 1 <= len &&
                memcmp(p + i, nest, sizeof(nest) - 1) == 0) {
                size_t cut = i + sizeof(nest) - 1;
                p += cut;
                len -= cut;
                break;
            }
        }
        w_bytes(w, p, len);
    } else if (q) {
        w_pystr(w, q);
    } else if (PyCFunction_Check(gi->f)) {
        w_str(w, ((PyCFunctionObject *)gi->f)->m_ml->ml_name);
    } else {
        w_str(w, Py_TYPE(gi->f)->tp_name);
    }
}

static void
w_duration(wbuf *w, int64_t ns)
{
    int64_t s = ns / 1000000000;
    if (s >= 60) {
        w_str(w, ", ");
        w_u64(w, (uint64_t)(s / 60));
        w_str(w, s / 60 == 1 ? " minute" : " minutes");
    } else if (s >= 1) {
        w_str(w, ", ");
        w_u64(w, (uint64_t)s);
        w_str(w, s == 1 ? " second" : " seconds");
    }
}

static void
w_state(wbuf *w, const gpy_g_status *st, int64_t now)
{
    switch (st->state) {
    case GPY_STATE_RUNNING:
        w_str(w, "running");
        break;
    case GPY_STATE_RUNNABLE:
        w_str(w, "runnable");
        break;
    default:
        w_str(w, gpy_wait_reason_name(st->reason));
        if (st->reason == GPY_WAIT_IO && st->fd >= 0) {
            w_str(w, " on fd ");
            w_u64(w, (uint64_t)st->fd);
        }
        if (st->since_ns) {
            w_duration(w, now - st->since_ns);
        }
    }
}

static void
w_frame(wbuf *w, PyObject *code, int lasti, int with_name)
{
    w_str(w, "  File \"");
    w_pystr(w, gpy_cpy_code_filename(code));
    w_str(w, "\", line ");
    int line = gpy_cpy_code_line(code, lasti);
    w_u64(w, line < 0 ? 0 : (uint64_t)line);
    if (with_name) {
        w_str(w, ", in ");
        w_pystr(w, gpy_cpy_code_name(code));
    }
    w_str(w, "\n");
}

/* w_goroutine writes g's block: header, name, traceback, creator. */
/* The frames of g (ts its thread state): the running goroutine's may
 * change under us (we may be the monitor thread, or a signal handler),
 * so they are read with checks; a parked one's stand still. */
static int
stack_of(gpy_g *g, PyThreadState *ts, gpy_cpy_frame *fr, int *more)
{
    if (!ts) {
        return 0;
    }
    if (g == gpy_sched_running_g()) {
        return gpy_cpy_stack_running(ts, fr, MAX_FRAMES, more);
    }
    return gpy_cpy_stack(ts, fr, MAX_FRAMES, more);
}

static void
w_goroutine(wbuf *w, gpy_g *g, int64_t now)
{
    gpy_g_status st;
    gpy_g_get_status(g, &st);
    w_str(w, "goroutine ");
    w_u64(w, gpy_g_id(g));
    w_str(w, " [");
    w_state(w, &st, now);
    w_str(w, "]:\nname: ");
    w_name(w, g);
    w_str(w, "\n");
    PyThreadState *ts = gpy_g_user(g);
    gpy_cpy_frame fr[MAX_FRAMES];
    int more = 0;
    int n = stack_of(g, ts, fr, &more);
    if (n > 0) {
        w_str(w, "Traceback (most recent call last):\n");
        if (more) {
            w_str(w, "  ...\n");
        }
        for (int i = n - 1; i >= 0; i--) {
            w_frame(w, fr[i].code, fr[i].lasti, 1);
        }
    } else if (!ts) {
        w_str(w, "(C code: no Python frames)\n");
    } else {
        w_str(w, "(no Python frames)\n");
    }
    gpy_py_ginfo *gi = gpy_g_info(g);
    if (gi && gi->ccode) {
        w_str(w, "created by ");
        w_pystr(w, gpy_cpy_code_name(gi->ccode));
        w_str(w, " in goroutine ");
        w_u64(w, gi->cid);
        w_str(w, "\n  ");
        w_pystr(w, gpy_cpy_code_filename(gi->ccode));
        w_str(w, ":");
        int line = gpy_cpy_code_line(gi->ccode, gi->clasti);
        w_u64(w, line < 0 ? 0 : (uint64_t)line);
        w_str(w, "\n");
    }
    w_str(w, "\n");
}

/* ---- every goroutine, identical ones grouped ---- */

/* Groups of at least GROUP_MIN goroutines with the same state, name,
 * stack and creator print once ("N goroutines like this:"): a dump of
 * 100,000 workers stays readable. */
#define GROUP_MIN 10

static uint64_t
mix(uint64_t h, uint64_t v)
{
    h ^= v + 0x9E3779B97F4A7C15ull + (h << 6) + (h >> 2);
    return h * 0xff51afd7ed558ccdull;
}

/* line_of is gpy_cpy_code_line with a one-entry cache: consecutive
 * goroutines of a dump mostly stand at the same place. Lines, not
 * instructions, make blocks alike: a specialised call is made from the
 * instruction before the one its first, unspecialised, runs made it from. */
static int
line_of(PyObject *code, int lasti)
{
    static PyObject *c_code;
    static int c_lasti, c_line;
    if (code != c_code || lasti != c_lasti) {
        c_line = gpy_cpy_code_line(code, lasti);
        c_code = code;
        c_lasti = lasti;
    }
    return c_line;
}

/* signature: what makes two goroutines' blocks alike (not their id nor
 * how long they have waited). */
static uint64_t
signature(gpy_g *g)
{
    gpy_g_status st;
    gpy_g_get_status(g, &st);
    uint64_t h = mix(0, (uint64_t)st.state);
    h = mix(h, (uint64_t)st.reason);
    h = mix(h, (uint64_t)(st.fd + 1));
    gpy_py_ginfo *gi = gpy_g_info(g);
    if (gi) {
        h = mix(h, (uint64_t)(uintptr_t)gi->f);
        h = mix(h, (uint64_t)(uintptr_t)gi->name);
        h = mix(h, (uint64_t)(uintptr_t)gi->ccode);
        h = mix(h, gi->ccode ? (uint64_t)line_of(gi->ccode, gi->clasti) : 0);
    } else {
        h = mix(h, (uint64_t)(uintptr_t)g);
    }
    PyThreadState *ts = gpy_g_user(g);
    gpy_cpy_frame fr[MAX_FRAMES];
    int more = 0;
    int n = stack_of(g, ts, fr, &more);
    for (int i = 0; i < n; i++) {
        h = mix(h, (uint64_t)(uintptr_t)fr[i].code);
        h = mix(h, (uint64_t)line_of(fr[i].code, fr[i].lasti));
    }
    return h | 1; /* 0 marks a free slot */
}

typedef struct slot {
    uint64_t sig;
    gpy_g *first;
    size_t count;
} slot;

typedef struct dumpctx {
    wbuf *w;
    slot *tab;
    size_t mask;
    int64_t now;
    int pass;
} dumpctx;

static slot *
find(dumpctx *d, uint64_t sig)
{
    size_t i = (size_t)sig & d->mask;
    while (d->tab[i].sig && d->tab[i].sig != sig) {
        i = (i + 1) & d->mask;
    }
    return &d->tab[i];
}

static void
visit(gpy_g *g, void *arg)
{
    dumpctx *d = arg;
    if (!d->tab) {
        w_goroutine(d->w, g, d->now);
        return;
    }
    slot *s = find(d, signature(g));
    if (d->pass == 0) {
        if (!s->sig) {
            s->sig = signature(g);
            s->first = g;
        }
        s->count++;
        return;
    }
    if (s->count < GROUP_MIN) {
        w_goroutine(d->w, g, d->now);
    } else if (s->first == g) {
        w_u64(d->w, s->count);
        w_str(d->w, " goroutines like this:\n");
        w_goroutine(d->w, g, d->now);
    }
}

static void
dump_all(wbuf *w)
{
    dumpctx d = {w, NULL, 0, gpy_now_coarse_ns(), 0};
    size_t n = gpy_g_count();
    size_t size = 16;
    while (size < 2 * n) {
        size *= 2;
    }
    /* mmap: async-signal-safe, unlike malloc. Without it: no grouping. */
    void *tab = mmap(NULL, size * sizeof(slot), PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (tab != MAP_FAILED) {
        d.tab = tab;
        d.mask = size - 1;
        gpy_g_foreach(visit, &d);
        d.pass = 1;
    }
    gpy_g_foreach(visit, &d);
    if (tab != MAP_FAILED) {
        munmap(tab, size * sizeof(slot));
    }
    w_flush(w);
}

void
gpy_py_dump_all(int fd)
{
    static wbuf w; /* no stack for 4 KiB in a signal handler */
    w.fd = fd;
    w.n = 0;
    dump_all(&w);
}

void
gpy_py_dump_goroutine(int fd, gpy_g *g)
{
    static wbuf w;
    w.fd = fd;
    w.n = 0;
    if (g) {
        w_goroutine(&w, g, gpy_now_coarse_ns());
    }
    w_flush(&w);
}

/* ---- SIGQUIT: dump and exit 2, as Go does ---- */

static void
on_sigquit(int sig)
{
    (void)sig;
    static const char head[] = "SIGQUIT: quit\n\n";
    if (write(2, head, sizeof(head) - 1) < 0) {
        /* nothing to do: we exit anyway */
    }
    gpy_py_dump_all(2);
    _exit(2);
}

/* ---- the blocking report ---- */

int64_t gpy_py_blockreport_ns;

/* The monitor's view of the incident in progress. */
static uint64_t br_id;
static int64_t br_start;

static void
br_ms(wbuf *w, int64_t ns)
{
    w_u64(w, (uint64_t)(ns / 1000000));
    w_str(w, " ms");
}

/* run_ended (runtime hook, no GIL): the run we reported is over. */
static void
br_run_ended(uint64_t id, int64_t ns)
{
    static wbuf w;
    w.fd = 2;
    w.n = 0;
    w_str(&w, "gpython: blocking report: goroutine ");
    w_u64(&w, id);
    w_str(&w, " ran ");
    br_ms(&w, ns);
    w_str(&w, " without letting the others run\n\n");
    w_flush(&w);
}

void
gpy_py_blockreport_check(unsigned long switches)
{
    (void)switches;
    uint64_t id;
    int64_t start;
    void *user;
    if (!gpy_sched_current_run(&id, &start, &user)) {
        return;
    }
    int64_t now = gpy_now_coarse_ns();
    if ((id == br_id && start == br_start) ||
        now - start < gpy_py_blockreport_ns || !gpy_sched_others_waiting()) {
        return;
    }
    br_id = id;
    br_start = start;
    PyThreadState *ts = user;
    /* What it is doing: a call that released the GIL (nobody holds it,
     * or another OS thread), Python code (its frame moves), or a C call
     * that holds the GIL (it does not). */
    const char *what;
    PyObject *code = NULL;
    int lasti = -1;
    uint64_t state = 0, state2 = 0;
    if (ts && gpy_cpy_gil_owner() != ts) {
        what = "in a call that released the GIL without parking (the "
               "scheduler waits for it to return)";
    } else if (ts && gpy_cpy_caller_running(ts, &code, &lasti, &state)) {
        /* Sampled ten times over 5 ms: a tight Python loop may be seen
         * at the same instruction twice, not ten times, and a loop of
         * short C calls changes its locals or value stack. */
        int moved = 0;
        for (int i = 0; i < 10 && !moved; i++) {
            struct timespec pause = {0, 500000};
            nanosleep(&pause, NULL);
            if (!gpy_cpy_caller_running(ts, &code, &lasti, &state2) ||
                state2 != state) {
                moved = 1;
            }
        }
        what = moved ? "computing in Python without blocking"
                     : "in a C call that holds the GIL";
    } else {
        what = ts ? "in a C call" : "in C code (a C goroutine)";
    }
    static wbuf w;
    w.fd = 2;
    w.n = 0;
    w_str(&w, "gpython: blocking report: goroutine ");
    w_u64(&w, id);
    w_str(&w, " has kept the others from running for ");
    br_ms(&w, now - start);
    w_str(&w, " (limit ");
    br_ms(&w, gpy_py_blockreport_ns);
    w_str(&w, "), ");
    w_str(&w, what);
    w_str(&w, ":\n");
    /* Its block, as a dump prints it (it is still the running one, or
     * its run ended while we looked: then its id is all we say). */
    gpy_g *cur = gpy_sched_running_g();
    if (cur && gpy_g_id(cur) == id) {
        w_goroutine(&w, cur, now);
    } else {
        w_str(&w, "\n");
    }
    w_flush(&w);
    gpy_sched_mark_reported(id, start);
}

/* ---- goroutines as Python objects ---- */

typedef struct pyctx {
    PyObject *list;
    int64_t now;
    int failed;
} pyctx;

static PyObject *
frame_tuple(PyObject *code, int lasti)
{
    return Py_BuildValue("(OiO)", gpy_cpy_code_filename(code),
                         gpy_cpy_code_line(code, lasti),
                         gpy_cpy_code_name(code));
}

static void
py_visit(gpy_g *g, void *arg)
{
    pyctx *c = arg;
    if (c->failed) {
        return;
    }
    gpy_g_status st;
    gpy_g_get_status(g, &st);
    wbuf w = {.fd = -1};
    w_name(&w, g);
    w_flush(&w);
    PyObject *name = PyUnicode_DecodeUTF8(w.mem ? w.mem : "",
                                          (Py_ssize_t)w.mlen, "replace");
    free(w.mem);
    const char *state = st.state == GPY_STATE_RUNNING    ? "running"
                        : st.state == GPY_STATE_RUNNABLE ? "runnable"
                                                         : "waiting";
    PyObject *stack = PyList_New(0);
    PyThreadState *ts = gpy_g_user(g);
    gpy_cpy_frame fr[MAX_FRAMES];
    int more = 0;
    int n = stack_of(g, ts, fr, &more);
    for (int i = n - 1; stack && i >= 0; i--) {
        PyObject *t = frame_tuple(fr[i].code, fr[i].lasti);
        if (!t || PyList_Append(stack, t) < 0) {
            Py_CLEAR(stack);
        }
        Py_XDECREF(t);
    }
    gpy_py_ginfo *gi = gpy_g_info(g);
    PyObject *created = NULL;
    if (gi && gi->ccode) {
        created = frame_tuple(gi->ccode, gi->clasti);
    } else {
        created = Py_None;
        Py_INCREF(created);
    }
    PyObject *reason =
        st.state == GPY_STATE_WAITING
            ? PyUnicode_FromString(gpy_wait_reason_name(st.reason))
            : (Py_INCREF(Py_None), Py_None);
    PyObject *since = st.since_ns
                          ? PyFloat_FromDouble((double)st.since_ns / 1e9)
                          : (Py_INCREF(Py_None), Py_None);
    PyObject *d = NULL;
    if (name && stack && created && reason && since) {
        d = Py_BuildValue(
            "{sKsOsssOsisOsOsOsK}", "id", (unsigned long long)gpy_g_id(g),
            "name", name, "state", state, "wait_reason", reason, "fd",
            st.state == GPY_STATE_WAITING ? st.fd : -1, "waiting_since", since,
            "stack", stack, "created_by", created, "creator",
            (unsigned long long)(gi ? gi->cid : 0));
    }
    Py_XDECREF(since);
    if (!d || PyList_Append(c->list, d) < 0) {
        c->failed = 1;
    }
    Py_XDECREF(d);
    Py_XDECREF(name);
    Py_XDECREF(stack);
    Py_XDECREF(created);
    Py_XDECREF(reason);
}

static PyObject *
diag_goroutines(PyObject *m, PyObject *unused)
{
    (void)m;
    (void)unused;
    pyctx c = {PyList_New(0), gpy_now_coarse_ns(), 0};
    if (!c.list) {
        return NULL;
    }
    gpy_g_foreach(py_visit, &c);
    if (c.failed) {
        Py_DECREF(c.list);
        return NULL;
    }
    return c.list;
}

static PyObject *
diag_dump(PyObject *m, PyObject *unused)
{
    (void)m;
    (void)unused;
    wbuf *w = calloc(1, sizeof(*w));
    if (!w) {
        return PyErr_NoMemory();
    }
    w->fd = -1;
    dump_all(w);
    PyObject *s = w->oom
                      ? PyErr_NoMemory()
                      : PyUnicode_DecodeUTF8(w->mem ? w->mem : "",
                                             (Py_ssize_t)w->mlen, "replace");
    free(w->mem);
    free(w);
    return s;
}

/* ---- what leak reports need (_gpython_leaks.py does the rest) ---- */

typedef struct waitsctx {
    PyObject *d;
    int failed;
} waitsctx;

static void
waits_visit(gpy_g *g, gpy_chan *const *chs, int n, void *arg)
{
    waitsctx *c = arg;
    if (c->failed || !gpy_g_user(g)) {
        return; /* C goroutines' channels are C's business */
    }
    PyObject *l = PyList_New(n);
    for (int i = 0; l && i < n; i++) {
        PyObject *p = PyLong_FromVoidPtr(chs[i]);
        if (!p) {
            Py_CLEAR(l);
            break;
        }
        PyList_SET_ITEM(l, i, p);
    }
    PyObject *k = PyLong_FromUnsignedLongLong(gpy_g_id(g));
    if (!l || !k || PyDict_SetItem(c->d, k, l) < 0) {
        c->failed = 1;
    }
    Py_XDECREF(l);
    Py_XDECREF(k);
}

static PyObject *
diag_chan_waits(PyObject *m, PyObject *unused)
{
    (void)m;
    (void)unused;
    waitsctx c = {PyDict_New(), 0};
    if (!c.d) {
        return NULL;
    }
    /* Holds the channel lock: no allocation that could run Python code
     * using channels (a GC finalizer) — collection is off meanwhile. */
    int was = PyGC_Disable();
    gpy_chan_waits(waits_visit, &c);
    if (was) {
        PyGC_Enable();
    }
    if (c.failed) {
        Py_DECREF(c.d);
        return NULL;
    }
    return c.d;
}

static PyObject *
diag_chan_info(PyObject *m, PyObject *o)
{
    gpy_chan *ch;
    gpy_py_state *st = PyModule_GetState(m);
    if (!PyObject_TypeCheck(o, st->chan_type)) {
        PyErr_SetString(PyExc_TypeError, "_chan_info: expected a chan");
        return NULL;
    }
    ch = ((ChanObject *)o)->ch;
    size_t nrecv, nsend;
    gpy_chan_queued(ch, &nrecv, &nsend);
    return Py_BuildValue("(Nlnn)", PyLong_FromVoidPtr(ch), gpy_chan_refs(ch),
                         (Py_ssize_t)nrecv, (Py_ssize_t)nsend);
}

static PyObject *
diag_os_threads(PyObject *m, PyObject *unused)
{
    (void)m;
    (void)unused;
    return PyLong_FromLong(gpy_sched_threads());
}

PyMethodDef gpy_py_diag_methods[] = {
    {"_os_threads", diag_os_threads, METH_NOARGS,
     "how many OS threads have run goroutines so far (1 until a handoff)."},
    {"_chan_waits", diag_chan_waits, METH_NOARGS,
     "{goroutine id: [channel address]} of goroutines blocked on channels."},
    {"_chan_info", diag_chan_info, METH_O,
     "(address, references, receivers waiting, senders waiting) of a chan's\n"
     "runtime channel."},
    {"_goroutines", diag_goroutines, METH_NOARGS,
     "every goroutine as a dict (gpython.goroutines())."},
    {"_dump", diag_dump, METH_NOARGS,
     "the goroutine dump SIGQUIT prints, as a str (gpython.dump())."},
    {NULL, NULL, 0, NULL},
};

/* ---- installation ---- */

/* xoption returns -X name's value (a new reference), Py_True for a bare
 * -X name, or NULL. */
static PyObject *
xoption(const char *name)
{
    PyObject *x = PySys_GetXOptions();
    PyObject *v = x ? PyDict_GetItemString(x, name) : NULL;
    Py_XINCREF(v);
    return v;
}

int
gpy_py_diag_install(void)
{
    struct sigaction old;
    if (gpy_sys_sigaction(SIGQUIT, NULL, &old) == 0 &&
        old.sa_handler == SIG_DFL) {
        struct sigaction sa;
        memset(&sa, 0, sizeof(sa));
        sa.sa_handler = on_sigquit;
        sa.sa_flags = SA_ONSTACK;
        sigfillset(&sa.sa_mask);
        gpy_sys_sigaction(SIGQUIT, &sa, NULL);
    }
    const char *env =
        Py_IgnoreEnvironmentFlag ? NULL : getenv("GPYTHON_BLOCKREPORT");
    PyObject *v = xoption("gpython.blockreport");
    long ms = 0;
    if (v && PyUnicode_Check(v)) {
        ms = strtol(PyUnicode_AsUTF8(v), NULL, 10);
        if (ms <= 0) {
            Py_DECREF(v);
            PyErr_SetString(PyExc_ValueError,
                            "-X gpython.blockreport=MS: MS must be a "
                            "positive number of milliseconds");
            return -1;
        }
    } else if (v == Py_True) {
        ms = 100;
    } else if (env && *env) {
        ms = strtol(env, NULL, 10);
    }
    Py_XDECREF(v);
    if (ms > 0) {
        gpy_py_blockreport_ns = (int64_t)ms * 1000000;
        gpy_hooks hooks = {.run_ended = br_run_ended};
        gpy_sched_set_hooks(&hooks);
        gpy_sched_track_runs(1);
        gpy_py_preempt_start();
    }
    return 0;
}

# cython: language_level=3
# cyext.pyx: gpython's C API from Cython.
#
#   squares(n) -> chan[C.double]   a C goroutine (nogil) sends i*i for
#                                  i in 0 .. n-1, then closes
#   poll(ch) -> (ok, v) or None    a non-blocking receive with gpy_select
#                                  and GPY_SELECT_NONBLOCK (Go's default)
from libc.stdlib cimport malloc, free
from gpython cimport (gpython_import, gpy_chan, gpy_case, gpy_chan_new,
                      gpy_chan_decref, gpy_chan_send, gpy_chan_close,
                      gpy_chan_wrap, gpy_chan_unwrap, gpy_case_recv,
                      gpy_select, gpy_go, GPY_SELECT_NONBLOCK)

gpython_import()

ctypedef struct job:
    gpy_chan *ch
    int n

cdef void produce(void *arg) nogil:
    cdef job *j = <job *>arg
    cdef double v
    cdef int i
    for i in range(j.n):
        v = <double>i * i
        if gpy_chan_send(j.ch, &v) < 0:
            break
    gpy_chan_close(j.ch)
    gpy_chan_decref(j.ch)
    free(j)

def squares(int n):
    cdef gpy_chan *ch = gpy_chan_new(sizeof(double), 0)
    if ch == NULL:
        raise MemoryError()
    py = gpy_chan_wrap(ch, b"C.double")
    cdef job *j = <job *>malloc(sizeof(job))
    if j == NULL:
        gpy_chan_decref(ch)
        raise MemoryError()
    j.ch = ch
    j.n = n
    if gpy_go(produce, j) < 0:
        free(j)
        gpy_chan_decref(ch)
        raise OSError("gpy_go failed")
    return py

def poll(ch):
    cdef gpy_chan *c = gpy_chan_unwrap(ch, sizeof(double))
    cdef double v = 0
    cdef int ok = 0
    cdef gpy_case cases[1]
    cases[0] = gpy_case_recv(c, &v, &ok)
    cdef int r
    with nogil:
        r = gpy_select(cases, 1, GPY_SELECT_NONBLOCK)
    if r < 0:
        return None
    return (bool(ok), v)

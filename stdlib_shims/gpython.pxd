# gpython.pxd: gpython's C API (gpython/gpython.h) for Cython code.
#
#     from gpython cimport gpython_import, gpy_chan, gpy_chan_new, ...
#     gpython_import()          # at module level, once
#
# Compile with the include path `pkg-config --cflags gpython` gives and
# this directory on Cython's include path (pkg-config --variable=pxddir
# gpython). Every function but gpython_import, gpy_chan_wrap and
# gpy_chan_unwrap may be called without the GIL (in `with nogil:` blocks
# and from C goroutines).
from libc.stdint cimport int64_t, uint64_t

cdef extern from "gpython/gpython.h":
    int GPYTHON_API_VERSION

    # Needs the GIL; raises ImportError outside gpython.
    int gpython_import() except -1

    # GIL held; a new chan object sharing ch, typed dtype ("C.int",
    # "C.double", "C.bool", "C.structZ", "C.bytes:N").
    object gpy_chan_wrap(gpy_chan *ch, const char *dtype)
    # GIL held; borrowed; NULL without an exception for a typed nil chan.
    gpy_chan *gpy_chan_unwrap(object chan, size_t elemsize) except? NULL

cdef extern from "gpython/gpython.h" nogil:
    ctypedef struct gpy_chan:
        pass
    ctypedef struct gpy_case:
        pass
    int GPY_SELECT_NONBLOCK

    int gpy_go(void (*fn)(void *) nogil, void *arg)

    gpy_chan *gpy_chan_new(size_t elemsize, size_t cap)
    void gpy_chan_incref(gpy_chan *ch)
    void gpy_chan_decref(gpy_chan *ch)
    int gpy_chan_send(gpy_chan *ch, const void *elem)
    int gpy_chan_recv(gpy_chan *ch, void *elem)
    int gpy_chan_close(gpy_chan *ch)
    size_t gpy_chan_len(gpy_chan *ch)
    size_t gpy_chan_cap(gpy_chan *ch)
    size_t gpy_chan_elemsize(gpy_chan *ch)

    gpy_case gpy_case_send(gpy_chan *ch, const void *elem)
    gpy_case gpy_case_recv(gpy_chan *ch, void *elem, int *ok)
    int gpy_select(gpy_case *cases, int n, int flags)

    int gpy_sleep_ns(int64_t ns)
    int gpy_in_goroutine()
    uint64_t gpy_goid()

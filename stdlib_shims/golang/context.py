# -*- coding: utf-8 -*-
"""Package context mirrors Go package context.

A context carries a deadline, a cancellation signal and immutable
key -> value pairs across goroutines:

    ctx, cancel = context.with_cancel(context.background())
    ...
    _, _rx = select(ctx.done().recv, ch.recv)
    if _ == 0:
        raise ctx.err()

Contexts have .done() (a channel closed on cancellation), .err() (None, or
canceled / deadlineExceeded), .deadline() (time.now()-based float or None)
and .value(key) (None when there is no such key).
"""

from golang import go, chan, select, default, nilchan
from golang import time, errors
from golang.sync import Mutex

__all__ = ['Context', 'background', 'canceled', 'deadlineExceeded',
           'with_cancel', 'with_value', 'with_deadline', 'with_timeout',
           'merge']


# canceled is the error Context.err returns when the context is canceled.
canceled = errors.New("context canceled")

# deadlineExceeded is the error Context.err returns when time passes the
# context's deadline.
deadlineExceeded = errors.New("deadline exceeded")


class Context(object):
    """Context is what every context provides. Other implementations may
    be used as parents; they need not derive from this class."""

    def deadline(ctx):  # -> float | None
        """deadline returns the time when the context gets canceled, or None."""
        raise NotImplementedError()

    def done(ctx):      # -> chan
        """done returns a channel that is closed when the context is canceled."""
        raise NotImplementedError()

    def err(ctx):       # -> error | None
        """err returns None while done is open, then why it was closed."""
        raise NotImplementedError()

    def value(ctx, key):
        """value returns the value associated with key, or None."""
        raise NotImplementedError()


class _Background(Context):
    """_Background is the root context: never canceled, no deadline, no
    values."""

    def done(bg):
        return nilchan

    def err(bg):
        return None

    def value(bg, key):
        return None

    def deadline(bg):
        return None

    def __repr__(bg):
        return "context.background()"

_background = _Background()


def background():   # -> Context
    """background returns the empty context that is never canceled."""
    return _background


def with_cancel(parent):    # -> ctx, cancel
    """with_cancel returns a context that is canceled when cancel() is called
    or when parent is canceled, whichever happens first. Call cancel as soon
    as the work with ctx is over, to release resources."""
    ctx = _BaseCtx(chan(), parent)
    return ctx, lambda: ctx._cancel(canceled)


def with_value(parent, key, value):     # -> ctx
    """with_value returns a context with key=value and everything else
    (including the done channel) inherited from parent."""
    return _ValueCtx(key, value, parent)


def with_deadline(parent, deadline):    # -> ctx, cancel
    """with_deadline returns a context that is canceled when time passes
    deadline (err() is then deadlineExceeded), when cancel() is called, or
    when parent is canceled -- whichever happens first. The effective
    deadline is the earlier of deadline and parent's."""
    pdeadline = parent.deadline()
    if pdeadline is not None and pdeadline <= deadline:
        return with_cancel(parent)  # parent's deadline comes first anyway

    ctx = _BaseCtx(chan(), parent, deadline=deadline)
    dt = deadline - time.now()
    if dt <= 0:
        ctx._cancel(deadlineExceeded)
    else:
        with ctx._mu:
            if ctx._err is None:    # parent may have canceled us already
                ctx._timer = time.after_func(
                        dt, lambda: ctx._cancel(deadlineExceeded))
    return ctx, lambda: ctx._cancel(canceled)


def with_timeout(parent, timeout):  # -> ctx, cancel
    """with_timeout is with_deadline(parent, time.now() + timeout)."""
    return with_deadline(parent, time.now() + timeout)


def merge(parent1, parent2):    # -> ctx, cancel
    """merge returns a context that

    - is done when parent1 or parent2 is done, or cancel is called,
    - has deadline = min(parent1.deadline, parent2.deadline),
    - has the values of both parents, parent1's taking precedence.

    (In Go this is lab.nexedi.com/kirr/go123/xcontext.Merge.)"""
    ctx = _BaseCtx(chan(), parent1, parent2)
    return ctx, lambda: ctx._cancel(canceled)


# ---- implementation ----

def _ready(ch):
    """_ready tells whether a receive from ch would not block."""
    _, _rx = select(ch.recv_, default)
    if _ == 0:
        # we consumed a value: only closed channels are expected here
        return True
    return False


class _BaseCtx(Context):
    """_BaseCtx is a context with parents: it is canceled with the error of
    the first parent that gets canceled, or by its own _cancel.

    Cancellation propagates down through _children (contexts of this
    package); for a parent that is some other Context implementation a
    goroutine waits on its done channel."""

    def __init__(ctx, done, *parents, deadline=None):
        ctx._parents = parents
        ctx._mu = Mutex()
        ctx._children = set()   # _BaseCtx to cancel together with us
        ctx._err = None
        ctx._timer = None       # deadline timer, if we have our own
        # done: our own channel (closed on _cancel), or None to share the
        # one of our single parent (value contexts).
        ctx._done = done if done is not None else parents[0].done()
        ctx._owndone = done is not None

        d = deadline
        for p in parents:
            pd = p.deadline()
            if pd is not None and (d is None or pd < d):
                d = pd
        ctx._deadline = d

        for p in parents:
            ctx._attach(p)

    def _attach(ctx, parent):
        pdone = parent.done()
        if pdone is nilchan:
            return      # parent is never canceled

        if isinstance(parent, _BaseCtx):
            with parent._mu:
                perr = parent._err
                if perr is None:
                    parent._children.add(ctx)
            if perr is not None:
                ctx._cancel(perr)
            return

        # foreign Context: watch its done channel from a goroutine that also
        # quits when we are canceled.
        if _ready(pdone):
            ctx._cancel(parent.err())
            return
        if ctx._owndone:
            def _():
                _, _rx = select(
                    pdone.recv,         # 0
                    ctx._done.recv,     # 1
                )
                if _ == 0:
                    ctx._cancel(parent.err())
        else:
            # a value context is only ever canceled by its parent, but its
            # children still need to hear about it.
            def _():
                pdone.recv()
                ctx._cancel(parent.err())
        go(_)

    def _cancel(ctx, err):
        with ctx._mu:
            if ctx._err is not None:
                return  # already canceled
            ctx._err = err
            children = ctx._children
            ctx._children = set()
            timer = ctx._timer
            ctx._timer = None

        if timer is not None:
            timer.stop()
        if ctx._owndone:
            ctx._done.close()

        # parents need not cancel us any more
        for p in ctx._parents:
            if isinstance(p, _BaseCtx):
                with p._mu:
                    p._children.discard(ctx)

        for child in children:
            child._cancel(err)

    def done(ctx):
        return ctx._done

    def err(ctx):
        with ctx._mu:
            return ctx._err

    def deadline(ctx):
        return ctx._deadline

    def value(ctx, key):
        for p in ctx._parents:
            v = p.value(key)
            if v is not None:
                return v
        return None


class _ValueCtx(_BaseCtx):
    """_ValueCtx adds key=value to its parent; it shares parent's done."""

    def __init__(ctx, key, value, parent):
        ctx._key = key
        ctx._value = value
        _BaseCtx.__init__(ctx, None, parent)

    def value(ctx, key):
        # As pygolang: the same key object, not an equal one (Go compares
        # keys with ==, but pygolang's users create keys as unique
        # objects, and an equal string from elsewhere must not match).
        if ctx._key is key:
            return ctx._value
        return _BaseCtx.value(ctx, key)

    def err(ctx):
        # done is the parent's: once it is closed, err must not be None
        # even if the cancellation did not reach us yet.
        err = _BaseCtx.err(ctx)
        if err is None:
            err = ctx._parents[0].err()
        return err

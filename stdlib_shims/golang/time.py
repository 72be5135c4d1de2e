# -*- coding: utf-8 -*-
"""Package time mirrors Go package time, as pygolang's golang.time.

Time is a float in seconds as in Python's time module (now() is
time.time()); durations are floats: second, minute, millisecond, ...

- Timer / after / after_func: one event on .c (or a call) after dt.
- Ticker / tick: events on .c every dt.

Each armed timer and each ticker is a goroutine waiting for its time.
stop() wakes that goroutine, which then ends: a stopped timer leaves nothing
behind (in particular nothing that would keep gpython from reporting a
deadlock).
"""

import time as _time
import _thread
from golang import go, chan, select, default, nilchan, panic
from golang.sync import Mutex

__all__ = ['second', 'nanosecond', 'microsecond', 'millisecond', 'minute',
           'hour', 'now', 'sleep', 'tick', 'after', 'after_func', 'Timer',
           'Ticker']

second      = 1.0
nanosecond  = 1E-9 * second
microsecond = 1E-6 * second
millisecond = 1E-3 * second
minute      = 60   * second
hour        = 60   * minute

sleep = _time.sleep
now   = _time.time


class _Sleep(object):
    """_Sleep is a sleep that another goroutine can cut short (once).

    It waits on a held lock with a timeout: under gpython that parks only
    the goroutine (a runtime timer), and release() wakes it at once."""

    __slots__ = ('_lock',)

    def __init__(self):
        self._lock = _thread.allocate_lock()
        self._lock.acquire()

    def sleep(self, dt):    # -> woken early
        deadline = _time.monotonic() + dt
        while 1:
            remaining = deadline - _time.monotonic()
            if remaining <= 0:
                return False
            if self._lock.acquire(timeout=min(remaining, _thread.TIMEOUT_MAX)):
                return True

    def wake(self):
        self._lock.release()


def tick(dt):   # -> chan time
    """tick returns the channel of a new Ticker(dt); the ticker cannot be
    stopped. For dt <= 0 it returns nilchan instead of panicking."""
    if dt <= 0:
        return nilchan
    return Ticker(dt).c


def after(dt):  # -> chan time
    """after returns the channel of a new Timer(dt)."""
    return Timer(dt).c


def after_func(dt, f):  # -> Timer
    """after_func arranges for f() to be called, in its own goroutine, after
    dt. The returned Timer can cancel the call."""
    return Timer(dt, f=f)


class Ticker(object):
    """Ticker sends the current time to .c every dt.

    .c has a buffer of 1: if the receiver is slow, ticks are dropped, not
    queued. stop() cancels it, reset(dt) changes its period."""

    def __init__(self, dt):
        if dt <= 0:
            panic("ticker: dt <= 0")
        self.c = chan(1)
        self._mu = Mutex()
        self._ver = 0       # bumped by stop/reset: older tick loops quit
        self._sleep = None  # the running tick loop's, None when stopped
        self._start(dt)

    def _start(self, dt):
        # self._mu held
        self._ver += 1
        self._sleep = _Sleep()
        go(self._tick, dt, self._ver, self._sleep)

    def _halt(self):
        # self._mu held
        self._ver += 1
        if self._sleep is not None:
            self._sleep.wake()
            self._sleep = None
        while len(self.c) > 0:      # drop what was already queued
            self.c.recv()

    def stop(self):
        """stop cancels the ticker. After it returns .c is empty and gets no
        more ticks."""
        with self._mu:
            self._halt()

    def reset(self, dt):
        """reset stops the ticker and restarts it with period dt."""
        if dt <= 0:
            panic("ticker: dt <= 0")
        with self._mu:
            self._halt()
            self._start(dt)

    def _tick(self, dt, ver, sleeper):
        # Tick at t0 + k*dt rather than sleeping dt after each tick, so
        # that the period does not drift.
        tnext = _time.monotonic() + dt
        while 1:
            if sleeper.sleep(tnext - _time.monotonic()):
                return      # stopped or reset
            with self._mu:
                if self._ver != ver:
                    return
                # send under _mu so that stop() draining the channel cannot
                # race with it; drop the tick if the receiver is behind.
                select(default, (self.c.send, now()))
            tnext += dt
            t = _time.monotonic()
            if tnext < t:       # fell behind (slow scheduling): skip ticks
                tnext = t + dt - ((t - tnext) % dt)


class Timer(object):
    """Timer sends the current time to .c once, after dt.

    With f given, f() is called (in the timer's goroutine) instead and .c is
    nilchan. stop() cancels it; reset(dt) re-arms a stopped or expired one."""

    def __init__(self, dt, f=None):
        self._f = f
        self.c = chan(1) if f is None else nilchan
        self._mu = Mutex()
        self._dt = None     # None: stopped or expired; float: armed
        self._ver = 0       # bumped by stop/reset: older firings are void
        self._sleep = None  # the armed firing's
        self.reset(dt)

    def stop(self):     # -> canceled
        """stop cancels the timer.

        It returns True if the timer was armed and this call stopped it,
        False if it had already expired or been stopped. Unlike Go, .c is
        guaranteed empty after stop: there is no need to drain it. As in
        Go, with f, stop does not wait for an f that already started."""
        with self._mu:
            if self._dt is None:
                canceled = False
            else:
                self._dt = None
                self._ver += 1
                self._sleep.wake()
                self._sleep = None
                canceled = True

            while len(self.c) > 0:      # drop what _fire already queued
                self.c.recv()

            return canceled

    def reset(self, dt):
        """reset re-arms the timer to fire after dt. The timer must be
        stopped or expired: resetting an armed timer panics."""
        with self._mu:
            if self._dt is not None:
                panic("Timer.reset: the timer is armed; must be stopped or expired")
            self._dt = dt
            self._ver += 1
            self._sleep = _Sleep()
            go(self._fire, dt, self._ver, self._sleep)

    def _fire(self, dt, ver, sleeper):
        if sleeper.sleep(dt):
            return      # stopped
        with self._mu:
            if self._ver != ver:
                return  # stopped or reset meanwhile
            self._dt = None
            self._sleep = None
            if self._f is None:
                # under _mu so that stop() seeing _dt=None knows there is no
                # send in flight; never block on a full channel.
                select(default, (self.c.send, now()))
                return
        # not under _mu: f may well want to reset the timer.
        self._f()

"""goless.channels: Go-like channels — unbuffered (SyncChannel), buffered
(BufferedChannel) and never-blocking (AsyncChannel) — over the backend's
rendezvous channel, as goless builds them."""
import collections as _collections
import sys as _sys

from .backends import current as _be


class ChannelClosed(Exception):
    """Raised by a send or receive on a closed channel (a receive once the
    buffer is drained), and by one blocked when the channel closes."""


class GoChannel(object):
    """A channel: send, recv, close; iterate to receive until closed.
    Make them with goless.chan()."""

    def __init__(self):
        self._closed = False

    def send(self, value=None):
        """Send value: blocks until a receiver takes it or the buffer has
        room. ChannelClosed if the channel is or gets closed."""
        if self._closed:
            raise ChannelClosed()
        self._send(value)

    def _send(self, value):
        raise NotImplementedError()

    def recv(self):
        """Receive a value, blocking until one is there. ChannelClosed
        once the channel is closed and drained, or when it closes while
        this waits."""
        if self._closed and not self.recv_ready():
            raise ChannelClosed()
        return self._recv()

    def _recv(self):
        raise NotImplementedError()

    def recv_ready(self):
        """Whether a recv would not block (a value or a sender waits)."""
        raise NotImplementedError()

    def send_ready(self):
        """Whether a send would not block (room, or a receiver waits)."""
        raise NotImplementedError()

    def close(self):
        """Close the channel: blocked senders and receivers get
        ChannelClosed, and so do later sends (and receives once drained)."""
        self._closed = True

    def __iter__(self):
        return self

    def __next__(self):
        try:
            return self.recv()
        except ChannelClosed:
            raise StopIteration

    next = __next__


class BufferedChannel(GoChannel):
    """A channel with a buffer of `size` values (0: unbuffered).

    Values beyond the buffer, and the values of unbuffered sends, go
    through the backend's rendezvous channel: a sender blocks there when
    the buffer is full (or the channel unbuffered) and no receiver waits;
    a receiver blocks there when the buffer is empty and no sender waits.
    A receiver that takes a buffered value lets one blocked sender put its
    value into the room it made."""

    def __init__(self, size):
        assert isinstance(size, int) and size >= 0, \
            'size must be an int >= 0, not %r' % (size,)
        GoChannel.__init__(self)
        self.maxsize = size
        self.values_deque = _collections.deque()
        self.waiting_chan = _be.channel()

    def _send(self, value):
        waiting = self.waiting_chan.balance
        if waiting < 0 or len(self.values_deque) >= self.maxsize:
            # a receiver waits (the buffer is empty), or there is no room
            self.waiting_chan.send(value)
            if self._closed:
                raise ChannelClosed('Channel closed while sending')
        else:
            self.values_deque.append(value)

    def _recv(self):
        if self.values_deque:
            value = self.values_deque.popleft()
            if self.waiting_chan.balance > 0:
                # a sender waits for room: it has some now
                self.values_deque.append(self.waiting_chan.receive())
            return value
        value = self.waiting_chan.receive()
        if self._closed:
            raise ChannelClosed('Channel closed while receiving')
        return value

    def recv_ready(self):
        return bool(self.values_deque) or self.waiting_chan.balance > 0

    def send_ready(self):
        if self.waiting_chan.balance < 0:
            return True      # a receiver waits
        return len(self.values_deque) < self.maxsize

    def close(self):
        # Let what is running finish its operation first, then wake every
        # blocked party: they see the channel closed.
        _be.yield_()
        GoChannel.close(self)
        balance = self.waiting_chan.balance
        for _ in range(balance, 0):      # blocked receivers
            self.waiting_chan.send(None)
        for _ in range(balance):         # blocked senders
            self.waiting_chan.receive()


class SyncChannel(BufferedChannel):
    """An unbuffered channel: a send waits for a receiver and a receive
    for a sender."""

    def __init__(self):
        BufferedChannel.__init__(self, 0)


class AsyncChannel(BufferedChannel):
    """A channel whose sends never block (its buffer is unbounded)."""

    def __init__(self):
        BufferedChannel.__init__(self, _sys.maxsize)


def chan(size=0):
    """A new channel: size 0 or None unbuffered (SyncChannel), > 0 with a
    buffer of that many values (BufferedChannel), < 0 never blocking on
    send (AsyncChannel)."""
    if not size:
        return SyncChannel()
    if size < 0:
        return AsyncChannel()
    return BufferedChannel(size)

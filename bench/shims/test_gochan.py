# test_gochan.py: Go-semantics checks of go/chan/select, run under every
# runtime (the gevent and thread shims, and gpython's builtins), so the peers
# benchmark the same semantics gpython provides.
#   /usr/bin/python3 bench/shims/run_with.py {gevent|threads} bench/shims/test_gochan.py
#   build/gpython bench/shims/test_gochan.py
import sys
import time

failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print('FAIL', what, flush=True)


def panics(fn, words):
    try:
        fn()
    except BaseException as e:          # pygolang's panic type varies
        return words in str(e)
    return False


def test_unbuffered_send_waits():
    ch = chan()
    state = []

    def sender():
        ch.send(1)
        state.append('sent')

    go(sender)
    time.sleep(0.05)
    check(state == [], 'unbuffered send returned before a receiver came')
    check(ch.recv() == 1, 'unbuffered value')
    time.sleep(0.05)
    check(state == ['sent'], 'sender not released by the receive')


def test_buffered():
    ch = chan(3)
    check(ch.cap() == 3 and len(ch) == 0, 'cap/len of new chan(3)')
    for i in range(3):
        ch.send(i)
    check(len(ch) == 3, 'len after 3 sends')
    i, _ = select((ch.send, 9), default)
    check(i == 1, 'send to a full buffer is not ready')
    check([ch.recv() for _ in range(3)] == [0, 1, 2], 'FIFO order')


def test_close():
    ch = chan(2)
    ch.send('a')
    ch.close()
    check(ch.recv_() == ('a', True), 'buffered value survives close')
    check(ch.recv_() == (None, False), 'recv_ on closed empty channel')
    check(ch.recv() is None, 'recv on closed empty channel')
    check(panics(lambda: ch.send(1), 'send on closed channel'), 'send on closed panics')
    check(panics(ch.close, 'close of closed channel'), 'double close panics')
    check(panics(nilchan.close, 'close of nil channel'), 'close of nilchan panics')

    # close wakes every blocked receiver with ok=False
    c = chan()
    out = chan(3)

    def rx():
        out.send(c.recv_())

    for _ in range(3):
        go(rx)
    time.sleep(0.05)
    c.close()
    check([out.recv() for _ in range(3)] == [(None, False)] * 3, 'close wakes receivers')

    # ... and makes blocked senders panic
    c = chan()
    res = chan(1)

    def tx():
        res.send(panics(lambda: c.send(1), 'send on closed channel'))

    go(tx)
    time.sleep(0.05)
    c.close()
    check(res.recv() is True, 'close makes a blocked sender panic')


def test_select():
    a, b = chan(1), chan(1)
    check(select(a.recv, b.recv, default) == (2, None), 'select falls to default')
    a.send('x')
    check(select(a.recv, b.recv_, default) == (0, 'x'), 'select recv case')
    b.send('y')
    check(select(a.recv, b.recv_) == (1, ('y', True)), 'select recv_ case')

    # fairness: both ready, each chosen about half of the time
    hits = [0, 0]
    for _ in range(2000):
        a.send(1)
        b.send(2)
        i, v = select(a.recv, b.recv)
        hits[i] += 1
        (b if i == 0 else a).recv()
    check(800 < hits[0] < 1200, 'select is not uniformly random: %r' % (hits,))

    # blocking select completes a send to a receiver that arrives later
    c = chan()
    got = chan(1)
    go(lambda: (time.sleep(0.02), got.send(c.recv())))
    i, v = select(nilchan.recv, (c.send, 42))
    check((i, v) == (1, None) and got.recv() == 42, 'blocking select send')

    # blocking select wakes on close with ok=False
    d = chan()
    go(lambda: (time.sleep(0.02), d.close()))
    check(select(nilchan.recv, d.recv_) == (1, (None, False)), 'select sees close')

    # a select that lost on one channel must not steal later values from it
    e, f = chan(), chan()
    for k in range(50):
        go(f.send, k)
        i, v = select(e.recv, f.recv)
        check(i == 1 and v == k, 'select round %d' % k)
    go(e.send, 'late')
    check(e.recv() == 'late', 'stale select waiter took a value')

    check(select(nilchan.recv, default) == (1, None), 'nilchan never ready')


def test_pingpong_many():
    # many goroutines through one unbuffered channel: nothing lost or duplicated
    ch = chan()
    n = 200
    for k in range(n):
        go(ch.send, k)
    check(sorted(ch.recv() for _ in range(n)) == list(range(n)), 'fan-in lost values')


def main():
    for name, fn in sorted(globals().items()):
        if name.startswith('test_'):
            fn()
    if failures:
        print('FAILED: %d check(s)' % len(failures))
        sys.exit(1)
    print('OK')


main()

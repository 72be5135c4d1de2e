#!/usr/bin/env gpython
# sieve.py: Go's concurrent prime sieve — a generator goroutine feeds a chain
# of filter goroutines, one per prime found so far, linked by unbuffered
# channels. Prints the first N primes (default 100), one per line.
#
#   gpython examples/sieve.py [N]
import sys


def generate(ch):
    """Send 2, 3, 4, ... to ch."""
    i = 2
    while True:
        ch.send(i)
        i += 1


def sieve_filter(src, dst, prime):
    """Copy the values from src to dst, dropping multiples of prime."""
    while True:
        i = src.recv()
        if i % prime:
            dst.send(i)


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 100
    if n < 0:
        sys.exit("usage: sieve.py [N]  (N >= 0)")
    ch = chan()
    go(generate, ch)
    for _ in range(n):
        prime = ch.recv()
        print(prime)
        ch1 = chan()
        go(sieve_filter, ch, ch1, prime)
        ch = ch1
    # Returning from main abandons the goroutines still blocked in the
    # chain, as in Go.


if __name__ == "__main__":
    main()

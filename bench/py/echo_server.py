# echo_server: a blocking-style TCP echo server, one goroutine (thread) per
# connection. Prints "READY port=P" once listening; runs until killed.
# usage: echo_server.py [PORT]
import socket
import sys


def serve(conn):
    with conn:
        while True:
            data = conn.recv(65536)
            if not data:
                return
            conn.sendall(data)


def main():
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 0
    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(('127.0.0.1', port))
    ls.listen(1024)
    print('READY port=%d' % ls.getsockname()[1], flush=True)
    while True:
        conn, _ = ls.accept()
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        go(serve, conn)


main()

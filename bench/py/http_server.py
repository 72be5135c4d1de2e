# http_server: the stdlib ThreadingHTTPServer answering every GET with a
# small body over HTTP/1.1 keep-alive. Prints "READY port=P"; runs until
# killed. usage: http_server.py [PORT]
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

BODY = b'Hello, World!\n'


class Handler(BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'
    # Headers and body go out in two writes; with Nagle on, delayed ACKs
    # would cap every keep-alive connection at ~25 requests/s.
    disable_nagle_algorithm = True

    def do_GET(self):
        self.send_response(200)
        self.send_header('Content-Type', 'text/plain')
        self.send_header('Content-Length', str(len(BODY)))
        self.end_headers()
        self.wfile.write(BODY)

    def log_message(self, format, *args):
        pass


class Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        # wrk drops its connections mid-request when its time is up.
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)


def main():
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 0
    srv = Server(('127.0.0.1', port), Handler)
    print('READY port=%d' % srv.server_address[1], flush=True)
    srv.serve_forever()


main()

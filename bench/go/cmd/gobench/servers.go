// The reference servers: a goroutine-per-connection TCP echo server and a
// net/http server with the same small body as bench/py/http_server.py.
package main

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"strconv"
)

func listen(port int) net.Listener {
	ln, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(port))
	if err != nil {
		fail("%v", err)
	}
	fmt.Printf("READY port=%d\n", ln.Addr().(*net.TCPAddr).Port)
	os.Stdout.Sync()
	return ln
}

func echoServer(port int) {
	ln := listen(orDefault(port, 0))
	for {
		c, err := ln.Accept()
		if err != nil {
			fail("%v", err)
		}
		go func(c net.Conn) {
			defer c.Close()
			buf := make([]byte, 65536)
			for {
				n, err := c.Read(buf)
				if n > 0 {
					if _, werr := c.Write(buf[:n]); werr != nil {
						return
					}
				}
				if err != nil {
					return
				}
			}
		}(c)
	}
}

var body = []byte("Hello, World!\n")

func httpServer(port int) {
	ln := listen(orDefault(port, 0))
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		w.Write(body)
	})
	fail("%v", http.Serve(ln, h))
}

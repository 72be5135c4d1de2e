// gobench runs the Go versions of the benchmarks in bench/py/, one
// subcommand per program, printing the same "RESULT key=value" lines.
//
//	gobench NAME [N|PORT]
package main

import (
	"fmt"
	"os"
	"strconv"
)

var benches = map[string]func(n int){
	"chan_sync":      chanSync,
	"chan_buff":      chanBuff,
	"chan_async":     chanAsync,
	"select":         selectTwo,
	"select_default": selectDefault,
	"spawn":          spawn,
	"pingpong":       pingpong,
	"sleep":          sleep,
	"park":           park,
	"echo_server":    echoServer,
	"http_server":    httpServer,
	"hash2":          hash2,
	"zlib2":          zlib2,
	"live_syscall":   liveSyscall,
	"live_compute":   liveCompute,
}

func main() {
	if len(os.Args) < 2 || benches[os.Args[1]] == nil {
		fmt.Fprintln(os.Stderr, "usage: gobench NAME [N|PORT]")
		os.Exit(2)
	}
	n := -1
	if len(os.Args) > 2 {
		v, err := strconv.Atoi(os.Args[2])
		if err != nil {
			fmt.Fprintln(os.Stderr, "gobench: bad N:", err)
			os.Exit(2)
		}
		n = v
	}
	benches[os.Args[1]](n)
}

func orDefault(n, def int) int {
	if n < 0 {
		return def
	}
	return n
}

func fail(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, "gobench: "+format+"\n", args...)
	os.Exit(1)
}

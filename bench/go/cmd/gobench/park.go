// park: the Go twin of bench/py/park.py — N goroutines parked in a channel
// receive, then this process's peak and current RSS.
package main

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

func statusKB(key string) int {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		fail("%v", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if ok && k == key {
			kb, err := strconv.Atoi(strings.Fields(v)[0])
			if err != nil {
				fail("%v", err)
			}
			return kb
		}
	}
	fail("no %s in /proc/self/status", key)
	return 0
}

func park(n int) {
	n = orDefault(n, 100000)
	ready := make(chan struct{})
	block := make(chan struct{})
	t0 := time.Now()
	for i := 0; i < n; i++ {
		go func() {
			ready <- struct{}{}
			<-block
		}()
	}
	for i := 0; i < n; i++ {
		<-ready
	}
	dt := time.Since(t0)
	fmt.Printf("RESULT vmhwm_kb=%d vmrss_kb=%d n=%d spawn_s=%.3f\n",
		statusKB("VmHWM"), statusKB("VmRSS"), n, dt.Seconds())
}

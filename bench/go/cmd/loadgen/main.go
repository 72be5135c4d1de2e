// loadgen: the echo load generator used against every runtime's echo
// server. Opens C connections, then each does R round trips of S bytes
// (write S, read S back, check them) concurrently.
//
//	loadgen -addr 127.0.0.1:PORT [-conns 50] [-rounds 2000] [-size 64]
//
// prints: RESULT ns_per_rt=<wall/(C*R)> rt_per_s=... lat_mean_us=...
// lat_p50_us=... lat_p99_us=... wall_s=...
package main

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"sort"
	"sync"
	"time"
)

func main() {
	addr := flag.String("addr", "", "server host:port")
	conns := flag.Int("conns", 50, "connections")
	rounds := flag.Int("rounds", 2000, "round trips per connection")
	size := flag.Int("size", 64, "message size in bytes")
	flag.Parse()
	if *addr == "" {
		fmt.Fprintln(os.Stderr, "loadgen: -addr is required")
		os.Exit(2)
	}

	cs := make([]net.Conn, *conns)
	for i := range cs {
		c, err := net.DialTimeout("tcp", *addr, 10*time.Second)
		if err != nil {
			fmt.Fprintln(os.Stderr, "loadgen: dial:", err)
			os.Exit(1)
		}
		cs[i] = c
	}

	lat := make([][]time.Duration, *conns)
	errs := make(chan error, *conns)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i, c := range cs {
		wg.Add(1)
		go func(i int, c net.Conn) {
			defer wg.Done()
			out := make([]byte, *size)
			in := make([]byte, *size)
			l := make([]time.Duration, 0, *rounds)
			<-start
			for r := 0; r < *rounds; r++ {
				for k := range out {
					out[k] = byte(i + r + k)
				}
				t := time.Now()
				if _, err := c.Write(out); err != nil {
					errs <- err
					return
				}
				if _, err := io.ReadFull(c, in); err != nil {
					errs <- err
					return
				}
				l = append(l, time.Since(t))
				if !bytes.Equal(in, out) {
					errs <- fmt.Errorf("conn %d round %d: echo mismatch", i, r)
					return
				}
			}
			lat[i] = l
		}(i, c)
	}
	t0 := time.Now()
	close(start)
	wg.Wait()
	wall := time.Since(t0)
	for _, c := range cs {
		c.Close()
	}
	select {
	case err := <-errs:
		fmt.Fprintln(os.Stderr, "loadgen:", err)
		os.Exit(1)
	default:
	}

	var all []time.Duration
	var sum time.Duration
	for _, l := range lat {
		all = append(all, l...)
		for _, d := range l {
			sum += d
		}
	}
	sort.Slice(all, func(a, b int) bool { return all[a] < all[b] })
	total := len(all)
	us := func(d time.Duration) float64 { return float64(d.Nanoseconds()) / 1e3 }
	fmt.Printf("RESULT ns_per_rt=%.1f rt_per_s=%.0f lat_mean_us=%.1f lat_p50_us=%.1f lat_p99_us=%.1f wall_s=%.4f\n",
		float64(wall.Nanoseconds())/float64(total), float64(total)/wall.Seconds(),
		us(sum)/float64(total), us(all[total/2]), us(all[total*99/100]), wall.Seconds())
}

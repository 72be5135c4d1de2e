package main

// The Go twins of bench/py/hash2.py, zlib2.py, live_syscall.py and
// live_compute.py.

import (
	"bytes"
	"compress/zlib"
	"crypto/sha256"
	"fmt"
	"io"
	"strconv"
	"syscall"
	"time"
	"unsafe"
)

func wallResult(n int, dt time.Duration) {
	fmt.Printf("RESULT wall_ms=%.1f n=%d elapsed_s=%.4f\n",
		float64(dt.Nanoseconds())/1e6, n, dt.Seconds())
}

func hash2(n int) {
	n = orDefault(n, 2)
	data := bytes.Repeat([]byte{0x5a}, 64<<20)
	done := make(chan struct{}, n)
	t0 := time.Now()
	for i := 0; i < n; i++ {
		go func() {
			sha256.Sum256(data)
			done <- struct{}{}
		}()
	}
	for i := 0; i < n; i++ {
		<-done
	}
	wallResult(n, time.Since(t0))
}

func zlib2(n int) {
	n = orDefault(n, 2)
	size := 16 << 20
	var buf bytes.Buffer
	for i := 0; buf.Len() < size; i++ {
		buf.WriteString(strconv.Itoa(i * i))
		buf.WriteByte(' ')
	}
	data := buf.Bytes()[:size]
	done := make(chan struct{}, n)
	t0 := time.Now()
	for i := 0; i < n; i++ {
		go func() {
			w, _ := zlib.NewWriterLevel(io.Discard, 6)
			w.Write(data)
			w.Close()
			done <- struct{}{}
		}()
	}
	for i := 0; i < n; i++ {
		<-done
	}
	wallResult(n, time.Since(t0))
}

// ticking runs busy() in a goroutine while another ticks every 10 ms,
// and reports the longest gap between ticks.
func ticking(busy func()) {
	var gaps []time.Duration
	stop := make(chan struct{})
	done := make(chan struct{}, 2)
	go func() {
		last := time.Now()
		for {
			select {
			case <-stop:
				done <- struct{}{}
				return
			default:
			}
			time.Sleep(10 * time.Millisecond)
			now := time.Now()
			gaps = append(gaps, now.Sub(last))
			last = now
		}
	}()
	time.Sleep(50 * time.Millisecond)
	t0 := time.Now()
	go func() {
		busy()
		done <- struct{}{}
	}()
	<-done
	close(stop)
	<-done
	dt := time.Since(t0)
	var max time.Duration
	for _, g := range gaps {
		if g > max {
			max = g
		}
	}
	fmt.Printf("RESULT gap_ms=%.1f ticks=%d elapsed_s=%.4f\n",
		float64(max.Nanoseconds())/1e6, len(gaps), dt.Seconds())
}

func liveSyscall(ms int) {
	ms = orDefault(ms, 1000)
	ticking(func() {
		ts := syscall.Timespec{Sec: int64(ms / 1000), Nsec: int64(ms%1000) * 1e6}
		syscall.Syscall(syscall.SYS_NANOSLEEP, uintptr(unsafe.Pointer(&ts)), 0, 0)
	})
}

var sink int

func liveCompute(ms int) {
	ms = orDefault(ms, 2000)
	ticking(func() {
		end := time.Now().Add(time.Duration(ms) * time.Millisecond)
		x := 0
		for time.Now().Before(end) {
			for i := 0; i < 100; i++ {
				x += i
			}
		}
		sink = x
	})
}

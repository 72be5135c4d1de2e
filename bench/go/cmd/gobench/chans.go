// Channel, select and goroutine benchmarks: the Go twins of
// bench/py/{chan_sync,chan_buff,chan_async,select,select_default,spawn,
// pingpong,sleep}.py, same structure and same checks.
package main

import (
	"fmt"
	"time"
)

func report(n int, dt time.Duration) {
	fmt.Printf("RESULT ns_per_op=%.1f n=%d elapsed_s=%.4f\n",
		float64(dt.Nanoseconds())/float64(n), n, dt.Seconds())
}

func transfer(n, size int) {
	ch := make(chan int, size)
	done := make(chan struct{})
	t0 := time.Now()
	go func() {
		for i := 0; i < n; i++ {
			ch <- i
		}
		close(done)
	}()
	for i := 0; i < n; i++ {
		if <-ch != i {
			fail("out of order")
		}
	}
	<-done
	report(n, time.Since(t0))
}

func chanSync(n int) { transfer(orDefault(n, 100000), 0) }
func chanBuff(n int) { transfer(orDefault(n, 100000), 128) }

func chanAsync(n int) {
	const batch = 100
	rounds := orDefault(n, 100000) / batch
	if rounds < 1 {
		rounds = 1
	}
	n = rounds * batch
	ch := make(chan int, 128)
	t0 := time.Now()
	for r := 0; r < rounds; r++ {
		for i := 0; i < batch; i++ {
			ch <- i
		}
		for i := 0; i < batch; i++ {
			if <-ch != i {
				fail("out of order")
			}
		}
	}
	dt := time.Since(t0)
	if len(ch) != 0 {
		fail("channel not empty")
	}
	report(n, dt)
}

func selectTwo(n int) {
	half := orDefault(n, 100000) / 2
	n = 2 * half
	ch1 := make(chan int)
	ch2 := make(chan int)
	producer := func(ch chan int) {
		for i := 0; i < half; i++ {
			ch <- i
		}
		close(ch)
	}
	t0 := time.Now()
	go producer(ch1)
	go producer(ch2)
	a, b := ch1, ch2
	var got [2]int
	for a != nil || b != nil {
		var v, i int
		var ok bool
		select {
		case v, ok = <-a:
			i = 0
		case v, ok = <-b:
			i = 1
		}
		if !ok {
			if i == 0 {
				a = nil
			} else {
				b = nil
			}
			continue
		}
		if v != got[i] {
			fail("out of order")
		}
		got[i]++
	}
	dt := time.Since(t0)
	if got[0] != half || got[1] != half {
		fail("lost values")
	}
	report(n, dt)
}

func selectDefault(n int) {
	n = orDefault(n, 100000)
	ch1 := make(chan int)
	ch2 := make(chan int, 1)
	t0 := time.Now()
	for k := 0; k < n; k++ {
		i := 0
		select {
		case <-ch1:
			i = 0
		case <-ch2:
			i = 1
		default:
			i = 2
		}
		if i != 2 {
			fail("a case was ready")
		}
	}
	report(n, time.Since(t0))
}

func spawn(n int) {
	n = orDefault(n, 100000)
	done := make(chan int, n)
	t0 := time.Now()
	for i := 0; i < n; i++ {
		go func(i int) { done <- i }(i)
	}
	total := 0
	for i := 0; i < n; i++ {
		total += <-done
	}
	dt := time.Since(t0)
	if total != n*(n-1)/2 {
		fail("wrong sum")
	}
	report(n, dt)
}

func pingpong(n int) {
	n = orDefault(n, 100000)
	ping := make(chan int)
	pong := make(chan int)
	t0 := time.Now()
	go func() {
		for v := range ping {
			pong <- v + 1
		}
	}()
	for i := 0; i < n; i++ {
		ping <- i
		if <-pong != i+1 {
			fail("wrong reply")
		}
	}
	close(ping)
	report(n, time.Since(t0))
}

func sleep(n int) {
	n = orDefault(n, 10000)
	done := make(chan struct{}, n)
	t0 := time.Now()
	for i := 0; i < n; i++ {
		go func() {
			for k := 0; k < 10; k++ {
				time.Sleep(10 * time.Millisecond)
			}
			done <- struct{}{}
		}()
	}
	for i := 0; i < n; i++ {
		<-done
	}
	dt := time.Since(t0)
	fmt.Printf("RESULT wall_ms=%.1f n=%d elapsed_s=%.4f\n",
		float64(dt.Nanoseconds())/1e6, n, dt.Seconds())
}

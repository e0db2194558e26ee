// bench-go-churn: TCP connection churn of a Go client, for bench/run's
// recorder lines (docs/performance.md). Go makes its own system calls, so
// only the kernel-side recorder (`sockaudit trace`) sees these sockets.
//
//	bench-go-churn [-j N] [-t SECONDS] [-w WARM] [-rate CONN_PER_S]
//
// Each of N client goroutines has its own listener and server goroutine in
// this process, as bench/churn.c's threads do. One operation is a whole
// connection's life:
//
//	client: dial, write 1 byte, read 1 byte, read EOF, close
//	server: accept, read 1 byte, write it back, close
//
// After WARM connections per goroutine it counts for SECONDS; -rate caps
// the connections per second over all goroutines (0: as fast as it goes).
// It prints key=value lines: ops_per_sec, cpu_ns_per_op (this process's
// user + system time, all threads, per connection), conns, pid, and
// recorder_table (1 when a table of this process is in $SOCKAUDIT_DIR,
// which only the recorder makes for a Go program).
//
//	bench-go-churn -hold N
//
// instead dials N connections to one listener of its own and keeps both
// ends (2N + 1 sockets), says "ready pid=P sockets=S" and waits for EOF on
// stdin: bench/run measures the recorder's memory per socket with it.
package main

import (
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

func serve(l net.Listener) {
	buf := make([]byte, 1)
	for {
		c, err := l.Accept()
		if err != nil {
			return
		}
		if _, err := io.ReadFull(c, buf); err == nil {
			c.Write(buf)
		}
		c.Close()
	}
}

func conn(addr string) {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		fail(err)
	}
	buf := []byte{'x'}
	if _, err := c.Write(buf); err != nil {
		fail(err)
	}
	if _, err := io.ReadFull(c, buf); err != nil {
		fail(err)
	}
	if n, _ := c.Read(buf); n != 0 {
		fail(fmt.Errorf("no EOF"))
	}
	c.Close()
}

func cpuNs() int64 {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return ru.Utime.Nano() + ru.Stime.Nano()
}

func hasTable() bool {
	dir := os.Getenv("SOCKAUDIT_DIR")
	if dir == "" {
		dir = "/dev/shm"
	}
	ents, _ := os.ReadDir(dir)
	prefix := fmt.Sprintf("sockaudit.%d.%d.", os.Geteuid(), os.Getpid())
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), prefix) {
			return true
		}
	}
	return false
}

func holdConns(n int) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fail(err)
	}
	kept := make([]net.Conn, 0, 2*n)
	for i := 0; i < n; i++ {
		c, err := net.Dial("tcp", l.Addr().String())
		if err != nil {
			fail(err)
		}
		s, err := l.Accept()
		if err != nil {
			fail(err)
		}
		kept = append(kept, c, s)
	}
	fmt.Printf("ready pid=%d sockets=%d\n", os.Getpid(), len(kept)+1)
	io.Copy(io.Discard, os.Stdin)
	for _, c := range kept {
		c.Close()
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "bench-go-churn:", err)
	os.Exit(3)
}

func main() {
	workers := flag.Int("j", 1, "client goroutines")
	secs := flag.Float64("t", 2, "seconds measured")
	warm := flag.Int("w", 500, "warm-up connections per goroutine")
	rate := flag.Int("rate", 0, "connections per second in all (0: unlimited)")
	hold := flag.Int("hold", 0, "hold this many connections instead")
	flag.Parse()
	if *hold > 0 {
		holdConns(*hold)
		return
	}

	addrs := make([]string, *workers)
	for i := range addrs {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			fail(err)
		}
		go serve(l)
		addrs[i] = l.Addr().String()
	}
	var wg sync.WaitGroup
	for i := 0; i < *workers; i++ {
		wg.Add(1)
		go func(addr string) {
			defer wg.Done()
			for k := 0; k < *warm; k++ {
				conn(addr)
			}
		}(addrs[i])
	}
	wg.Wait()

	var count int64
	var stop int32
	cpu0 := cpuNs()
	start := time.Now()
	for i := 0; i < *workers; i++ {
		wg.Add(1)
		go func(addr string) {
			defer wg.Done()
			var gap time.Duration
			if *rate > 0 {
				gap = time.Duration(float64(time.Second) * float64(*workers) / float64(*rate))
			}
			next := time.Now()
			for atomic.LoadInt32(&stop) == 0 {
				if gap > 0 {
					next = next.Add(gap)
					if d := time.Until(next); d > 0 {
						time.Sleep(d)
					}
				}
				conn(addr)
				atomic.AddInt64(&count, 1)
			}
		}(addrs[i])
	}
	time.Sleep(time.Duration(*secs * float64(time.Second)))
	atomic.StoreInt32(&stop, 1)
	wg.Wait()
	elapsed := time.Since(start).Seconds()
	cpu := cpuNs() - cpu0
	n := atomic.LoadInt64(&count)
	if n == 0 {
		fail(fmt.Errorf("no connection in %.2fs", elapsed))
	}
	fmt.Printf("ops_per_sec=%.1f\ncpu_ns_per_op=%.1f\nconns=%d\npid=%d\nrecorder_table=%d\n",
		float64(n)/elapsed, float64(cpu)/float64(n), n, os.Getpid(), map[bool]int{false: 0, true: 1}[hasTable()])
}

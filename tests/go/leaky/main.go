// leaky: a Go program for `sockaudit trace` tests. Go makes its own system
// calls, so the shim never sees its sockets; the recorder must. It listens
// on loopback, dials from distinct functions, holds one connection, leaks
// others (dropped but kept reachable, so no finalizer closes them), closes
// one, then says
//
//	ready pid=P port=N hold_line=L leak_line=M closed_line=K
//
// and waits for EOF on stdin. With the argument "gc" it instead dials 3
// connections from dialAndDrop and drops them, then runs the garbage
// collector until Go's finalizers have closed all 3 (the server sees EOF),
// and says
//
//	ready pid=P drop_line=L rescued=3
//
// With "symbols", it dials from dialHold and from dialVia, which the
// compiler inlines into dialInlined, holds both, says "ready pid=P" and
// waits: the open sites for the symbol tests (tests/trace/test-go-symbols.c
// finds their lines in this file by the "open site" comments).
//
// With "churn", 8 goroutines dial 100 connections each, closing two in
// three, and keep a dup (File()) of every fifth; the accepted ends are all
// kept. Once every dial is accepted it says "ready pid=P dials=N" and waits.
//
// With "exec PROG ARGS...", it dials one connection, keeps it at fd 60
// without close-on-exec, and execs PROG (a program that is not Go): the
// process's other sockets are close-on-exec, as Go makes them all.
//
// Built in GOPATH mode from Debian's golang-go
// with the standard library only (tests/go/meson.build).
package main

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"runtime"
	"sync"
	"syscall"
	"time"
)

var leaked []net.Conn

//go:noinline
func dialHold(addr string) (net.Conn, int) {
	_, _, line, _ := runtime.Caller(0)
	c, err := net.Dial("tcp", addr) // open site: dialHold
	if err != nil {
		fail(err)
	}
	return c, line + 1
}

//go:noinline
func dialAndForget(addr string) int {
	_, _, line, _ := runtime.Caller(0)
	c, err := net.Dial("tcp", addr)
	if err != nil {
		fail(err)
	}
	leaked = append(leaked, c)
	return line + 1
}

//go:noinline
func dialAndClose(addr string) int {
	_, _, line, _ := runtime.Caller(0)
	c, err := net.Dial("tcp", addr)
	if err != nil {
		fail(err)
	}
	c.Close()
	return line + 1
}

//go:noinline
func dialAndDrop(addr string) int {
	_, _, line, _ := runtime.Caller(0)
	c, err := net.Dial("tcp", addr) // open site: dialAndDrop
	if err != nil {
		fail(err)
	}
	_ = c
	return line + 1
}

// Small enough to be inlined into its caller: the open stack then has
// dialVia as an inlined frame inside dialInlined.
func dialVia(addr string) (net.Conn, error) {
	return net.Dial("tcp", addr) // open site: dialVia
}

//go:noinline
func dialInlined(addr string) net.Conn {
	c, err := dialVia(addr) // open site: dialInlined
	if err != nil {
		fail(err)
	}
	return c
}

func symbolsCase(l net.Listener) {
	var accepted []net.Conn
	done := make(chan struct{})
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			accepted = append(accepted, c)
			if len(accepted) == 2 {
				close(done)
			}
		}
	}()
	hold, _ := dialHold(l.Addr().String())
	inl := dialInlined(l.Addr().String())
	<-done
	fmt.Printf("ready pid=%d\n", os.Getpid())
	in := bufio.NewScanner(os.Stdin)
	for in.Scan() {
	}
	hold.Close()
	inl.Close()
}

// The post's mistake: connections dropped without Close, closed later by
// the netFD finalizer when a collection finds them.
func gcCase(l net.Listener) {
	eof := make(chan struct{}, 16)
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				buf := make([]byte, 1)
				c.Read(buf)
				c.Close()
				eof <- struct{}{}
			}()
		}
	}()
	var line int
	for i := 0; i < 3; i++ {
		line = dialAndDrop(l.Addr().String())
	}
	for n := 0; n < 3; {
		runtime.GC()
		select {
		case <-eof:
			n++
		case <-time.After(50 * time.Millisecond):
		}
	}
	fmt.Printf("ready pid=%d drop_line=%d rescued=3\n", os.Getpid(), line)
	in := bufio.NewScanner(os.Stdin)
	for in.Scan() {
	}
}

func churnCase(l net.Listener) {
	const workers, each = 8, 100
	var mu sync.Mutex
	var accepted []net.Conn
	var kept []interface{}
	got := make(chan struct{}, workers*each)
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			accepted = append(accepted, c)
			mu.Unlock()
			got <- struct{}{}
		}
	}()
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < each; i++ {
				c, err := net.Dial("tcp", l.Addr().String())
				if err != nil {
					fail(err)
				}
				if i%5 == 0 {
					f, err := c.(*net.TCPConn).File()
					if err != nil {
						fail(err)
					}
					mu.Lock()
					kept = append(kept, f)
					mu.Unlock()
				}
				if i%3 == 0 {
					mu.Lock()
					kept = append(kept, c)
					mu.Unlock()
				} else {
					c.Close()
				}
			}
		}()
	}
	wg.Wait()
	for i := 0; i < workers*each; i++ {
		<-got
	}
	fmt.Printf("ready pid=%d dials=%d\n", os.Getpid(), workers*each)
	in := bufio.NewScanner(os.Stdin)
	for in.Scan() {
	}
	runtime.KeepAlive(kept)
	runtime.KeepAlive(accepted)
}

//go:noinline
func execWithConn(addr string, argv []string) {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		fail(err)
	}
	f, err := c.(*net.TCPConn).File()
	if err != nil {
		fail(err)
	}
	if err := syscall.Dup2(int(f.Fd()), 60); err != nil {
		fail(err)
	}
	fail(syscall.Exec(argv[0], argv, os.Environ()))
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "leaky:", err)
	os.Exit(3)
}

func main() {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fail(err)
	}
	if len(os.Args) > 1 && os.Args[1] == "churn" {
		churnCase(l)
		return
	}
	if len(os.Args) > 1 && os.Args[1] == "symbols" {
		symbolsCase(l)
		return
	}
	if len(os.Args) > 2 && os.Args[1] == "exec" {
		execWithConn(l.Addr().String(), os.Args[2:])
		return
	}
	if len(os.Args) > 1 && os.Args[1] == "gc" {
		gcCase(l)
		return
	}
	var accepted []net.Conn
	done := make(chan struct{})
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			accepted = append(accepted, c)
			if len(accepted) == 4 {
				close(done)
			}
		}
	}()
	addr := l.Addr().String()
	hold, holdLine := dialHold(addr)
	var leakLine int
	for i := 0; i < 2; i++ {
		leakLine = dialAndForget(addr)
	}
	closedLine := dialAndClose(addr)
	<-done
	fmt.Printf("ready pid=%d port=%d hold_line=%d leak_line=%d closed_line=%d\n",
		os.Getpid(), l.Addr().(*net.TCPAddr).Port, holdLine, leakLine, closedLine)
	in := bufio.NewScanner(os.Stdin)
	for in.Scan() {
	}
	hold.Close()
}

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
// Built in GOPATH mode from Debian's golang-go
// with the standard library only (tests/go/meson.build).
package main

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"runtime"
	"time"
)

var leaked []net.Conn

//go:noinline
func dialHold(addr string) (net.Conn, int) {
	_, _, line, _ := runtime.Caller(0)
	c, err := net.Dial("tcp", addr)
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
	c, err := net.Dial("tcp", addr)
	if err != nil {
		fail(err)
	}
	_ = c
	return line + 1
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

func fail(err error) {
	fmt.Fprintln(os.Stderr, "leaky:", err)
	os.Exit(3)
}

func main() {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fail(err)
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

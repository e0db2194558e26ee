// leaky: a Go program for `sockaudit trace` tests. Go makes its own system
// calls, so the shim never sees its sockets; the recorder must. It listens
// on loopback, dials from distinct functions, holds one connection, leaks
// others (dropped but kept reachable, so no finalizer closes them), closes
// one, then says
//
//	ready pid=P port=N hold_line=L leak_line=M closed_line=K
//
// and waits for EOF on stdin. Built in GOPATH mode from Debian's golang-go
// with the standard library only (tests/go/meson.build).
package main

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"runtime"
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

func fail(err error) {
	fmt.Fprintln(os.Stderr, "leaky:", err)
	os.Exit(3)
}

func main() {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fail(err)
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

// priceclient: the seed's Go client of PriceService, built on Apache
// Thrift's Go library (Debian's golang-thrift-dev) and the code
// `thrift --gen go` makes from repro/price.thrift. It makes the post's
// mistake: every call opens a framed transport and never closes it.
//
//	priceclient --connect HOST:PORT [--calls N] [--gc]
//
// After the calls (and, with --gc, a garbage collection that finalizes
// the forgotten connections) it says "ready pid=P" and waits for EOF on
// stdin. Built in GOPATH mode without cgo (repro/go/build.sh).
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"time"

	"github.com/apache/thrift/lib/go/thrift"

	"price"
)

func getPrice(addr string) error {
	conf := &thrift.TConfiguration{ConnectTimeout: 2 * time.Second, SocketTimeout: 2 * time.Second}
	transport := thrift.NewTFramedTransportConf(thrift.NewTSocketConf(addr, conf), conf)
	client := price.NewPriceServiceClientFactory(transport,
		thrift.NewTBinaryProtocolFactoryConf(conf))
	if err := transport.Open(); err != nil {
		return err
	}
	_, err := client.Price(context.Background(),
		&price.PriceReq{Area: 1, Trace: &price.Trace{TraceId: "s", Caller: "d", SpanId: "f"}})
	return err // the bug: no transport.Close()
}

func main() {
	addr := flag.String("connect", "127.0.0.1:9092", "server")
	calls := flag.Int("calls", 3, "calls to make")
	gc := flag.Bool("gc", false, "collect garbage after the calls")
	flag.Parse()
	for i := 0; i < *calls; i++ {
		if err := getPrice(*addr); err != nil {
			fmt.Fprintln(os.Stderr, "priceclient:", err)
			os.Exit(3)
		}
	}
	if *gc {
		// Twice, with a pause: finalizers run on their own goroutine
		// after the collection that found the connections unreachable.
		for i := 0; i < 2; i++ {
			runtime.GC()
			time.Sleep(50 * time.Millisecond)
		}
	}
	fmt.Printf("ready pid=%d\n", os.Getpid())
	io.Copy(io.Discard, os.Stdin)
}

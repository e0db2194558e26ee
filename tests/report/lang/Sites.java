// Many call sites for the Java frame cache (test-lang "java-sites"): four
// methods, ten lines each, ten calls per line, are 400 (method,
// bytecode index) keys: in the cache's 256 sets of four, a few sets almost
// surely get five or more, wherever the JVM puts its jmethodIDs, and
// evict. Each call connects one socket; all of it twice (the second time
// from the cache, or from the JVM again where a key was evicted). Every
// socket's stack must name its own method and line: an entry evicted and
// found again must never be another key's. Prints "ready" once all are
// connected and waits for EOF on stdin.
package feed;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

public class Sites {
    static final List<Object> keep = Collections.synchronizedList(new ArrayList<>());

    static void o(int p) throws IOException {
        keep.add(new Socket(InetAddress.getLoopbackAddress(), p));
    }

    static void m0(int p) throws IOException {
        o(p); o(p); o(p); o(p); o(p); o(p); o(p); o(p); o(p); o(p); // SITES-00
        o(p); o(p); o(p); o(p); o(p); o(p); o(p); o(p); o(p); o(p); // SITES-01
        o(p); o(p); o(p); o(p); o(p); o(p); o(p); o(p); o(p); o(p); // SITES-02
        o(p); o(p); o(p); o(p); o(p); o(p); o(p); o(p); o(p); o(p); // SITES-03
        o(p); o(p); o(p); o(p); o(p); o(p); o(p); o(p); o(p); o(p); // SITES-04
        o(p); o(p); o(p); o(p); o(p); o(p); o(p); o(p); o(p); o(p); // SITES-05
        o(p); o(p); o(p); o(p); o(p); o(p); o(p); o(p); o(p); o(p); // SITES-06
        o(p); o(p); o(p); o(p); o(p); o(p); o(p); o(p); o(p); o(p); // SITES-07
        o(p); o(p); o(p); o(p); o(p); o(p); o(p); o(p); o(p); o(p); // SITES-08
        o(p); o(p); o(p); o(p); o(p); o(p); o(p); o(p); o(p); o(p); // SITES-09
    }

    static void m1(int p) throws IOException {
        o(p); o(p); o(p); o(p); o(p); o(p); o(p); o(p); o(p); o(p); // SITES-10
        o(p); o(p); o(p); o(p); o(p); o(p); o(p); o(p); o(p); o(p); // SITES-11
        o(p); o(p); o(p); o(p); o(p); o(p); o(p); o(p); o(p); o(p); // SITES-12
        o(p); o(p); o(p); o(p); o(p); o(p); o(p); o(p); o(p); o(p); // SITES-13
        o(p); o(p); o(p); o(p); o(p); o(p); o(p); o(p); o(p); o(p); // SITES-14
        o(p); o(p); o(p); o(p); o(p); o(p); o(p); o(p); o(p); o(p); // SITES-15
        o(p); o(p); o(p); o(p); o(p); o(p); o(p); o(p); o(p); o(p); // SITES-16
        o(p); o(p); o(p); o(p); o(p); o(p); o(p); o(p); o(p); o(p); // SITES-17
        o(p); o(p); o(p); o(p); o(p); o(p); o(p); o(p); o(p); o(p); // SITES-18
        o(p); o(p); o(p); o(p); o(p); o(p); o(p); o(p); o(p); o(p); // SITES-19
    }

    static void m2(int p) throws IOException {
        o(p); o(p); o(p); o(p); o(p); o(p); o(p); o(p); o(p); o(p); // SITES-20
        o(p); o(p); o(p); o(p); o(p); o(p); o(p); o(p); o(p); o(p); // SITES-21
        o(p); o(p); o(p); o(p); o(p); o(p); o(p); o(p); o(p); o(p); // SITES-22
        o(p); o(p); o(p); o(p); o(p); o(p); o(p); o(p); o(p); o(p); // SITES-23
        o(p); o(p); o(p); o(p); o(p); o(p); o(p); o(p); o(p); o(p); // SITES-24
        o(p); o(p); o(p); o(p); o(p); o(p); o(p); o(p); o(p); o(p); // SITES-25
        o(p); o(p); o(p); o(p); o(p); o(p); o(p); o(p); o(p); o(p); // SITES-26
        o(p); o(p); o(p); o(p); o(p); o(p); o(p); o(p); o(p); o(p); // SITES-27
        o(p); o(p); o(p); o(p); o(p); o(p); o(p); o(p); o(p); o(p); // SITES-28
        o(p); o(p); o(p); o(p); o(p); o(p); o(p); o(p); o(p); o(p); // SITES-29
    }

    static void m3(int p) throws IOException {
        o(p); o(p); o(p); o(p); o(p); o(p); o(p); o(p); o(p); o(p); // SITES-30
        o(p); o(p); o(p); o(p); o(p); o(p); o(p); o(p); o(p); o(p); // SITES-31
        o(p); o(p); o(p); o(p); o(p); o(p); o(p); o(p); o(p); o(p); // SITES-32
        o(p); o(p); o(p); o(p); o(p); o(p); o(p); o(p); o(p); o(p); // SITES-33
        o(p); o(p); o(p); o(p); o(p); o(p); o(p); o(p); o(p); o(p); // SITES-34
        o(p); o(p); o(p); o(p); o(p); o(p); o(p); o(p); o(p); o(p); // SITES-35
        o(p); o(p); o(p); o(p); o(p); o(p); o(p); o(p); o(p); o(p); // SITES-36
        o(p); o(p); o(p); o(p); o(p); o(p); o(p); o(p); o(p); o(p); // SITES-37
        o(p); o(p); o(p); o(p); o(p); o(p); o(p); o(p); o(p); o(p); // SITES-38
        o(p); o(p); o(p); o(p); o(p); o(p); o(p); o(p); o(p); o(p); // SITES-39
    }

    public static void main(String[] args) throws Exception {
        ServerSocket srv = new ServerSocket(0, 1000, InetAddress.getLoopbackAddress());
        Thread acceptor = new Thread(() -> {
            try {
                for (;;)
                    keep.add(srv.accept());
            } catch (IOException e) {
                // closed
            }
        });
        acceptor.setDaemon(true);
        acceptor.start();
        int p = srv.getLocalPort();
        for (int r = 0; r < 2; r++) {
            m0(p);
            m1(p);
            m2(p);
            m3(p);
        }
        System.out.println("ready");
        System.out.flush();
        while (System.in.read() >= 0)
            ;
        System.exit(0);
    }
}

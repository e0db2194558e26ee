// Socket errors the program handles, an ExecutorService, then an uncaught
// exception: test-lang compares what this prints and its exit status with
// and without the shim.
package feed;

import java.io.IOException;
import java.io.InputStream;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

public class Behave {
    public static void main(String[] args) throws Exception {
        InetAddress lo = InetAddress.getByName("127.0.0.1");
        int free;
        try (ServerSocket probe = new ServerSocket(0, 1, lo)) {
            free = probe.getLocalPort();
        }
        for (int i = 0; i < 3; i++) {
            try (Socket s = new Socket(lo, free)) {
                System.out.println("connected?");
            } catch (ConnectException e) {
                System.out.println("refused " + i + " " + e.getMessage());
            }
        }
        try {
            new Socket(lo, 70000);
        } catch (IllegalArgumentException e) {
            System.out.println("bad port " + e.getMessage());
        }
        try (ServerSocket srv = new ServerSocket(0, 50, lo)) {
            int port = srv.getLocalPort();
            try (SocketChannel c = SocketChannel.open(new InetSocketAddress(lo, port));
                 Socket a = srv.accept()) {
                c.write(ByteBuffer.wrap(new byte[] { 'x' }));
                InputStream in = a.getInputStream();
                System.out.println("pair " + (char) in.read());
            }
            ExecutorService pool = Executors.newFixedThreadPool(4);
            List<Future<Boolean>> done = new ArrayList<>();
            for (int i = 0; i < 8; i++)
                done.add(pool.submit(() -> {
                    try (Socket s = new Socket(lo, port)) {
                        return s.isConnected();
                    }
                }));
            for (int i = 0; i < 8; i++) {
                try (Socket a = srv.accept()) {
                    // the peer's close
                }
            }
            int ok = 0;
            for (Future<Boolean> f : done)
                ok += f.get() ? 1 : 0;
            pool.shutdown();
            System.out.println("pool " + ok);
        }
        throw new IllegalStateException("the end");
    }
}

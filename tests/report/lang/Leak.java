// Leaks one connection from each of two methods (LEAK-A-java, LEAK-B-java),
// from the main thread ("main") or from an ExecutorService's threads
// ("executor", each site three times), prints "ready" once all are
// connected and waits for EOF on stdin; with "exit" it leaves at once
// through System.exit(0), all still open. "churn" exits 3 while daemon
// threads connect and close in a loop (the VM dying under them); "churn
// exit" returns from main instead (exit status 0).
package feed;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.channels.SocketChannel;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

public class Leak {
    static final List<Object> keep = Collections.synchronizedList(new ArrayList<>());

    static class Client {
        Socket open(int port) throws IOException {
            return new Socket("127.0.0.1", port); // LEAK-A-java
        }
    }

    static SocketChannel reconnect(int port) throws IOException {
        return SocketChannel.open(new InetSocketAddress("127.0.0.1", port)); // LEAK-B-java
    }

    static void churn(int port) {
        for (;;) {
            try (Socket s = new Socket("127.0.0.1", port)) {
                s.getOutputStream().write(1);
            } catch (IOException e) {
                // the server may be gone already: the VM is exiting
            }
        }
    }

    public static void main(String[] args) throws Exception {
        String mode = args.length > 0 ? args[0] : "main";
        boolean leave = args.length > 1 && args[1].equals("exit");
        ServerSocket srv = new ServerSocket(0, 50, java.net.InetAddress.getByName("127.0.0.1"));
        int port = srv.getLocalPort();
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

        if (mode.equals("churn")) {
            for (int i = 0; i < 4; i++) {
                Thread t = new Thread(() -> churn(port));
                t.setDaemon(true);
                t.start();
            }
            Thread.sleep(300);
            System.out.println("exiting");
            if (leave)
                return;   // DestroyJavaVM, daemon threads still connecting
            System.exit(3);
        }
        if (mode.equals("executor")) {
            ExecutorService pool = Executors.newFixedThreadPool(4);
            List<Future<?>> done = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                done.add(pool.submit(() -> keep.add(new Client().open(port))));
                done.add(pool.submit(() -> keep.add(reconnect(port))));
            }
            for (Future<?> f : done)
                f.get();
            pool.shutdown();
        } else {
            keep.add(new Client().open(port));
            keep.add(reconnect(port));
        }
        System.out.println("ready");
        System.out.flush();
        if (leave)
            System.exit(0);
        while (System.in.read() >= 0)
            ;
        System.exit(0);
    }
}

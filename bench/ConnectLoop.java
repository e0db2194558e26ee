// Java connect loop (bench/run "java"): new Socket() to a local server and
// close, from one thread, for SECONDS after WARMUP connections (the JIT's
// work done first). Prints key=value lines like the C benchmarks
// (bench/harness.c), shim_loaded and shim_table included.
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;

public class ConnectLoop {
    static long cpuNanos() {
        return ((com.sun.management.OperatingSystemMXBean) ManagementFactory
                .getOperatingSystemMXBean()).getProcessCpuTime();
    }

    static void connect(InetAddress lo, int port) throws IOException {
        Socket s = new Socket(lo, port);
        s.setSoLinger(true, 0);   // no TIME_WAIT: the port range lasts
        s.close();
    }

    public static void main(String[] args) throws Exception {
        double seconds = Double.parseDouble(args[0]);
        int warm = Integer.parseInt(args[1]);
        InetAddress lo = InetAddress.getByName("127.0.0.1");
        ServerSocket srv = new ServerSocket(0, 1024, lo);
        int port = srv.getLocalPort();
        Thread acceptor = new Thread(() -> {
            try {
                for (;;)
                    srv.accept().close();
            } catch (IOException e) {
                // closed at exit
            }
        });
        acceptor.setDaemon(true);
        acceptor.start();
        for (int i = 0; i < warm; i++)
            connect(lo, port);
        long ops = 0, c0 = cpuNanos(), t0 = System.nanoTime();
        long end = t0 + (long) (seconds * 1e9), t1;
        do {
            for (int i = 0; i < 64; i++)
                connect(lo, port);
            ops += 64;
            t1 = System.nanoTime();
        } while (t1 < end);
        long c1 = cpuNanos();
        System.out.printf("bench=java-connect%nthreads=1%nops=%d%nseconds=%.6f%n", ops,
                          (t1 - t0) / 1e9);
        System.out.printf("ops_per_sec=%.1f%ncpu_ns_per_op=%.1f%n", ops * 1e9 / (t1 - t0),
                          (double) (c1 - c0) / ops);
        boolean loaded = Files.readString(Paths.get("/proc/self/maps")).contains("/libsockaudit.so");
        String uid = "0";
        for (String l : Files.readAllLines(Paths.get("/proc/self/status")))
            if (l.startsWith("Uid:"))
                uid = l.split("\\s+")[2];   // effective
        String dir = System.getenv("SOCKAUDIT_DIR");
        String prefix = "sockaudit." + uid + "." + ProcessHandle.current().pid() + ".";
        boolean table = false;
        try (DirectoryStream<Path> d = Files.newDirectoryStream(
                Paths.get(dir != null && !dir.isEmpty() ? dir : "/dev/shm"))) {
            for (Path p : d)
                table |= p.getFileName().toString().startsWith(prefix);
        }
        System.out.printf("shim_loaded=%d%nshim_table=%d%n", loaded ? 1 : 0, table ? 1 : 0);
        srv.close();
    }
}

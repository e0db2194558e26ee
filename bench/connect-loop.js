// Node's line of bench/run: net.connect() to a local server and destroy,
// one at a time, for SECONDS after WARMUP connections; key=value lines like
// the C benchmarks (bench/harness.c), shim_loaded and shim_table included.
'use strict';
const fs = require('fs');
const net = require('net');

const seconds = Number(process.argv[2]);
const warm = Number(process.argv[3]);
const srv = net.createServer((c) => c.destroy());

function shimStatus() {
  const loaded = fs.readFileSync('/proc/self/maps', 'utf8').includes('/libsockaudit.so');
  const prefix = `sockaudit.${process.geteuid()}.${process.pid}.`;
  const dir = process.env.SOCKAUDIT_DIR || '/dev/shm';
  const table = fs.readdirSync(dir).some((n) => n.startsWith(prefix));
  return `shim_loaded=${loaded ? 1 : 0}\nshim_table=${table ? 1 : 0}`;
}

srv.listen(0, '127.0.0.1', () => {
  const port = srv.address().port;
  let ops = 0, t0 = 0n, c0 = null, end = 0n, left = warm;
  const one = () => {
    const s = net.connect(port, '127.0.0.1');
    s.on('error', () => {});
    s.on('connect', () => {
      s.resetAndDestroy ? s.resetAndDestroy() : s.destroy();
      if (left > 0) {
        if (--left === 0) {
          t0 = process.hrtime.bigint();
          c0 = process.cpuUsage();
          end = t0 + BigInt(Math.round(seconds * 1e9));
        }
        return one();
      }
      ops++;
      const t1 = process.hrtime.bigint();
      if (t1 < end)
        return one();
      const c = process.cpuUsage(c0);
      const ns = Number(t1 - t0);
      console.log(`bench=node-connect\nthreads=1\nops=${ops}\nseconds=${(ns / 1e9).toFixed(6)}`);
      console.log(`ops_per_sec=${(ops * 1e9 / ns).toFixed(1)}\n` +
                  `cpu_ns_per_op=${((c.user + c.system) * 1000 / ops).toFixed(1)}`);
      console.log(shimStatus());
      srv.close();
    });
  };
  if (left === 0)
    left = 1;
  one();
});

// Leaks one connection from each of two functions of a worker thread
// (LEAK-A-worker, LEAK-B-worker), prints "ready" once both are connected and
// waits for EOF on stdin. (No "exit": leaving the process stops the worker
// first, which closes its sockets.)
'use strict';
const { Worker, isMainThread, workerData, parentPort } = require('worker_threads');
const net = require('net');

function openA(port) {
  return net.connect(port, '127.0.0.1'); // LEAK-A-worker
}

function openB(port) {
  return net.connect({ port, host: '127.0.0.1' }); // LEAK-B-worker
}

if (isMainThread) {
  const held = [];
  const srv = net.createServer((c) => held.push(c));
  srv.listen(0, '127.0.0.1', () => {
    const w = new Worker(__filename, { workerData: srv.address().port });
    w.on('message', () => {
      console.log('ready');
      process.stdin.resume();
      process.stdin.on('end', () => process.exit(0));
    });
  });
} else {
  const socks = [openA(workerData), openB(workerData)];
  let n = 0;
  for (const s of socks)
    s.on('connect', () => {
      // The frames are handed over in a 'connect' listener too: let it run.
      if (++n === socks.length)
        setImmediate(() => parentPort.postMessage('connected'));
    });
  globalThis.held = socks;
}

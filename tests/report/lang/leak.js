// Leaks one connection from each of two functions (LEAK-A-node, LEAK-B-node),
// prints "ready" once both are connected and waits for EOF on stdin; with
// "exit" it leaves at once through process.exit, both still open.
'use strict';
const net = require('net');

class Client {
  open(port) {
    return net.connect(port, '127.0.0.1'); // LEAK-A-node
  }
}

function reconnect(port) {
  return net.createConnection({ port, host: '127.0.0.1' }); // LEAK-B-node
}

const keep = [];
const srv = net.createServer((c) => keep.push(c));
srv.listen(0, '127.0.0.1', () => {
  const port = srv.address().port;
  const socks = [new Client().open(port), reconnect(port)];
  let connected = 0;
  for (const s of socks) {
    keep.push(s);
    s.on('connect', () => {
      if (++connected < socks.length)
        return;
      // The frames are handed over in a 'connect' listener too: let it run.
      setImmediate(() => {
        console.log('ready');
        if (process.argv[2] === 'exit')
          process.exit(0);
        process.stdin.resume();
        process.stdin.on('end', () => process.exit(0));
      });
    });
  }
});

// A Node.js program that leaves nothing open: a server, a client that
// reads the server's greeting, both destroyed, the server closed. libuv
// closes its sockets with syscall(SYS_close, fd). With an argument it
// keeps the client instead (LEAK-N), for the gate to fail on.
'use strict';
const net = require('net');

const keep = process.argv.length > 2;
const srv = net.createServer((c) => { c.end('hi'); });
srv.listen(0, '127.0.0.1', () => {
  const c = net.connect(srv.address().port, '127.0.0.1'); // LEAK-N
  c.on('data', () => {});
  c.on('end', () => {
    if (keep) {
      console.log('kept');
      process.exit(0);
    }
    c.destroy();
    srv.close(() => console.log('clean'));
  });
});

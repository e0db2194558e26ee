// Leaks one keep-alive http connection from each of two functions
// (LEAK-A-http, LEAK-B-http): each request's agent keeps its socket open
// once the response is read. Prints "ready" once both responses are in and
// waits for EOF on stdin; with "exit" it leaves at once, both still open.
'use strict';
const http = require('http');

const agentA = new http.Agent({ keepAlive: true });
const agentB = new http.Agent({ keepAlive: true });

function fetchA(port, done) {
  http.get({ port, host: '127.0.0.1', path: '/a', agent: agentA }, done); // LEAK-A-http
}

function fetchB(port, done) {
  http.request({ port, host: '127.0.0.1', path: '/b', agent: agentB }, done).end(); // LEAK-B-http
}

const srv = http.createServer((req, res) => res.end(req.url));
srv.keepAliveTimeout = 0;
srv.listen(0, '127.0.0.1', () => {
  const port = srv.address().port;
  let n = 0;
  const done = (res) => {
    res.resume();
    res.on('end', () => {
      if (++n < 2)
        return;
      setImmediate(() => {
        console.log('ready');
        if (process.argv[2] === 'exit')
          process.exit(0);
        process.stdin.resume();
        process.stdin.on('end', () => process.exit(0));
      });
    });
  };
  fetchA(port, done);
  fetchB(port, done);
});

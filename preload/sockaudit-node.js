// sockaudit's Node.js frames: loaded with `node --require` (sockaudit run
// adds it to NODE_OPTIONS; by hand: NODE_OPTIONS=--require=<libdir>/
// sockaudit-node.js with LD_PRELOAD=libsockaudit.so). For every client
// socket net makes (net.connect, http.Agent, ...) it keeps the JavaScript
// stack of the call, and once the socket is connected hands it, with the
// socket's fd, to libsockaudit.so, which stores the frames in front of the
// record's native ones (docs/design.md, "Language frames: Node.js").
//
// The hand-over is a stat() of a path that does not exist,
// "/.sockaudit-frames/1/<fd>/c/<frames>", which libuv makes through libc's
// syscall() function, where the library reads it: a JavaScript program has
// no other way to reach a preloaded C library without an addon. Without
// the library the stat() just finds nothing. Nothing here throws into the
// program or changes what it sees: errors are swallowed, the program's own
// stack trace settings are put back.
'use strict';

// Loaded by libsockaudit.so itself (LD_PRELOAD alone): it put --require in
// front of NODE_OPTIONS and kept the program's own value here. Put back
// before any of the program's code runs, so that the program and its
// children see the environment they were given.
{
  const saved = process.env.SOCKAUDIT_NODE_OPTIONS;
  if (typeof saved === 'string') {
    if (saved.startsWith('+'))
      process.env.NODE_OPTIONS = saved.slice(1);
    else
      delete process.env.NODE_OPTIONS;
    delete process.env.SOCKAUDIT_NODE_OPTIONS;
  }
}

delete require.cache[__filename];   // as if never required

const dc = require('diagnostics_channel');
const fs = require('fs');

const PREFIX = '/.sockaudit-frames/1/';
const MAX_FRAMES = 24;
const MAX_PATH = 4000;
const MAX_CACHED = 4096;

// net.connect (net.createConnection is the same function) is where net
// publishes 'net.client.socket'. Capturing from it leaves out, for free,
// this file's frames, the channel's and net.connect's own: V8 walks every
// frame it keeps (~0.35 us each), so the stack is taken with no more than
// the frames the record keeps plus room for the node: frames of a client
// built on net (http's Agent and ClientRequest: 6 in Node 20).
const netConnect = require('net').connect;
const LIMIT = MAX_FRAMES + 8;
const structured = (_, sites) => sites;

function callSites() {
  const prepare = Error.prepareStackTrace;
  const limit = Error.stackTraceLimit;
  const holder = {};
  try {
    Error.prepareStackTrace = structured;
    Error.stackTraceLimit = LIMIT;
    Error.captureStackTrace(holder, netConnect);
    let sites = holder.stack;
    if (!Array.isArray(sites) || !sites.length) {
      // Published from elsewhere (a net.connect the program replaced).
      const again = {};
      Error.stackTraceLimit = LIMIT + 8;
      Error.captureStackTrace(again, callSites);
      sites = again.stack;
    }
    return Array.isArray(sites) ? sites : [];
  } finally {
    Error.prepareStackTrace = prepare;
    Error.stackTraceLimit = limit;
  }
}

function clean(s) {
  return String(s).replace(/[\t\n\0]/g, ' ');
}

// A frame's line, once per call site: keyed by the script and the call's
// offset in it (what V8 keeps; line, column and the names follow from
// them), so a program that connects from the same places pays the names'
// look-ups and the string building once. Bounded: emptied when full.
const formatted = new Map();

function format(site, file) {
  let fn = site.getFunctionName() || site.getMethodName() || '<anonymous>';
  const type = site.getTypeName();
  if (type && type !== 'Object' && !site.isToplevel() && !fn.startsWith(type + '.'))
    fn = type + '.' + fn;
  return `${site.getLineNumber() || 0}\t${site.getColumnNumber() || 0}\t${clean(fn)}\t` +
         `${clean(file)}\n`;
}

// The program's frames: Node's own (node:net, node:internal/...) and this
// file's are left out.
function frames() {
  const out = [];
  const sites = callSites();
  for (let i = 0; i < sites.length; i++) {
    const site = sites[i];
    const file = site.getFileName();
    if (!file || file.startsWith('node:') || file === __filename)
      continue;
    const key = `${site.getPosition()}\t${file}`;
    let line = formatted.get(key);
    if (line === undefined) {
      line = format(site, file);
      if (formatted.size >= MAX_CACHED)
        formatted.clear();
      formatted.set(key, line);
    }
    out.push(line);
    if (out.length === MAX_FRAMES)
      break;
  }
  return out;
}

function handOver(fd, lines) {
  let path = `${PREFIX}${fd}/c/`;
  for (const line of lines) {
    if (path.length + line.length > MAX_PATH)
      break;
    path += line;
  }
  try {
    fs.statSync(path, { throwIfNoEntry: false });
  } catch {
    // ENAMETOOLONG and the like: the library has read it already.
  }
}

function onClientSocket(message) {
  try {
    const socket = message && message.socket;
    if (!socket || typeof socket.once !== 'function')
      return;
    const lines = frames();
    if (!lines.length)
      return;
    socket.once('connect', () => {
      try {
        const fd = socket._handle && socket._handle.fd;
        if (Number.isInteger(fd) && fd >= 0)
          handOver(fd, lines);
      } catch {
        // never into the program
      }
    });
  } catch {
    // never into the program
  }
}

if (typeof dc.subscribe === 'function')
  dc.subscribe('net.client.socket', onClientSocket);
else
  dc.channel('net.client.socket').subscribe(onClientSocket);

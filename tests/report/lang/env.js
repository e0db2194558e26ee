// What a program can see of its start: its NODE_OPTIONS, the environment
// variables sockaudit could have left, the modules loaded, its arguments,
// and what a child process is given. test-lang compares it with and
// without the shim (which loads sockaudit-node.js through NODE_OPTIONS and
// must leave no trace of it).
'use strict';
const { execFileSync } = require('child_process');

console.log('NODE_OPTIONS', JSON.stringify(process.env.NODE_OPTIONS));
console.log('env', Object.keys(process.env).filter((k) => /SOCKAUDIT/.test(k) &&
                                                   k !== 'SOCKAUDIT_DIR').join(','));
console.log('modules', Object.keys(require.cache).map((p) => p.replace(/.*\//, '')).join(','));
console.log('argv', JSON.stringify(process.argv.slice(2)), JSON.stringify(process.execArgv));
process.stdout.write(execFileSync('sh', ['-c',
  'echo child "${NODE_OPTIONS-unset}" "${SOCKAUDIT_NODE_OPTIONS-unset}"']).toString());

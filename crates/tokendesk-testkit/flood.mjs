// Opens N connections that never write — to a UNIX socket (a path) or a TCP port (host:port) —
// one after another, and holds them until stdin closes. Prints "opened K" once done (K < N when
// this process ran out of descriptors). Run by tokendesk-testkit's `Flood` in a process of its
// own: a test process holding thousands of descriptors breaks code in its other tests that
// cannot handle descriptor numbers above 1024.
import net from 'node:net';

const [target, count] = [process.argv[2], Number(process.argv[3])];
const tcp = /^(.+):(\d+)$/.exec(target);
const connect = () => (tcp ? net.connect({ host: tcp[1], port: Number(tcp[2]) }) : net.connect(target));
const held = [];
let tried = 0;

function next() {
  if (tried >= count) {
    process.stdout.write(`opened ${held.length}\n`);
    return;
  }
  tried++;
  const s = connect();
  s.once('connect', () => {
    held.push(s);
    // The agent may drop a silent connection later: that is its business, not a reason to stop.
    s.removeAllListeners('error');
    s.on('error', () => {});
    next();
  });
  s.once('error', (e) => {
    if (e.code === 'EMFILE' || e.code === 'ENFILE') tried = count;
    next();
  });
}

process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
next();

// Opens N connections to a UNIX socket that never write, one after another, and holds them until
// stdin closes. Prints "opened K" once done (K < N when this process ran out of descriptors).
// Run by tests/cli.rs in its own process: a test process holding thousands of descriptors
// breaks code in its other tests that cannot handle descriptor numbers above 1024.
import net from 'node:net';

const [socket, count] = [process.argv[2], Number(process.argv[3])];
const held = [];
let tried = 0;

function next() {
  if (tried >= count) {
    process.stdout.write(`opened ${held.length}\n`);
    return;
  }
  tried++;
  const s = net.connect(socket);
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

// Extra sockets for the CLI end-to-end test (test/cli/snapshot-e2e.test.ts), next to those
// of test/sources/helper.mjs. Run inside a private network namespace where 10.99.0.1/32 is
// on lo and 10.99.0.0/24 is routed into lo: SYNs to 10.99.0.2 leave and are never answered.
//
//   SYN_SENT     two clients to 10.99.0.2:80 and :443 (the routed-into-lo "black hole")
//   FIN_WAIT_1   a client closes with unsent data towards a server that never reads: its
//                FIN waits behind the data for a window that never opens (an orphan)
//   7010 0.0.0.0 the LISTEN side of that, and the server's ESTABLISHED socket
//
// Prints {"ready":true,"pid":N} once the sockets are in place; stays until killed.
import net from 'node:net';

const keep = [];
const fail = (msg) => {
  process.stderr.write(`snapshot-helper: ${msg}\n`);
  process.exit(2);
};
const timeout = setTimeout(() => fail('setup took longer than 15 s'), 15_000);

for (const port of [80, 443]) {
  const c = net.connect({ port, host: '10.99.0.2' });
  c.on('error', () => {});
  keep.push(c);
}

const server = net.createServer({ pauseOnConnect: true }, (c) => keep.push(c));
await new Promise((resolve, reject) => {
  server.once('error', reject);
  server.listen({ port: 7010, host: '0.0.0.0' }, resolve);
});
keep.push(server);

const client = net.connect({ port: 7010, host: '127.0.0.1' });
client.on('error', () => {});
await new Promise((resolve, reject) => {
  client.once('connect', resolve);
  client.once('error', reject);
});
// Fill the peer's receive buffer and our send buffer, then close: the kernel keeps the
// unsent bytes and the FIN queued (FIN_WAIT_1) while the peer advertises a zero window.
const chunk = Buffer.alloc(1 << 20, 0x62);
for (let i = 0; i < 64 && client.write(chunk); i++);
await new Promise((r) => setTimeout(r, 300));
client.destroy();

await new Promise((r) => setTimeout(r, 200));
clearTimeout(timeout);
process.stdout.write(`${JSON.stringify({ ready: true, pid: process.pid })}\n`);
setInterval(() => {}, 60_000);
process.on('SIGTERM', () => process.exit(0));

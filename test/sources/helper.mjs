// Opens real TCP sockets in every state the shared source suite checks. Run inside a
// private network namespace (ip netns exec NS node helper.mjs) as root; the test kills it.
// Prints one JSON line {"ready":true,...} on stdout once every socket is in place.
//
//   7001 0.0.0.0  LISTEN, ESTABLISHED pair (server reads nothing: Recv-Q 1000),
//                 half-close pair (client FIN_WAIT_2 / server CLOSE_WAIT)
//   7002 [::]     dual-stack LISTEN: ESTABLISHED over ::1 and over 127.0.0.1 (::ffff:...)
//   7003 127.0.0.1 LISTEN with backlog 1 that never accepts: 2 in the accept queue, the
//                 other clients stuck in SYN_SENT
//   7004 [2001:db8::1:0:0:1] IPv6-only LISTEN + ESTABLISHED pair (address compression)
//   7005 0.0.0.0  LISTEN that ends at once: the client closing first ends in TIME_WAIT
// Listeners and accepted sockets belong to root; after the listeners are open the helper
// switches to uid/gid 65534, so every client socket belongs to uid 65534.
import net from 'node:net';
import { createRequire } from 'node:module';

const koffi = createRequire(import.meta.url)('koffi');
const libc = koffi.load('libc.so.6');
const socket = libc.func('int socket(int, int, int)');
const bind = libc.func('int bind(int, const void *, uint32_t)');
const listen = libc.func('int listen(int, int)');

const V6 = '2001:db8::1:0:0:1';
const keep = [];
const fail = (msg) => {
  process.stderr.write(`helper: ${msg}\n`);
  process.exit(2);
};
const timeout = setTimeout(() => fail('setup took longer than 15 s'), 15_000);

function listenOn(port, host, opts = {}, onConn = () => {}) {
  return new Promise((resolve, reject) => {
    const s = net.createServer({ allowHalfOpen: opts.allowHalfOpen ?? true, pauseOnConnect: opts.pauseOnConnect ?? false }, (c) => {
      keep.push(c);
      onConn(c);
    });
    s.on('error', reject);
    s.listen({ port, host, ipv6Only: opts.ipv6Only ?? false, backlog: 511 }, () => resolve(s));
    keep.push(s);
  });
}

function connect(port, host, opts = {}) {
  return new Promise((resolve, reject) => {
    const c = net.connect({ port, host, allowHalfOpen: true, ...opts }, () => resolve(c));
    c.on('error', reject);
    keep.push(c);
  });
}

const once = (emitter, ev) => new Promise((r) => emitter.once(ev, r));

// A listener that never accepts, straight through libc (Node always accepts).
const fd = socket(2, 1, 0);
if (fd < 0) fail(`socket: errno ${koffi.errno()}`);
const sin = Buffer.alloc(16);
sin.writeUInt16LE(2, 0);
sin.writeUInt16BE(7003, 2);
Buffer.from([127, 0, 0, 1]).copy(sin, 4);
if (bind(fd, sin, 16) < 0) fail(`bind 7003: errno ${koffi.errno()}`);
if (listen(fd, 1) < 0) fail(`listen 7003: errno ${koffi.errno()}`);

await listenOn(7001, '0.0.0.0', { pauseOnConnect: true }); // never reads: bytes stay in the kernel (Recv-Q)
await listenOn(7002, '::', { ipv6Only: false });
await listenOn(7004, V6, { ipv6Only: true });
await listenOn(7005, '0.0.0.0', { allowHalfOpen: false }, (c) => c.resume());

process.setgid(65534);
process.setuid(65534);

// ESTABLISHED with 1000 unread bytes on the server side.
const talker = await connect(7001, '127.0.0.1');
talker.write(Buffer.alloc(1000, 0x61));
// Dual-stack and IPv6.
await connect(7002, '::1');
await connect(7002, '127.0.0.1');
await connect(7004, V6, { localAddress: V6 });
// Half-close: client FIN_WAIT_2, server CLOSE_WAIT (the server allows half-open and never ends).
const half = await connect(7001, '127.0.0.1');
half.end();
// TIME_WAIT: the client closes first, the server answers with its own FIN.
const tw = await connect(7005, '127.0.0.1');
const twClosed = once(tw, 'close');
tw.resume();
tw.end();
await twClosed;
// Accept queue overflow: 2 connections complete into the queue of a backlog-1 listener,
// the next SYNs are dropped (clients stay in SYN_SENT).
for (let i = 0; i < 4; i++) {
  const c = net.connect({ port: 7003, host: '127.0.0.1' });
  c.on('error', () => {});
  keep.push(c);
}
await new Promise((r) => setTimeout(r, 300));
clearTimeout(timeout);
process.stdout.write(`${JSON.stringify({ ready: true, pid: process.pid, uid: process.getuid?.() })}\n`);
setInterval(() => {}, 60_000);
process.on('SIGTERM', () => process.exit(0));

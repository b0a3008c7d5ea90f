// Runs inside the test's namespace: opens and closes known numbers of connections in
// known ways on 127.0.0.77, one port per way, then prints "ready" and waits for a line on
// stdin before closing what it kept open (so the test can compare with ss meanwhile).
import net from 'node:net';
import { once } from 'node:events';

const HOST = '127.0.0.77';
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const N = Number(process.argv[2] ?? '3');

async function listen(port) {
  const server = net.createServer({ allowHalfOpen: true });
  const accepted = [];
  server.on('connection', (s) => { s.on('error', () => {}); accepted.push(s); });
  server.listen(port, HOST);
  await once(server, 'listening');
  return { server, accepted };
}
async function connect(port) {
  const c = net.connect({ host: HOST, port });
  c.on('error', () => {});
  await once(c, 'connect');
  return c;
}
async function waitAccepted(l, n) { while (l.accepted.length < n) await sleep(5); }

const keep = [];
// A 47101: the client closes first (close(), no shutdown), the server 30 ms later.
{
  const l = await listen(47101);
  for (let i = 0; i < N; i++) {
    const c = await connect(47101);
    await waitAccepted(l, i + 1);
    c.destroy();
    await sleep(30);
    l.accepted[i].destroy();
    await sleep(10);
  }
  l.server.close();
}
// B 47102: the server closes first, the client 30 ms later.
{
  const l = await listen(47102);
  for (let i = 0; i < N; i++) {
    const c = await connect(47102);
    await waitAccepted(l, i + 1);
    l.accepted[i].destroy();
    await sleep(30);
    c.destroy();
    await sleep(10);
  }
  l.server.close();
}
// C 47103: refused connects (nothing listens).
for (let i = 0; i < N; i++) {
  const c = net.connect({ host: HOST, port: 47103 });
  await new Promise((r) => c.on('error', r));
}
// D 47104: the client aborts with SO_LINGER 0 (resetAndDestroy).
{
  const l = await listen(47104);
  for (let i = 0; i < N; i++) {
    const c = await connect(47104);
    await waitAccepted(l, i + 1);
    c.resetAndDestroy();
    await sleep(20);
  }
  l.server.close();
}
// E 47105: the client shuts down its sending side, then closes in FIN_WAIT_2; the server stays open.
{
  const l = await listen(47105);
  for (let i = 0; i < N; i++) {
    const c = await connect(47105);
    await waitAccepted(l, i + 1);
    c.end();
    await sleep(30);
    c.destroy();
    await sleep(10);
  }
  keep.push(...l.accepted);
  l.server.close();
}
process.stdout.write('ready\n');
process.stdin.once('data', () => {
  for (const s of keep) s.destroy();
  setTimeout(() => process.exit(0), 100);
});

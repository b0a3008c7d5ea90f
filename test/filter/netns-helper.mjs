// Socket zoo for the ss oracle test (test/filter/ss-oracle.test.ts). Runs inside a
// private network namespace (`ip netns exec NS node netns-helper.mjs`) where lo is up,
// 127.0.0.2/8 and 10.99.0.1/32 are on lo and 10.99.0.0/24 is routed into lo (so SYNs to
// 10.99.0.2 vanish). Opens listeners and connections in many states, prints READY and
// stays alive until killed. Never run outside a throwaway namespace.
import net from 'node:net';

const sockets = [];
const keep = (s) => {
  sockets.push(s);
  s.on('error', () => {});
  return s;
};

function listen(options, port, host, onConn = () => {}) {
  return new Promise((resolve, reject) => {
    const srv = net.createServer(options, (c) => {
      keep(c);
      onConn(c);
    });
    srv.on('error', reject);
    srv.listen({ port, host, ipv6Only: options.ipv6Only ?? false }, () => resolve(srv));
  });
}

function connect(options) {
  return new Promise((resolve, reject) => {
    const s = keep(net.connect(options));
    s.once('connect', () => resolve(s));
    s.once('error', reject);
  });
}

/** Client closes first: client ends up in TIME-WAIT, the server side closes. */
async function timeWait(options) {
  const s = await connect(options);
  await new Promise((resolve) => {
    s.once('close', resolve);
    s.end();
  });
}

const main = async () => {
  // Server on 127.0.0.1:8080 keeps half-open connections (CLOSE-WAIT) open.
  await listen({ allowHalfOpen: true }, 8080, '127.0.0.1');
  await listen({}, 8081, '127.0.0.2');
  await listen({}, 9000, '0.0.0.0');
  await listen({ ipv6Only: true }, 8443, '::1');
  await listen({}, 9443, '::'); // dual stack: IPv4 peers appear as ::ffff:a.b.c.d

  // ESTABLISHED pairs
  await connect({ port: 8080, host: '127.0.0.1' });
  await connect({ port: 8080, host: '127.0.0.1' });
  await connect({ port: 8081, host: '127.0.0.2', localAddress: '127.0.0.2', localPort: 5555 });
  await connect({ port: 9000, host: '127.0.0.2', localAddress: '127.0.0.2' });
  await connect({ port: 9000, host: '10.99.0.1', localAddress: '10.99.0.1' });
  await connect({ port: 8443, host: '::1' });
  await connect({ port: 9443, host: '127.0.0.2', localAddress: '127.0.0.2' });
  await connect({ port: 9443, host: '::1' });

  // Half-close: client FIN-WAIT-2, server CLOSE-WAIT (allowHalfOpen keeps it there)
  const half = await connect({ port: 8080, host: '127.0.0.1' });
  half.end();

  // TIME-WAIT on the client side, IPv4 and IPv6
  await timeWait({ port: 9000, host: '127.0.0.1' });
  await timeWait({ port: 9000, host: '127.0.0.2', localAddress: '127.0.0.2' });
  await timeWait({ port: 8443, host: '::1' });

  // SYN-SENT: 10.99.0.2 is routed into lo but is nobody's address
  for (const port of [80, 443]) {
    const s = keep(net.connect({ port, host: '10.99.0.2' }));
    s.setTimeout(0);
  }

  process.stdout.write('READY\n');
};

main().catch((e) => {
  process.stdout.write(`FAILED ${e && e.stack ? e.stack : String(e)}\n`);
  process.exit(1);
});

setInterval(() => {}, 60_000);

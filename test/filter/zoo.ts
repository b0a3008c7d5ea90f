/**
 * The socket zoo of the filter tests (ss-oracle.test.ts, ../cli/ls-filter-e2e.test.ts): a
 * private network namespace where lo is up, 127.0.0.2/8 and 10.99.0.1/32 are on lo and
 * 10.99.0.0/24 is routed into lo (SYNs to 10.99.0.2 go unanswered), holding the sockets of
 * netns-helper.mjs plus, when python3 is there, request sockets (SYN-RECV) of a
 * TCP_DEFER_ACCEPT listener.
 */
import type { ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createNetns, hasTool, spawnInNetns, ssStateCounts, waitForReady, waitForSs } from '../helpers/netns.js';

const HELPER = fileURLToPath(new URL('./netns-helper.mjs', import.meta.url));

/**
 * Request sockets (SYN-RECV) need a listener with TCP_DEFER_ACCEPT, which Node cannot set;
 * a python3 one-liner does it when python3 is there (optional: without it the zoo has no
 * SYN-RECV socket and the filter batteries still run).
 */
export const HAVE_PYTHON = hasTool('python3', '-c', 'import socket');

const DEFER_ACCEPT_LISTENER = [
  'import socket, time',
  'l = socket.socket()',
  'l.setsockopt(socket.IPPROTO_TCP, socket.TCP_DEFER_ACCEPT, 60)',
  "l.bind(('127.0.0.1', 7000))",
  'l.listen(8)',
  'cs = []',
  'for _ in range(2):',
  '    c = socket.socket()',
  "    c.connect(('127.0.0.1', 7000))",
  '    cs.append(c)',
  "print('READY', flush=True)",
  'time.sleep(600)',
].join('\n');

/**
 * Creates namespace `ns`, starts the zoo in it (its processes go to `children`, for
 * killAll in the suite's afterAll, whether or not they became ready) and waits (bounded)
 * until the closing handshakes have settled into their states. `what` names the suite in
 * messages.
 */
export async function startSocketZoo(ns: string, children: ChildProcess[], what: string): Promise<void> {
  createNetns(ns, [
    ['addr', 'add', '127.0.0.2/8', 'dev', 'lo'],
    ['addr', 'add', '10.99.0.1/32', 'dev', 'lo'],
    ['route', 'add', '10.99.0.0/24', 'dev', 'lo', 'src', '10.99.0.1'],
  ]);
  const zoo = spawnInNetns(ns, [process.execPath, HELPER]);
  children.push(zoo);
  await waitForReady(zoo, 'socket zoo', 'READY', { failed: 'FAILED', timeoutMs: 15_000 });
  if (HAVE_PYTHON) {
    children.push(spawnInNetns(ns, ['python3', '-c', DEFER_ACCEPT_LISTENER], { stdio: 'ignore' }));
  } else {
    console.warn(`${what}: python3 not found, the socket zoo has no SYN-RECV (request) sockets`);
  }
  const want: Record<string, number> = { 'TIME-WAIT': 3, 'FIN-WAIT-2': 1, 'CLOSE-WAIT': 1, 'SYN-SENT': 2 };
  if (HAVE_PYTHON) want['SYN-RECV'] = 2;
  await waitForSs(ns, (text) => {
    const counts = ssStateCounts(text);
    return Object.entries(want).every(([s, n]) => (counts[s] ?? 0) >= n);
  }, 10_000);
}

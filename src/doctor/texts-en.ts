/**
 * The doctor's words in English: finding titles (with the figures filled in) and the
 * advice of each rule, written for the operator at 3 a.m. The Chinese texts
 * (texts-zh.ts) implement the same interface, so a missing text is a type error.
 */
import { n } from '../format/number.js';
import type { RuleId } from './thresholds.js';

export type Closer = 'server' | 'client' | 'mixed' | 'none';

export interface DoctorTexts {
  readonly title: {
    timeWaitMany(p: { count: number; bucketsPct: string | null; closer: Closer }): string;
    timeWaitPort(p: { port: number; count: number; conns: number; closer: Closer }): string;
    timeWaitOverflow(p: { count: number; seconds: number }): string;
    timeWaitOverflowSinceBoot(p: { count: number }): string;
    ephemeral(p: { destination: string; local: string; used: number; size: number; pct: string }): string;
    closeWait(p: { count: number; growth: number | null; seconds: number; owner: { command: string; pid: number; count: number } | null }): string;
    finWait1(p: { stuck: number; total: number; queued: string }): string;
    finWait2(p: { count: number; orphans: number; halfClosed: number }): string;
    synRecv(p: { count: number; sources: number; fullPort: number | null; backlog: number | null }): string;
    synCookies(p: { count: number; seconds: number }): string;
    synCookiesSinceBoot(p: { count: number }): string;
    acceptQueue(p: { listener: string; queue: number; capacity: number; overflows: number | null; seconds: number }): string;
    listenOverflows(p: { overflows: number; drops: number; seconds: number }): string;
    listenOverflowsSinceBoot(p: { overflows: number; drops: number }): string;
    synSent(p: { destination: string; count: number; retransmits: number }): string;
    lastAck(p: { count: number; peers: number; topPeer: string | null }): string;
    orphans(p: { orphans: number; max: number; pct: string }): string;
    tcpMemory(p: { pages: number; pressure: number; max: number }): string;
    abortOnMemory(p: { count: number; seconds: number }): string;
    abortOnMemorySinceBoot(p: { count: number }): string;
  };
  readonly advice: Readonly<Record<RuleId, readonly string[]>>;
  readonly ui: {
    readonly evidence: string;
    readonly advice: string;
    readonly header: (p: { findings: number; sockets: number; rules: number; sampled: number; where: string }) => string;
    readonly allClear: string;
    readonly severity: Readonly<Record<'ok' | 'info' | 'warning' | 'critical', string>>;
  };
}

const s = (k: number, one: string, many: string): string => (k === 1 ? one : many);

const closerText: Record<Closer, string> = {
  server: 'servers here close first',
  client: 'clients here close first',
  mixed: 'both servers and clients here close first',
  none: '',
};

export const DOCTOR_TEXTS_EN: DoctorTexts = {
  title: {
    timeWaitMany: ({ count, bucketsPct, closer }) =>
      `${n(count)} TIME_WAIT${bucketsPct === null ? '' : ` (${bucketsPct} of tcp_max_tw_buckets)`}${closer === 'none' ? '' : `: ${closerText[closer]}`}`,
    timeWaitPort: ({ port, count, conns, closer }) =>
      `port ${port}: ${n(count)} of its ${n(conns)} connections are in TIME_WAIT${closer === 'none' ? '' : ` (${closerText[closer]})`}`,
    timeWaitOverflow: ({ count, seconds }) => `TIME_WAIT table full: TCPTimeWaitOverflow +${n(count)} in ${seconds} s (closes skip TIME_WAIT)`,
    timeWaitOverflowSinceBoot: ({ count }) => `TCPTimeWaitOverflow ${n(count)} since boot`,
    ephemeral: ({ destination, local, used, size, pct }) =>
      `${n(used)} of ${n(size)} ephemeral ports (${pct}) used from ${local} to ${destination}`,
    closeWait: ({ count, growth, seconds, owner }) =>
      `${n(count)} CLOSE_WAIT${growth === null ? '' : ` (${growth >= 0 ? '+' : ''}${n(growth)} in ${seconds} s)`}` +
      (owner === null ? '' : `, ${n(owner.count)} held by ${owner.command} (pid ${owner.pid})`) +
      ': an application is not closing sockets',
    finWait1: ({ stuck, total, queued }) =>
      `${n(stuck)} of ${n(total)} FIN_WAIT_1 ${s(stuck, 'has', 'have')} data queued (${queued}): ${s(stuck, 'its peer is', 'peers are')} not reading`,
    finWait2: ({ count, orphans, halfClosed }) =>
      `${n(count)} FIN_WAIT_2 (${n(orphans)} ${s(orphans, 'orphan', 'orphans')}, ${n(halfClosed)} half-closed): peers are not closing their side`,
    synRecv: ({ count, sources, fullPort, backlog }) =>
      `${n(count)} SYN_RECEIVED from ${n(sources)} ${s(sources, 'address', 'addresses')}` +
      (fullPort === null ? '' : `; the SYN queue of port ${fullPort} is full (backlog ${n(backlog ?? 0)})`),
    synCookies: ({ count, seconds }) => `${n(count)} SYN cookies sent in ${seconds} s: a SYN queue overflowed`,
    synCookiesSinceBoot: ({ count }) => `SyncookiesSent ${n(count)} since boot`,
    acceptQueue: ({ listener, queue, capacity, overflows, seconds }) =>
      `accept queue of ${listener} ${queue >= capacity ? 'full' : 'nearly full'} (${n(queue)}/${n(capacity)})` +
      (overflows === null ? '' : `, ListenOverflows +${n(overflows)} in ${seconds} s`) +
      ': the application accepts too slowly',
    listenOverflows: ({ overflows, drops, seconds }) => `ListenOverflows +${n(overflows)}, ListenDrops +${n(drops)} in ${seconds} s`,
    listenOverflowsSinceBoot: ({ overflows, drops }) =>
      overflows > 0 ? `ListenOverflows ${n(overflows)} since boot` : `ListenDrops ${n(drops)} since boot`,
    synSent: ({ destination, count, retransmits }) =>
      `${n(count)} SYN_SENT to ${destination}${retransmits > 0 ? ` (SYN retransmitted up to ${retransmits} times)` : ''}: no answer from the peer`,
    lastAck: ({ count, peers, topPeer }) =>
      `${n(count)} LAST_ACK${topPeer === null ? '' : ` (top peer ${topPeer}${peers > 1 ? ` of ${n(peers)}+` : ''})`}: peers do not acknowledge our FIN`,
    orphans: ({ orphans, max, pct }) => `${n(orphans)} orphaned sockets, ${pct} of tcp_max_orphans ${n(max)}`,
    tcpMemory: ({ pages, pressure, max }) => `TCP memory at ${n(pages)} pages: over the pressure level ${n(pressure)} (hard limit ${n(max)})`,
    abortOnMemory: ({ count, seconds }) => `TCPAbortOnMemory +${n(count)} in ${seconds} s: connections reset for lack of memory`,
    abortOnMemorySinceBoot: ({ count }) => `TCPAbortOnMemory ${n(count)} since boot`,
  },
  advice: {
    'time-wait-pileup': [
      'TIME_WAIT sits with whoever closes first. Let the client close first (HTTP keep-alive, and the server waits for the client to hang up) so the servers here stay clean.',
      'Reuse connections instead of opening one per request: keep-alive, connection pools, HTTP/2 multiplexing. Fewer connections means fewer TIME_WAIT.',
      'For outgoing connections net.ipv4.tcp_tw_reuse=1 lets a new connection take over a TIME_WAIT port safely (timestamps must be on); it does nothing for incoming ones.',
      'Do not shorten TIME_WAIT (it is fixed at 60 s on Linux) and do not lower tcp_max_tw_buckets to hide it: TIME_WAIT protects new connections from old duplicate segments. Each one costs only a small kernel structure.',
    ],
    'ephemeral-port-exhaustion': [
      'Widen the range: net.ipv4.ip_local_port_range="1024 65535" (keep ports of local services out with ip_local_reserved_ports).',
      'Spread the load over more destination addresses or ports, or more local source addresses: the limit is per (source address, destination address, destination port).',
      'Pool and reuse connections to this destination; every short-lived connection holds its port for another 60 s in TIME_WAIT.',
      'For outgoing connections net.ipv4.tcp_tw_reuse=1 lets TIME_WAIT ports be reused.',
    ],
    'close-wait-leak': [
      'The peer closed and the application here never called close(): this is an application bug, no sysctl fixes it.',
      'Look at the process named above: where it reads from a socket, a read of 0 bytes (end of file) must lead to close(); close in finally/defer/using blocks on every error path.',
      'Connection pools: validate or expire idle connections so those the server already closed are dropped and closed.',
      'Check for threads blocked elsewhere (a deadlock, a slow downstream) that never get back to the socket; a thread dump shows them.',
      'Restarting the process frees the sockets for now; they come back until the code is fixed. Left alone, they end in "Too many open files".',
    ],
    'fin-wait-1-stuck': [
      'The peer stopped reading: its receive window is zero and our FIN waits behind the unsent data. Look at the peers listed: a stuck or overloaded client, or one gone without a RST.',
      'Orphans (already closed here) are retried net.ipv4.tcp_orphan_retries times (0 means 8) and then dropped; lower it (e.g. 2-3) on busy servers to free them sooner.',
      'Servers can bound the wait themselves: send timeouts, and SO_LINGER with a timeout or TCP_USER_TIMEOUT so unsent data is not kept forever.',
      'If orphans approach net.ipv4.tcp_max_orphans, the kernel starts resetting them: see orphan-pressure.',
    ],
    'fin-wait-2-orphans': [
      'Our FIN was acknowledged but the peer never sent its own: the peer application is not closing its side.',
      'Orphans end after net.ipv4.tcp_fin_timeout (60 s by default); lowering it (e.g. 15-30 s) frees them sooner without harming correct peers.',
      'Half-closed sockets (shutdown() here, no timer) wait as long as the peer keeps the connection: make sure the application here eventually close()s them, with a timeout.',
    ],
    'syn-recv-flood': [
      'Keep SYN cookies on (net.ipv4.tcp_syncookies=1): when the SYN queue is full, the handshake state moves into the SYN-ACK and the queue cannot be exhausted.',
      'Size the backlog: listen() backlog, net.core.somaxconn and net.ipv4.tcp_max_syn_backlog; fewer SYN-ACK retries (tcp_synack_retries) free half-open slots sooner.',
      'Many sources and no completed handshakes look like a spoofed SYN flood: filter upstream (provider, load balancer, SYN proxy) rather than on the host alone.',
      'If the sources are real clients, the ACK of the handshake is being lost: look for asymmetric routing or a firewall dropping return traffic.',
    ],
    'accept-queue-overflow': [
      'Completed connections wait in the accept queue until the application calls accept(); it is full, so the application accepts too slowly or is blocked.',
      'Make accepting cheap: a dedicated accept loop, more worker threads/processes (SO_REUSEPORT), and hand connections off instead of serving them in the accept loop.',
      'Size the queue for bursts: the listen() backlog, capped by net.core.somaxconn; raising only one of them has no effect.',
      'While the queue is full the final ACK is dropped and clients retry: expect connection delays of a second or more (watch ListenOverflows).',
    ],
    'syn-sent-stalled': [
      'The SYN gets no answer: the destination is down, a firewall drops the SYN silently, or the route is wrong. Check it from this host (ping, traceroute, nc -vz).',
      'A closed port answers with a RST at once, so a pile of SYN_SENT means packets are lost, not refused.',
      'Set connect timeouts in the application and back off retries; net.ipv4.tcp_syn_retries bounds the kernel\'s own wait (6 ≈ 127 s).',
    ],
    'last-ack-stuck': [
      'We answered the peer\'s FIN with ours and the peer never acknowledges it: it vanished (crashed, rebooted, a NAT or firewall dropped the flow).',
      'The kernel retransmits the FIN and gives up after net.ipv4.tcp_orphan_retries (orphans) or tcp_retries2; lower tcp_orphan_retries to free them sooner.',
      'Check what sits between us and the listed peers: a firewall or NAT with short timeouts drops the end of a connection.',
    ],
    'orphan-pressure': [
      'Orphans are sockets the applications have closed but that still wait for the peer (FIN_WAIT_1, FIN_WAIT_2, CLOSING, LAST_ACK). Beyond tcp_max_orphans, or when TCP memory is short, the kernel resets them ("too many orphaned sockets").',
      'Find which state they are in (table above) and treat the cause: peers not reading (fin-wait-1-stuck) or not closing (fin-wait-2-orphans).',
      'Free them sooner: lower net.ipv4.tcp_orphan_retries and net.ipv4.tcp_fin_timeout.',
      'Raise net.ipv4.tcp_max_orphans (each orphan can hold up to about 64 KB) and net.ipv4.tcp_mem only if the machine has the memory.',
    ],
  },
  ui: {
    evidence: 'Evidence',
    advice: 'Advice',
    header: ({ findings, sockets, rules, sampled, where }) =>
      `tcpstate doctor: ${findings === 0 ? 'no findings' : `${n(findings)} ${s(findings, 'finding', 'findings')}`} — ${n(rules)} rules on ${n(sockets)} sockets` +
      `${sampled > 0 ? `, sampled over ${sampled} s` : ''}${where === '' ? '' : ` in ${where}`}`,
    allClear: 'OK: no rule found anything to report.',
    severity: { ok: 'OK', info: 'INFO', warning: 'WARNING', critical: 'CRITICAL' },
  },
};

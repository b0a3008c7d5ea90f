/**
 * Every rule on constructed snapshots: it fires at its thresholds and not one step below,
 * with the severity, evidence and advice the issue asks for.
 */
import { describe, expect, it } from 'vitest';
import type { Observation } from '../../src/doctor/observe.js';
import { RULES } from '../../src/doctor/rules/index.js';
import { DOCTOR_TEXTS_EN } from '../../src/doctor/texts-en.js';
import { cloneThresholds, DEFAULT_THRESHOLDS, RULE_IDS, type RuleId, type Thresholds } from '../../src/doctor/thresholds.js';
import type { Finding } from '../../src/doctor/types.js';
import { many, observation, sock } from './factory.js';

function check<K extends RuleId>(id: K, now: Observation, before: Observation | null = null, seconds = 0, t: Thresholds = cloneThresholds(DEFAULT_THRESHOLDS)): Finding | null {
  return RULES[id].check({ now, before, seconds, traceRates: null }, t[id], DOCTOR_TEXTS_EN);
}

const sev = (f: Finding | null): string | null => f?.severity ?? null;
const listener = (port: number, backlog = 128, queue = 0) => sock({ state: 'LISTEN', lport: port, sendQueue: backlog, recvQueue: queue });
const T = DEFAULT_THRESHOLDS;

describe('every rule', () => {
  it.each(RULE_IDS)('%s: silent on an empty, healthy snapshot', (id) => {
    const now = observation([listener(80), ...many(10, (i) => ({ state: 'ESTABLISHED', lport: 80, remote: `10.1.0.${i}`, rport: 50000 + i }))]);
    expect(check(id, now)).toBeNull();
  });

  it.each(RULE_IDS)('%s: has advice in English and a rule id', (id) => {
    expect(DOCTOR_TEXTS_EN.advice[id].length).toBeGreaterThanOrEqual(3);
    expect(RULES[id].id).toBe(id);
  });
});

describe('time-wait-pileup', () => {
  const tw = (n: number, lport = 8080, remote = '10.0.0.9') =>
    many(n, (i) => ({ state: 'TIME_WAIT', lport, remote, rport: 40000 + (i % 20000) }));

  it(`warning at ${T['time-wait-pileup'].warning} TIME_WAIT, nothing one below (spread over ports, no share hit)`, () => {
    const spread = (n: number) => many(n, (i) => ({ state: 'TIME_WAIT', lport: 32768 + (i % 20000), rport: 443 }));
    expect(check('time-wait-pileup', observation(spread(T['time-wait-pileup'].warning - 1)))).toBeNull();
    const f = check('time-wait-pileup', observation(spread(T['time-wait-pileup'].warning)));
    expect(sev(f)).toBe('warning');
    expect(f?.evidence.facts['closedFirstByClient']).toBe(T['time-wait-pileup'].warning);
    expect(f?.evidence.facts['closedFirstPerSecond']).toBeCloseTo(T['time-wait-pileup'].warning / 60, 0);
    expect(f?.title).toMatch(/clients here close first/);
  });

  it('critical at 80% of tcp_max_tw_buckets, warning at 50%', () => {
    const sysctls = { 'net.ipv4.tcp_max_tw_buckets': '1000' };
    expect(sev(check('time-wait-pileup', observation(tw(499, 8080), { sysctls })))).toBe('info'); // port share only
    expect(sev(check('time-wait-pileup', observation(tw(500, 8080), { sysctls })))).toBe('warning');
    expect(sev(check('time-wait-pileup', observation(tw(799), { sysctls })))).toBe('warning');
    const f = check('time-wait-pileup', observation(tw(800), { sysctls }));
    expect(sev(f)).toBe('critical');
    expect(f?.title).toContain('80% of tcp_max_tw_buckets');
  });

  it('info when a port has ≥ portMin TIME_WAIT and they are ≥ portShare of its connections; servers close first', () => {
    const est = (n: number) => many(n, (i) => ({ state: 'ESTABLISHED', lport: 8080, rport: 30000 + i }));
    const min = T['time-wait-pileup'].portMin;
    expect(check('time-wait-pileup', observation([listener(8080), ...tw(min - 1)]))).toBeNull();
    const f = check('time-wait-pileup', observation([listener(8080), ...tw(min), ...est(min)]));
    expect(sev(f)).toBe('info');
    expect(f?.title).toBe(`port 8080: ${min} of its ${2 * min} connections are in TIME_WAIT (servers here close first)`);
    expect(f?.evidence.facts['closedFirstByServer']).toBe(min);
    // share just below 50%
    expect(check('time-wait-pileup', observation([listener(8080), ...tw(min), ...est(min + 1)]))).toBeNull();
  });

  it('TCPTimeWaitOverflow rising over a sample is critical; since boot only info', () => {
    const a = observation([], { tcpExt: { TCPTimeWaitOverflow: 5 } });
    expect(sev(check('time-wait-pileup', a))).toBe('info');
    const b = observation([], { tcpExt: { TCPTimeWaitOverflow: 6 } });
    const f = check('time-wait-pileup', b, a, 2);
    expect(sev(f)).toBe('critical');
    expect(f?.evidence.facts['timeWaitOverflowDelta']).toBe(1);
  });

  it('sampling adds the connection rate from Active+PassiveOpens deltas', () => {
    const a = observation(tw(30), { tcp: { ActiveOpens: 100, PassiveOpens: 0 } });
    const b = observation(tw(40), { tcp: { ActiveOpens: 110, PassiveOpens: 10 } });
    const f = check('time-wait-pileup', b, a, 2);
    expect(f?.evidence.facts['newConnectionsPerSecond']).toBe(10);
    expect(f?.evidence.facts['timeWaitDelta']).toBe(10);
  });
});

describe('ephemeral-port-exhaustion', () => {
  const range = { 'net.ipv4.ip_local_port_range': '50000 50999' }; // 1000 ports
  const conns = (n: number, local = '10.0.0.1') =>
    many(n, (i) => ({ state: i % 2 === 0 ? 'ESTABLISHED' : 'TIME_WAIT', local, lport: 50000 + i, remote: '192.0.2.7', rport: 5432 }));

  it('warning at 50% of the range to one destination from one address, nothing below', () => {
    expect(check('ephemeral-port-exhaustion', observation(conns(499), { sysctls: range }))).toBeNull();
    const f = check('ephemeral-port-exhaustion', observation(conns(500), { sysctls: range }));
    expect(sev(f)).toBe('warning');
    expect(f?.title).toBe('500 of 1,000 ephemeral ports (50%) used from 10.0.0.1 to 192.0.2.7:5432');
    expect(f?.evidence.facts['rangeSize']).toBe(1000);
  });

  it('critical at 80%', () => {
    expect(sev(check('ephemeral-port-exhaustion', observation(conns(799), { sysctls: range })))).toBe('warning');
    expect(sev(check('ephemeral-port-exhaustion', observation(conns(800), { sysctls: range })))).toBe('critical');
  });

  it('counts per local address: two source addresses share nothing', () => {
    const recs = [...conns(400, '10.0.0.1'), ...conns(400, '10.0.0.3')];
    expect(check('ephemeral-port-exhaustion', observation(recs, { sysctls: range }))).toBeNull();
  });

  it('ignores local ports outside the range (incoming connections to a service port)', () => {
    const incoming = many(900, (i) => ({ state: 'ESTABLISHED', lport: 443, remote: '192.0.2.7', rport: 50000 + i }));
    expect(check('ephemeral-port-exhaustion', observation(incoming, { sysctls: range }))).toBeNull();
  });
});

describe('close-wait-leak', () => {
  const cw = (n: number, inodeBase = 1) => many(n, (i) => ({ state: 'CLOSE_WAIT', lport: 7000, inode: inodeBase + i, rport: 30000 + i }));
  const owners = (recs: ReturnType<typeof cw>, pid: number, command = 'java') => new Map(recs.map((r) => [r.inode, { pid, command }]));

  it('no finding without CLOSE_WAIT; info from 1; warning at 50; critical at 1000', () => {
    expect(check('close-wait-leak', observation([]))).toBeNull();
    expect(sev(check('close-wait-leak', observation(cw(1))))).toBe('info');
    expect(sev(check('close-wait-leak', observation(cw(49))))).toBe('info');
    expect(sev(check('close-wait-leak', observation(cw(50))))).toBe('warning');
    expect(sev(check('close-wait-leak', observation(cw(999))))).toBe('warning');
    expect(sev(check('close-wait-leak', observation(cw(1000))))).toBe('critical');
  });

  it('names the owning process (pid, command)', () => {
    const recs = cw(3);
    const f = check('close-wait-leak', observation(recs, {}, { owners: owners(recs, 4242) }));
    expect(f?.title).toBe('3 CLOSE_WAIT, 3 held by java (pid 4242): an application is not closing sockets');
    expect(f?.evidence.tables.find((t) => t.title === 'per process')?.rows).toEqual([[4242, 'java', '3']]);
  });

  it(`growth of ${T['close-wait-leak'].growthWarning} over the sample is a warning, one less stays info; persisting sockets are counted`, () => {
    const first = cw(10);
    const a = observation(first, {}, { owners: owners(first, 4242) });
    const grown = (k: number) => [...first, ...cw(k, 1000)];
    const bLow = grown(T['close-wait-leak'].growthWarning - 1);
    expect(sev(check('close-wait-leak', observation(bLow, {}, { owners: owners(bLow, 4242) }), a, 2))).toBe('info');
    const b = grown(T['close-wait-leak'].growthWarning);
    const f = check('close-wait-leak', observation(b, {}, { owners: owners(b, 4242) }), a, 2);
    expect(sev(f)).toBe('warning');
    expect(f?.evidence.facts['growth']).toBe(T['close-wait-leak'].growthWarning);
    expect(f?.evidence.facts['persisted']).toBe(10);
    expect(f?.evidence.tables.find((t) => t.title === 'per process')?.rows[0]).toEqual([4242, 'java', '15', '+5']);
  });

  it('growth of one process counts even when another shrinks', () => {
    const a1 = cw(10, 1);
    const a2 = cw(10, 100);
    const ownersA = new Map([...owners(a1, 1, 'a'), ...owners(a2, 2, 'b')]);
    const a = observation([...a1, ...a2], {}, { owners: ownersA });
    const b1 = [...a1, ...cw(5, 500)];
    const b2 = a2.slice(0, 5);
    const ownersB = new Map([...owners(b1, 1, 'a'), ...owners(b2, 2, 'b')]);
    const f = check('close-wait-leak', observation([...b1, ...b2], {}, { owners: ownersB }), a, 2);
    expect(f?.evidence.facts['growth']).toBe(0);
    expect(sev(f)).toBe('warning');
    expect(f?.evidence.facts['topPid']).toBe(1);
  });
});

describe('fin-wait-1-stuck', () => {
  const fw1 = (n: number, sendQueue: number, timer: 'persist' | 'on' | null = null) =>
    many(n, (i) => ({ state: 'FIN_WAIT_1', lport: 80, rport: 30000 + i, sendQueue, inode: 0, timer: timer === null ? null : { kind: timer, expiresMs: 200, retransmits: 0 } }));

  it('a FIN_WAIT_1 with only its FIN outstanding (Send-Q 1) is not stuck', () => {
    expect(check('fin-wait-1-stuck', observation(fw1(5, 1, 'on')))).toBeNull();
  });

  it('info from 1 with data queued, warning at 100, critical at 1000', () => {
    expect(sev(check('fin-wait-1-stuck', observation(fw1(1, 2))))).toBe('info');
    expect(sev(check('fin-wait-1-stuck', observation(fw1(99, 4096))))).toBe('info');
    expect(sev(check('fin-wait-1-stuck', observation(fw1(100, 4096))))).toBe('warning');
    expect(sev(check('fin-wait-1-stuck', observation(fw1(999, 4096))))).toBe('warning');
    expect(sev(check('fin-wait-1-stuck', observation(fw1(1000, 4096))))).toBe('critical');
  });

  it('zero-window probing (persist timer) counts even with Send-Q 0; evidence has bytes, timers and orphans', () => {
    const f = check('fin-wait-1-stuck', observation([...fw1(3, 0, 'persist'), ...fw1(2, 1024)]));
    expect(f?.evidence.facts).toMatchObject({ stuck: 5, persistTimers: 3, sendQueueBytes: 2048, orphans: 5 });
    expect(f?.title).toBe('5 of 5 FIN_WAIT_1 have data queued (2.0 KiB): peers are not reading');
  });
});

describe('fin-wait-2-orphans', () => {
  const fw2 = (n: number, orphan: boolean) =>
    many(n, (i) => ({ state: 'FIN_WAIT_2', lport: 40000 + i, ...(orphan ? { inode: 0, timer: { kind: 'timewait' as const, expiresMs: 5000, retransmits: 0 } } : {}) }));
  it('info at 100, warning at 1000, critical at 10000; nothing at 99', () => {
    expect(check('fin-wait-2-orphans', observation(fw2(99, true)))).toBeNull();
    expect(sev(check('fin-wait-2-orphans', observation(fw2(100, true))))).toBe('info');
    expect(sev(check('fin-wait-2-orphans', observation(fw2(999, true))))).toBe('info');
    expect(sev(check('fin-wait-2-orphans', observation(fw2(1000, true))))).toBe('warning');
    expect(sev(check('fin-wait-2-orphans', observation(fw2(10000, false))))).toBe('critical');
  });
  it('tells orphans (no file) from half-closed sockets (shutdown, file held)', () => {
    const f = check('fin-wait-2-orphans', observation([...fw2(70, true), ...fw2(30, false)]));
    expect(f?.evidence.facts).toMatchObject({ finWait2: 100, orphans: 70, halfClosed: 30, finTimeout: '60' });
  });
});

describe('syn-recv-flood', () => {
  const half = (n: number, sources: number, lport = 443) =>
    many(n, (i) => ({ state: 'SYN_RECEIVED', lport, remote: `198.51.${Math.floor((i % sources) / 250)}.${(i % sources) % 250}`, rport: 1024 + i }));

  it('info at 32; nothing at 31', () => {
    expect(check('syn-recv-flood', observation([listener(443, 4096), ...half(31, 31)]))).toBeNull();
    expect(sev(check('syn-recv-flood', observation([listener(443, 4096), ...half(32, 32)])))).toBe('info');
  });

  it('warning at 256 from ≥ 16 sources; not from 15 sources', () => {
    expect(sev(check('syn-recv-flood', observation([listener(443, 4096), ...half(255, 200)])))).toBe('info');
    expect(sev(check('syn-recv-flood', observation([listener(443, 4096), ...half(256, 15)])))).toBe('info');
    const f = check('syn-recv-flood', observation([listener(443, 4096), ...half(256, 16)]));
    expect(sev(f)).toBe('warning');
    expect(f?.evidence.facts['sources']).toBe(16);
  });

  it('a full SYN queue (SYN_RECEIVED ≥ the listener backlog) is a warning', () => {
    expect(sev(check('syn-recv-flood', observation([listener(443, 64), ...half(63, 2)])))).toBe('info');
    const f = check('syn-recv-flood', observation([listener(443, 64), ...half(64, 2)]));
    expect(sev(f)).toBe('warning');
    expect(f?.title).toContain('SYN queue of port 443 is full (backlog 64)');
  });

  it('SYN cookies sent during the sample: warning; SYN-queue drops: critical; since boot: info', () => {
    const a = observation([], { tcpExt: { SyncookiesSent: 10 } });
    expect(sev(check('syn-recv-flood', a))).toBe('info');
    expect(sev(check('syn-recv-flood', observation([], { tcpExt: { SyncookiesSent: 10 } }), a, 2))).toBe('info');
    expect(sev(check('syn-recv-flood', observation([], { tcpExt: { SyncookiesSent: 11 } }), a, 2))).toBe('warning');
    expect(sev(check('syn-recv-flood', observation([], { tcpExt: { SyncookiesSent: 10, TCPReqQFullDrop: 1 } }), a, 2))).toBe('critical');
  });
});

describe('accept-queue-overflow', () => {
  it('silent below 90% of capacity (backlog + 1), warning at it', () => {
    // backlog 9 → capacity 10
    expect(check('accept-queue-overflow', observation([listener(8080, 9, 8)]))).toBeNull();
    const f = check('accept-queue-overflow', observation([listener(8080, 9, 9)]));
    expect(sev(f)).toBe('warning');
    expect(f?.title).toBe('accept queue of 10.0.0.1:8080 nearly full (9/10): the application accepts too slowly');
  });

  it('full and ListenOverflows rising over the sample: critical', () => {
    const a = observation([listener(8080, 2, 3)], { tcpExt: { ListenOverflows: 10, ListenDrops: 10 } });
    const b = observation([listener(8080, 2, 3)], { tcpExt: { ListenOverflows: 15, ListenDrops: 15 } });
    const f = check('accept-queue-overflow', b, a, 2);
    expect(sev(f)).toBe('critical');
    expect(f?.evidence.facts).toMatchObject({ listener: '10.0.0.1:8080', queue: 3, backlog: 2, listenOverflowsDelta: 5 });
  });

  it('counters rising without a full queue now: warning at deltaWarning; unchanged counters since boot: info', () => {
    const a = observation([listener(8080)], { tcpExt: { ListenOverflows: 6, ListenDrops: 6 } });
    const f0 = check('accept-queue-overflow', a);
    expect(sev(f0)).toBe('info');
    expect(f0?.title).toBe('ListenOverflows 6 since boot');
    expect(sev(check('accept-queue-overflow', observation([listener(8080)], { tcpExt: { ListenOverflows: 6, ListenDrops: 6 } }), a, 2))).toBe('info');
    expect(sev(check('accept-queue-overflow', observation([listener(8080)], { tcpExt: { ListenOverflows: 7, ListenDrops: 6 } }), a, 2))).toBe('warning');
  });

  it('a listener whose backlog is unknown (/proc source: 0) is not judged by fill', () => {
    expect(check('accept-queue-overflow', observation([listener(8080, 0, 5)]))).toBeNull();
  });
});

describe('syn-sent-stalled', () => {
  const ss = (n: number, retransmits = 0, dest = '203.0.113.5') =>
    many(n, (i) => ({ state: 'SYN_SENT', lport: 40000 + i, remote: dest, rport: 443, timer: { kind: 'on', expiresMs: 1000, retransmits } }));
  it('info at 5 to one destination, warning at 20, critical at 200; nothing at 4 without retransmissions', () => {
    expect(check('syn-sent-stalled', observation(ss(4)))).toBeNull();
    expect(sev(check('syn-sent-stalled', observation(ss(5))))).toBe('info');
    expect(sev(check('syn-sent-stalled', observation(ss(19))))).toBe('info');
    const f = check('syn-sent-stalled', observation(ss(20, 3)));
    expect(sev(f)).toBe('warning');
    expect(f?.title).toBe('20 SYN_SENT to 203.0.113.5:443 (SYN retransmitted up to 3 times): no answer from the peer');
    expect(sev(check('syn-sent-stalled', observation(ss(200))))).toBe('critical');
  });
  it('one SYN retransmitted twice is info, once is nothing', () => {
    expect(check('syn-sent-stalled', observation(ss(1, 1)))).toBeNull();
    expect(sev(check('syn-sent-stalled', observation(ss(1, 2))))).toBe('info');
  });
  it('counts per destination: 4 + 4 to two hosts is nothing', () => {
    expect(check('syn-sent-stalled', observation([...ss(4, 0, '203.0.113.5'), ...ss(4, 0, '203.0.113.6')]))).toBeNull();
  });
});

describe('last-ack-stuck', () => {
  const la = (n: number) => many(n, (i) => ({ state: 'LAST_ACK', lport: 80, rport: 30000 + i, inode: 0, timer: { kind: 'on', expiresMs: 800, retransmits: 4 } }));
  it('info at 5, warning at 100, critical at 1000; nothing at 4', () => {
    expect(check('last-ack-stuck', observation(la(4)))).toBeNull();
    expect(sev(check('last-ack-stuck', observation(la(5))))).toBe('info');
    expect(sev(check('last-ack-stuck', observation(la(99))))).toBe('info');
    expect(sev(check('last-ack-stuck', observation(la(100))))).toBe('warning');
    expect(sev(check('last-ack-stuck', observation(la(1000))))).toBe('critical');
  });
  it('shows peers and retransmissions', () => {
    const f = check('last-ack-stuck', observation(la(5)));
    expect(f?.evidence.facts).toMatchObject({ lastAck: 5, orphans: 5, maxRetransmits: 4, topPeer: '10.0.0.2' });
  });
});

describe('orphan-pressure', () => {
  const sysctls = { 'net.ipv4.tcp_max_orphans': '1000' };
  it('warning at 50% of tcp_max_orphans, critical at 90%, nothing below', () => {
    expect(check('orphan-pressure', observation([], { sysctls, orphans: 499 }))).toBeNull();
    const f = check('orphan-pressure', observation([], { sysctls, orphans: 500 }));
    expect(sev(f)).toBe('warning');
    expect(f?.title).toBe('500 orphaned sockets, 50% of tcp_max_orphans 1,000');
    expect(sev(check('orphan-pressure', observation([], { sysctls, orphans: 899 })))).toBe('warning');
    expect(sev(check('orphan-pressure', observation([], { sysctls, orphans: 900 })))).toBe('critical');
  });
  it('TCP memory over tcp_mem pressure: warning; over the hard limit: critical', () => {
    expect(check('orphan-pressure', observation([], { memPages: 1999, tcpMem: [1000, 2000, 3000] }))).toBeNull();
    expect(sev(check('orphan-pressure', observation([], { memPages: 2000, tcpMem: [1000, 2000, 3000] })))).toBe('warning');
    expect(sev(check('orphan-pressure', observation([], { memPages: 3000, tcpMem: [1000, 2000, 3000] })))).toBe('critical');
  });
  it('TCPAbortOnMemory rising over the sample: warning; since boot: info', () => {
    const a = observation([], { tcpExt: { TCPAbortOnMemory: 3 } });
    expect(sev(check('orphan-pressure', a))).toBe('info');
    expect(sev(check('orphan-pressure', observation([], { tcpExt: { TCPAbortOnMemory: 4 } }), a, 2))).toBe('warning');
  });
});

/**
 * Problem scenarios: each produces its condition as the system's own tools see it (ss,
 * /proc/net/netstat read inside the namespace) while it holds.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { ssIn, tcpExtIn, type SsLine } from '../helpers/netns.js';
import { labAvailable, namespacesOf, reap, startCli, waitForNamespace, type Background } from './helpers.js';

const enabled = labAvailable('test/lab/problems.test.ts');

const count = (lines: readonly SsLine[], state: string) => lines.filter((l) => l.state === state).length;

interface Seen {
  ss: SsLine[];
  overflowsBefore: number;
  overflowsAfter: number;
  code: number;
  json: { produced: boolean; problem: string };
}

async function during(name: string, bgs: Background[]): Promise<Seen> {
  const bg = startCli(['lab', 'problem', name, '--hold', '3', '--json']);
  bgs.push(bg);
  const ns = await waitForNamespace(bg);
  const before = tcpExtIn(ns).get('ListenOverflows') ?? 0;
  await new Promise((r) => setTimeout(r, 2000));
  const ss = ssIn(ns);
  const after = tcpExtIn(ns).get('ListenOverflows') ?? 0;
  const code = await Promise.race([bg.done, new Promise<number>((r) => setTimeout(() => r(-99), 20_000))]);
  return { ss, overflowsBefore: before, overflowsAfter: after, code, json: JSON.parse(bg.stdout) as Seen['json'] };
}

describe.runIf(enabled)('lab problem scenarios', () => {
  const bgs: Background[] = [];
  const results = new Map<string, Promise<Seen>>();
  const get = (name: string): Promise<Seen> => {
    let p = results.get(name);
    if (p === undefined) {
      p = during(name, bgs);
      results.set(name, p);
    }
    return p;
  };
  // Start them all at once: each holds 3 s.
  if (enabled) {
    for (const n of ['close-wait-leak', 'time-wait-pileup', 'fin-wait-1-stuck', 'syn-flood', 'accept-queue-overflow', 'last-ack-stuck']) {
      get(n).catch(() => undefined);
    }
  }

  afterAll(async () => {
    await reap(bgs);
    expect(namespacesOf(bgs.map((b) => b.pid))).toEqual([]);
  });

  it('close-wait-leak: CLOSE-WAIT grows while the server never closes', async () => {
    const s = await get('close-wait-leak');
    expect(s.code).toBe(0);
    expect(s.json.produced).toBe(true);
    expect(count(s.ss, 'CLOSE-WAIT')).toBeGreaterThanOrEqual(5);
  }, 30_000);

  it('time-wait-pileup: TIME-WAIT piles up on the server', async () => {
    const s = await get('time-wait-pileup');
    expect(s.code).toBe(0);
    expect(count(s.ss, 'TIME-WAIT')).toBeGreaterThanOrEqual(5);
    expect(s.ss.filter((l) => l.state === 'TIME-WAIT').every((l) => l.local === '10.200.0.1:7000')).toBe(true);
  }, 30_000);

  it('fin-wait-1-stuck: FIN-WAIT-1 with unsent data (Send-Q) behind a zero window', async () => {
    const s = await get('fin-wait-1-stuck');
    expect(s.code).toBe(0);
    const stuck = s.ss.filter((l) => l.state === 'FIN-WAIT-1');
    expect(stuck.length).toBeGreaterThanOrEqual(2);
    expect(stuck.every((l) => l.sendQ > 0)).toBe(true);
  }, 30_000);

  it('syn-flood: many SYN-RECV from many source addresses', async () => {
    const s = await get('syn-flood');
    expect(s.code).toBe(0);
    const half = s.ss.filter((l) => l.state === 'SYN-RECV');
    expect(half.length).toBeGreaterThanOrEqual(20);
    expect(new Set(half.map((l) => l.peer.split(':')[0])).size).toBeGreaterThanOrEqual(10);
  }, 30_000);

  it('accept-queue-overflow: the full accept queue shows in Recv-Q and ListenOverflows increases', async () => {
    const s = await get('accept-queue-overflow');
    expect(s.code).toBe(0);
    const listener = s.ss.find((l) => l.state === 'LISTEN' && l.local === '10.200.0.1:7000');
    expect(listener?.recvQ).toBe(3); // backlog 2: the kernel queues backlog + 1
    expect(s.overflowsAfter).toBeGreaterThan(s.overflowsBefore);
  }, 30_000);

  it('last-ack-stuck: LAST-ACK piles up', async () => {
    const s = await get('last-ack-stuck');
    expect(s.code).toBe(0);
    expect(count(s.ss, 'LAST-ACK')).toBeGreaterThanOrEqual(3);
  }, 30_000);
});

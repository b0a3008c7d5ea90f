/**
 * The lab reproduces all 11 states on the real kernel, and `ss` run inside the lab
 * namespace (independent of our own reader) sees each while `--hold` keeps it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STATE_INFO, TCP_STATES, type TcpState } from '../../src/core/states.js';
import { ssIn, type SsLine } from '../helpers/netns.js';
import { hostTunDevices, labAvailable, namespacesOf, reap, runCliAsync, startCli, waitForNamespace, type Background } from './helpers.js';

const enabled = labAvailable('test/lab/states.test.ts');

interface Addr {
  address: string;
  port: number;
}
interface RunJson {
  state: TcpState;
  reproduced: boolean;
  namespace: string;
  socket: { state: TcpState; local: Addr; remote: Addr } | null;
  segments: { from: string; flags: string; withheld: boolean }[];
  ms: number;
}

interface Held {
  bg: Background;
  ns: string;
  ss: SsLine[];
  code: number;
  json: RunJson;
}

describe.runIf(enabled)('lab: the 11 states on the real kernel', () => {
  const held = new Map<TcpState, Held>();
  const all: Background[] = [];

  beforeAll(async () => {
    // All 11 at once: each holds 3 s, so the whole file takes a few seconds.
    await Promise.all(
      TCP_STATES.map(async (state) => {
        const bg = startCli(['lab', state.toLowerCase().replaceAll('_', '-'), '--hold', '3', '--json']);
        all.push(bg);
        const ns = await waitForNamespace(bg);
        const ss = ssIn(ns);
        const code = await Promise.race([bg.done, new Promise<number>((r) => setTimeout(() => r(-99), 20_000))]);
        const json = JSON.parse(bg.stdout) as RunJson;
        held.set(state, { bg, ns, ss, code, json });
      }),
    );
  }, 60_000);

  afterAll(async () => {
    await reap(all);
  });

  it('lab all --json reproduces every state', async () => {
    const r = await runCliAsync(['lab', 'all', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout) as { reproduced: number; total: number; states: RunJson[] };
    expect(doc.total).toBe(11);
    expect(doc.states.map((s) => s.state)).toEqual([...TCP_STATES]);
    expect(doc.states.filter((s) => !s.reproduced).map((s) => s.state)).toEqual([]);
    expect(doc.reproduced).toBe(11);
  }, 60_000);

  for (const state of TCP_STATES) {
    it(`${state}: reproduced, and ss inside the namespace shows it during --hold`, () => {
      const h = held.get(state);
      expect(h, `the ${state} run did not complete`).toBeDefined();
      if (h === undefined) return;
      expect(h.code, h.bg.stderr).toBe(0);
      expect(h.json.state).toBe(state);
      expect(h.json.reproduced).toBe(true);
      expect(h.json.namespace).toBe(h.ns);
      expect(h.ns).toBe(`tcpstate-lab-${h.bg.pid}-0`);
      if (state === 'CLOSED') {
        expect(h.json.socket).toBeNull();
        expect(h.json.segments.some((s) => s.from === 'kernel' && s.flags.startsWith('R'))).toBe(true);
        expect(h.ss.filter((l) => l.local.endsWith(':7001'))).toEqual([]);
        return;
      }
      const sock = h.json.socket;
      expect(sock?.state).toBe(state);
      if (sock === null) return;
      const local = `${sock.local.address}:${sock.local.port}`;
      const line = h.ss.find((l) => l.local === local && (sock.remote.port === 0 || l.peer === `${sock.remote.address}:${sock.remote.port}`));
      expect(line, `ss in ${h.ns}:\n${h.ss.map((l) => `${l.state} ${l.local} ${l.peer}`).join('\n')}`).toBeDefined();
      expect(line?.state).toBe(STATE_INFO[state].ss);
    });
  }

  it('a withheld ACK is recorded but never reaches the kernel (SYN_RECEIVED, FIN_WAIT_1, CLOSING, LAST_ACK)', () => {
    for (const s of ['SYN_RECEIVED', 'FIN_WAIT_1', 'CLOSING', 'LAST_ACK'] as const) {
      expect(held.get(s)?.json.segments.some((x) => x.from === 'peer' && x.withheld), s).toBe(true);
    }
  });

  it('leaves no namespace and no TUN device behind', () => {
    expect(namespacesOf([...held.values()].map((h) => h.bg.pid))).toEqual([]);
    expect(hostTunDevices()).toEqual([]);
  });
});

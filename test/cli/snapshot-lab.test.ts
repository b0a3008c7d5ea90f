/**
 * The snapshot for the states plain sockets cannot reach: the lab holds SYN_RECEIVED,
 * FIN_WAIT_1, CLOSING and LAST_ACK on the real kernel, and `tcpstate ls --json` (both
 * sources) and `tcpstate --json` must report exactly what `ss -tanH` shows there.
 */
import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STATE_INFO, type TcpState } from '../../src/core/states.js';
import { ssIn, type SsLine } from '../helpers/netns.js';
import { labAvailable, reap, startCli, waitForNamespace, type Background } from '../lab/helpers.js';
import { CLI } from './run-cli.js';

const enabled = labAvailable('test/cli/snapshot-lab.test.ts');
const STATES: readonly TcpState[] = ['SYN_RECEIVED', 'FIN_WAIT_1', 'CLOSING', 'LAST_ACK'];

interface Rec {
  state: TcpState;
  local: { address: string; port: number };
  remote: { address: string; port: number };
  recvQueue: number;
  sendQueue: number;
}

function ssState(s: TcpState): string {
  return STATE_INFO[s].ss;
}

function key(state: string, local: string, peer: string): string {
  return `${state} ${local} ${peer}`;
}

function tcpstate(ns: string, args: readonly string[]): string {
  const r = spawnSync(process.execPath, [CLI, ...args, '--netns', ns], { encoding: 'utf8', timeout: 20_000, env: { PATH: process.env['PATH'] ?? '', NO_COLOR: '1' } });
  if (r.status !== 0) throw new Error(`tcpstate ${args.join(' ')} failed (${r.status}): ${r.stderr}`);
  return r.stdout;
}

function fromSs(lines: readonly SsLine[]): string[] {
  return lines.map((l) => key(l.state, l.local, l.peer)).sort();
}

function fromRecords(recs: readonly Rec[]): string[] {
  return recs
    .map((r) => key(ssState(r.state), `${r.local.address}:${r.local.port === 0 ? '*' : r.local.port}`, `${r.remote.address}:${r.remote.port === 0 ? '*' : r.remote.port}`))
    .sort();
}

describe.runIf(enabled)('snapshot of lab-held states agrees with ss', () => {
  const held = new Map<TcpState, { ns: string; ss: SsLine[]; sockDiag: Rec[]; proc: Rec[]; summary: { states: Record<TcpState, number> } }>();
  const runs: Background[] = [];

  beforeAll(async () => {
    await Promise.all(
      STATES.map(async (state) => {
        const bg = startCli(['lab', state.toLowerCase().replaceAll('_', '-'), '--hold', '30']);
        runs.push(bg);
        const ns = await waitForNamespace(bg);
        // Read with our tool (both sources) between two ss readings; retry if ss changed meanwhile.
        for (let attempt = 0; attempt < 3; attempt++) {
          const before = ssIn(ns);
          const sockDiag = JSON.parse(tcpstate(ns, ['ls', '--json', '--source', 'sock-diag'])) as Rec[];
          const proc = JSON.parse(tcpstate(ns, ['ls', '--json', '--source', 'proc'])) as Rec[];
          const summary = JSON.parse(tcpstate(ns, ['summary', '--json'])) as { states: Record<TcpState, number> };
          const after = ssIn(ns);
          if (JSON.stringify(fromSs(before)) === JSON.stringify(fromSs(after)) || attempt === 2) {
            held.set(state, { ns, ss: after, sockDiag, proc, summary });
            break;
          }
        }
      }),
    );
  }, 60_000);

  afterAll(async () => {
    await reap(runs);
  }, 30_000);

  for (const state of STATES) {
    it(`${state}: ss shows it, and ls --json (sock-diag and proc) lists exactly ss's sockets`, () => {
      const h = held.get(state);
      expect(h, `the lab did not hold ${state}`).toBeDefined();
      if (h === undefined) return;
      expect(h.ss.map((l) => l.state)).toContain(ssState(state));
      expect(fromRecords(h.sockDiag)).toEqual(fromSs(h.ss));
      expect(fromRecords(h.proc)).toEqual(fromSs(h.ss));
      const mine = h.sockDiag.find((r) => r.state === state);
      const theirs = h.ss.find((l) => l.state === ssState(state));
      expect(mine?.recvQueue).toBe(theirs?.recvQ);
      if (state !== 'LISTEN') expect(mine?.sendQueue).toBe(theirs?.sendQ);
    });

    it(`${state}: summary counts agree with ss`, () => {
      const h = held.get(state);
      if (h === undefined) throw new Error(`no hold for ${state}`);
      const count = h.ss.filter((l) => l.state === ssState(state)).length;
      expect(count).toBeGreaterThan(0);
      expect(h.summary.states[state]).toBe(count);
    });
  }
});

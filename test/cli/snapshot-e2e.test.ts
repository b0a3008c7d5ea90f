/**
 * End to end (issue 3, "Done when"): in a private network namespace, real sockets in every
 * state reachable with plain sockets — LISTEN, SYN_SENT (a routed-into-lo address nobody
 * answers, and clients of a full accept queue), ESTABLISHED, FIN_WAIT_1 (a FIN stuck
 * behind data on a zero window), FIN_WAIT_2 / CLOSE_WAIT (half-close), TIME_WAIT, and an
 * overflowing accept queue on a listener that never accepts — and the built CLI must agree
 * with `ss -tanH` in that namespace: `ls --json` lists exactly ss's sockets and states for
 * both sources, `summary` and `port` count what ss counts, `ls -p` names the processes
 * `ss -p` names, `--netns all` labels the namespace.
 *
 * The CLI runs both ways: `tcpstate --netns NAME` (setns through the FFI) and
 * `ip netns exec NAME node dist/cli/main.js`.
 *
 * Needs root and iproute2: skips loudly otherwise, and fails when CI=true.
 */
import { spawnSync, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TCP_STATES, type TcpState } from '../../src/core/states.js';
import type { SocketRecord } from '../../src/records/socket.js';
import { keyOf, parseSsLine } from '../filter/records.js';
import { createNetns, deleteNetns, killAll, netnsGate, spawnInNetns, ssLinesIn, ssText, tcpExtIn, waitForReady, waitForSs } from '../helpers/netns.js';
import { CLI, runCli, type CliResult } from './run-cli.js';

const SOURCES_HELPER = fileURLToPath(new URL('../sources/helper.mjs', import.meta.url));
const EXTRA_HELPER = fileURLToPath(new URL('./snapshot-helper.mjs', import.meta.url));
const NS = `tcpstate-e2e-snap-${process.pid}`;
const gate = netnsGate('the CLI snapshot end-to-end test', {}, 'Run as root to check ls/summary/port against ss.');

/** The record as `ls --json` prints it. */
type JsonRecord = Omit<SocketRecord, 'linuxState'>;

function ss(args: readonly string[] = []): SocketRecord[] {
  return ssLinesIn(NS, args).map((l) => parseSsLine(l));
}

/** `tcpstate ARGS --netns NS` (setns through the FFI). */
function cli(args: readonly string[]): CliResult {
  return runCli([...args, '--netns', NS]);
}

/** `ip netns exec NS node dist/cli/main.js ARGS` (the namespace entered from outside). */
function cliInside(args: readonly string[]): CliResult {
  const r = spawnSync('ip', ['netns', 'exec', NS, process.execPath, CLI, ...args], {
    encoding: 'utf8',
    timeout: 30_000,
    env: { PATH: process.env['PATH'] ?? '', NO_COLOR: '1', LANG: 'C.UTF-8' },
  });
  if (r.error) throw r.error;
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

function json<T>(r: CliResult): T {
  if (r.code !== 0) throw new Error(`tcpstate exited ${r.code}: ${r.stderr}`);
  return JSON.parse(r.stdout) as T;
}

const keys = (records: readonly (JsonRecord | SocketRecord)[]): string[] => records.map((r) => keyOf(r as SocketRecord)).sort();

function countStates(records: readonly { state: TcpState }[]): Record<TcpState, number> {
  const c = Object.fromEntries(TCP_STATES.map((s) => [s, 0])) as Record<TcpState, number>;
  for (const r of records) c[r.state]++;
  return c;
}

/** Helper processes to kill in afterAll, whether or not they became ready. */
const helpers: ChildProcess[] = [];

async function startHelper(script: string, readyText: string): Promise<void> {
  const child = spawnInNetns(NS, [process.execPath, script]);
  helpers.push(child);
  await waitForReady(child, script, readyText, { timeoutMs: 20_000 });
}

describe.skipIf(gate.skip)('tcpstate ls/summary/port against ss in a private namespace', () => {
  beforeAll(async () => {
    gate.require();
    createNetns(NS, [
      ['-6', 'addr', 'add', '2001:db8::1:0:0:1/128', 'dev', 'lo', 'nodad'],
      // SYNs to 10.99.0.2 go out through lo and nobody answers them: SYN_SENT stays.
      // (A `blackhole` route would make connect() fail at once instead.)
      ['addr', 'add', '10.99.0.1/32', 'dev', 'lo'],
      ['route', 'add', '10.99.0.0/24', 'dev', 'lo', 'src', '10.99.0.1'],
    ]);
    await startHelper(SOURCES_HELPER, '"ready":true');
    await startHelper(EXTRA_HELPER, '"ready":true');
    // Bounded wait until ss shows every state in place.
    const want = ['LISTEN', 'SYN-SENT', 'ESTAB', 'FIN-WAIT-1', 'FIN-WAIT-2', 'CLOSE-WAIT', 'TIME-WAIT'];
    await waitForSs(NS, (text) => want.every((w) => text.includes(w)), 5000);
  }, 45_000);

  afterAll(async () => {
    await killAll(helpers);
    deleteNetns(NS);
  }, 20_000);

  it('the namespace holds every state reachable with plain sockets', () => {
    const all = ss();
    const states = new Set(all.map((r) => r.state));
    for (const s of ['LISTEN', 'SYN_SENT', 'ESTABLISHED', 'FIN_WAIT_1', 'FIN_WAIT_2', 'CLOSE_WAIT', 'TIME_WAIT'] as const) {
      expect(states, s).toContain(s);
    }
    // SYN_SENT towards the unanswered, routed address and towards the full accept queue
    expect(all.filter((r) => r.state === 'SYN_SENT' && r.remote.address === '10.99.0.2')).toHaveLength(2);
    expect(all.filter((r) => r.state === 'SYN_SENT' && r.remote.port === 7003).length).toBeGreaterThan(0);
    // the listener that never accepts: more in its accept queue than its backlog of 1
    const overflow = all.find((r) => r.state === 'LISTEN' && r.local.port === 7003);
    expect(overflow?.recvQueue).toBe(2);
    expect(overflow?.sendQueue).toBe(1);
  });

  describe.each(['sock-diag', 'proc'] as const)('--source %s', (source) => {
    it('ls --json --netns NAME lists exactly the sockets and states ss shows', () => {
      const ours = json<JsonRecord[]>(cli(['ls', '--json', '--source', source]));
      const theirs = ss();
      expect(keys(ours)).toEqual(keys(theirs));
      expect(ours.every((r) => r.netns === NS)).toBe(true);
      // the queues too (a listener's Send-Q is its backlog through sock_diag; /proc has 0)
      const byKey = new Map(theirs.map((r) => [keyOf(r), r]));
      for (const r of ours) {
        const s = byKey.get(keyOf(r as SocketRecord));
        expect(r.recvQueue, keyOf(r as SocketRecord)).toBe(s?.recvQueue);
        if (r.state !== 'LISTEN') expect(r.sendQueue, keyOf(r as SocketRecord)).toBe(s?.sendQueue);
        else expect(r.sendQueue, keyOf(r as SocketRecord)).toBe(source === 'proc' ? 0 : s?.sendQueue);
      }
    });

    it('ls --json run under `ip netns exec` lists the same sockets, labelled with the name', () => {
      const r = cliInside(['ls', '--json', '--source', source]);
      const ours = json<JsonRecord[]>(r);
      expect(keys(ours)).toEqual(keys(ss()));
      expect(new Set(ours.map((x) => x.netns))).toEqual(new Set([NS]));
      expect(r.stderr).toBe('');
    });

    it('summary --json counts what ss counts', () => {
      const doc = json<{ total: number; states: Record<TcpState, number>; families: Record<string, number>; source: string; netns: string[] }>(
        cli(['summary', '--json', '--source', source]),
      );
      const theirs = ss();
      expect(doc.source).toBe(source);
      expect(doc.netns).toEqual([NS]);
      expect(doc.total).toBe(theirs.length);
      expect(doc.states).toEqual(countStates(theirs));
      expect(doc.families).toEqual({
        ipv4: theirs.filter((r) => r.family === 'ipv4').length,
        ipv6: theirs.filter((r) => r.family === 'ipv6').length,
      });
    });

    it.each([7001, 7003, 7010, 7999])('port %i --json agrees with ss sport = :PORT', (port) => {
      const stats = json<{ listening: boolean; total: number; states: Record<TcpState, number>; remotes: { address: string; count: number }[] }>(
        cli(['port', String(port), '--json', '--source', source]),
      );
      const theirs = ss(['sport', '=', `:${port}`]);
      const conns = theirs.filter((r) => r.state !== 'LISTEN');
      expect(stats.listening).toBe(theirs.some((r) => r.state === 'LISTEN'));
      expect(stats.total).toBe(conns.length);
      expect(stats.states).toEqual(countStates(conns));
      const remotes = new Map<string, number>();
      for (const r of conns) remotes.set(r.remote.address, (remotes.get(r.remote.address) ?? 0) + 1);
      expect(Object.fromEntries(stats.remotes.map((x) => [x.address, x.count]))).toEqual(Object.fromEntries(remotes));
    });
  });

  it('the counters come from the namespace: its ListenOverflows count the full accept queue', () => {
    const doc = json<{ counters: { tcpExt: Record<string, number>; timeWaitBuckets: number | null } }>(cli(['summary', '--json']));
    const after = Number(tcpExtIn(NS).get('ListenOverflows'));
    expect(doc.counters.tcpExt['ListenOverflows']).toBeGreaterThan(0);
    expect(doc.counters.tcpExt['ListenOverflows']).toBeLessThanOrEqual(after); // SYN retries keep adding
    expect(doc.counters.timeWaitBuckets).toBe(ss().filter((r) => r.state === 'TIME_WAIT').length);
  });

  it('summary prints the counts per state in diagram order (human output)', () => {
    const r = cliInside([]);
    expect(r.code).toBe(0);
    const theirs = countStates(ss());
    const lines = r.stdout.split('\n');
    expect(lines[0]).toMatch(new RegExp(`^TCP sockets: ${ss().length} `));
    const shown = lines.slice(1, 12).map((l) => l.trim().split(/\s+/).slice(0, 2));
    expect(shown).toEqual(TCP_STATES.map((s) => [s, String(theirs[s])]));
  });

  it('port 7001 prints what listens and who is connected (human output)', () => {
    const r = cli(['port', '7001']);
    expect(r.code).toBe(0);
    const conns = ss(['sport', '=', ':7001']).filter((x) => x.state !== 'LISTEN');
    expect(r.stdout).toMatch(new RegExp(`^port 7001: ${conns.length} connections, listening`));
    expect(r.stdout).toContain('ESTABLISHED 1, CLOSE_WAIT 1');
    expect(r.stdout).toMatch(/127\.0\.0\.1\s+2\s+ESTABLISHED 1, CLOSE_WAIT 1/);
  });

  it('ls -p --json names the same process and fd as ss -p for every socket', () => {
    const ours = json<JsonRecord[]>(cli(['ls', '-p', '--json']));
    const lines = ssText(NS, [], '-tanHp').split('\n').filter((l) => l.trim() !== '');
    const owners = new Map<string, { pid: number; fd: number }[]>();
    for (const l of lines) {
      const users = [...l.matchAll(/pid=(\d+),fd=(\d+)/g)].map((m) => ({ pid: Number(m[1]), fd: Number(m[2]) }));
      owners.set(keyOf(parseSsLine(l.replace(/\s+users:.*$/, ''))), users);
    }
    expect(keys(ours)).toEqual([...owners.keys()].sort());
    let attributed = 0;
    for (const r of ours) {
      const k = keyOf(r as SocketRecord);
      const users = owners.get(k) ?? [];
      if (users.length === 0) {
        expect(r.process, k).toBeNull();
        continue;
      }
      expect(r.process, k).not.toBeNull();
      expect(users, k).toContainEqual({ pid: r.process?.pid, fd: r.process?.fd });
      expect(r.process?.command, k).toBe('node');
      attributed++;
    }
    expect(attributed).toBeGreaterThan(15);
    // TIME_WAIT and the orphaned FIN_WAIT_1 belong to no process
    expect(ours.filter((r) => r.state === 'TIME_WAIT' || r.state === 'FIN_WAIT_1').every((r) => r.process === null)).toBe(true);
  });

  it('ls --json --netns all labels the namespace with its name', () => {
    // Other namespaces on the host may hold many sockets: the filter keeps the output small
    // (and runs as bytecode in every namespace).
    const filter = ['(', 'sport', '>=', ':7001', 'and', 'sport', '<=', ':7010', ')', 'or', 'dst', '10.99.0.2'];
    const r = spawnSync(process.execPath, [CLI, 'ls', '--json', '--netns', 'all', ...filter], {
      encoding: 'utf8',
      timeout: 30_000,
      maxBuffer: 256 * 1024 * 1024,
      env: { PATH: process.env['PATH'] ?? '', NO_COLOR: '1' },
    });
    expect(r.status, r.stderr).toBe(0);
    const ours = JSON.parse(r.stdout) as JsonRecord[];
    expect(keys(ours.filter((x) => x.netns === NS))).toEqual(keys(ss(filter)));
    expect(ours.every((x) => typeof x.netns === 'string' && x.netns !== '')).toBe(true);
  });

  it('ls prints the table like ss -tan, one line per socket', () => {
    const r = cli(['ls']);
    expect(r.code).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^State\s+Recv-Q\s+Send-Q\s+Local Address:Port\s+Peer Address:Port$/);
    expect(lines.length - 1).toBe(ss().length);
    expect(lines.some((l) => /^LISTEN\s+2\s+1\s+127\.0\.0\.1:7003\s+0\.0\.0\.0:\*$/.test(l))).toBe(true);
    expect(lines.some((l) => /^SYN_SENT\s+0\s+1\s+10\.99\.0\.1:\d+\s+10\.99\.0\.2:443$/.test(l))).toBe(true);
  });
});

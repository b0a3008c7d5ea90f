/**
 * End to end (issue 3, "Non-root runs work for what the kernel allows and say what they
 * could not see"): the built CLI run as uid/gid 65534 (setpriv) inside a private network
 * namespace where root owns some sockets and uid 65534 others.
 *
 * - `ls`, `ls -p`, `summary`, `--source proc` work: sock_diag and /proc/net need no root;
 *   `-p` names the processes it may inspect and says, on stderr, how many processes and
 *   sockets it could not.
 * - `--netns NAME` cannot enter a namespace without CAP_SYS_ADMIN: a clear message naming
 *   the cause, and exit code 1 (a runtime failure, not a usage error).
 * - `--netns all` reads what it can: its own namespace, another namespace through the
 *   /proc/PID/net of a process of its own living there, and says which named namespaces it
 *   skipped.
 *
 * Needs root (to create the namespace and drop to 65534), iproute2 and setpriv: skips
 * loudly otherwise, and fails when CI=true.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TCP_STATES, type TcpState } from '../../src/core/states.js';
import type { SocketRecord } from '../../src/records/socket.js';
import { keyOf, parseSsLine } from '../filter/records.js';
import { createNetns, deleteNetns, killAll, netnsGate, sleep, ssLinesIn, waitForReady } from '../helpers/netns.js';
import { CLI, type CliResult } from './run-cli.js';

const NS = `tcpstate-e2e-nonroot-${process.pid}`;
/** A second namespace nobody can enter: `--netns all` must skip it and say so. */
const NS_SEALED = `tcpstate-e2e-sealed-${process.pid}`;
const NOBODY = ['--reuid=65534', '--regid=65534', '--clear-groups'];
const gate = netnsGate('the non-root CLI test', {
  rootFor: 'it creates a namespace and drops to uid 65534',
  tools: [['setpriv', '--version', 'util-linux']],
});

function spawnResult(cmd: string, args: readonly string[]): CliResult {
  const r = spawnSync(cmd, args, {
    encoding: 'utf8',
    timeout: 30_000,
    cwd: '/',
    env: { PATH: process.env['PATH'] ?? '', NO_COLOR: '1', LANG: 'C.UTF-8' },
  });
  if (r.error) throw r.error;
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** The CLI as uid 65534, inside NS (entered by root before dropping privileges). */
const asNobodyInside = (args: readonly string[]): CliResult =>
  spawnResult('ip', ['netns', 'exec', NS, 'setpriv', ...NOBODY, process.execPath, CLI, ...args]);
/** The CLI as uid 65534 in the test's own namespace. */
const asNobody = (args: readonly string[]): CliResult => spawnResult('setpriv', [...NOBODY, process.execPath, CLI, ...args]);

function ss(): SocketRecord[] {
  return ssLinesIn(NS).map((l) => parseSsLine(l));
}

const keys = (rs: readonly SocketRecord[]): string[] => rs.map(keyOf).sort();

function countStates(records: readonly { state: TcpState }[]): Record<TcpState, number> {
  const c = Object.fromEntries(TCP_STATES.map((s) => [s, 0])) as Record<TcpState, number>;
  for (const r of records) c[r.state]++;
  return c;
}

/** Root listens on 7101; uid 65534 listens on 7102 and connects to 7101 (root accepts). */
const ROOT_SIDE = `
const net = require('node:net');
const keep = [];
net.createServer((c) => keep.push(c)).listen(7101, '127.0.0.1', () => process.stdout.write('READY\\n'));
setInterval(() => {}, 60000);`;
const NOBODY_SIDE = `
const net = require('node:net');
const keep = [];
net.createServer((c) => keep.push(c)).listen(7102, '127.0.0.1', () => {
  const c = net.connect(7101, '127.0.0.1', () => process.stdout.write('READY ' + process.pid + '\\n'));
  keep.push(c);
});
setInterval(() => {}, 60000);`;
/** A process of uid 65534 in a network namespace of its own (an unprivileged user namespace). */
const UNSHARED = `ip link set lo up && exec ${process.execPath} -e "require('node:net').createServer().listen(7777, '127.0.0.1', () => console.log('READY ' + process.pid)); setInterval(() => {}, 60000)"`;

describe.skipIf(gate.skip)('tcpstate as uid 65534', () => {
  const children: ChildProcess[] = [];
  let nobodyPid = 0;
  let unsharedPid: number | null = null;

  /** Starts `cmd ARGS` and waits for its READY line; an optional one that fails gives null. */
  async function start(cmd: string, args: readonly string[], optional = false): Promise<string | null> {
    const child = spawn(cmd, args, { detached: true, stdio: ['ignore', 'pipe', 'pipe'], cwd: '/' });
    children.push(child);
    try {
      return (await waitForReady(child, `${cmd} ${args.join(' ')}`, /READY[^\n]*\n/, { timeoutMs: 10_000 })).trim();
    } catch (e) {
      if (optional) return null;
      throw e;
    }
  }

  beforeAll(async () => {
    gate.require();
    createNetns(NS);
    createNetns(NS_SEALED, [], { lo: false });
    await start('ip', ['netns', 'exec', NS, process.execPath, '-e', ROOT_SIDE]);
    const ready = await start('ip', ['netns', 'exec', NS, 'setpriv', ...NOBODY, process.execPath, '-e', NOBODY_SIDE]);
    nobodyPid = Number(ready?.split(' ')[1]);
    // Optional: needs unprivileged user namespaces (kernel.unprivileged_userns_clone etc.).
    const unshared = await start('ip', ['netns', 'exec', NS, 'setpriv', ...NOBODY, 'unshare', '-rn', 'sh', '-c', UNSHARED], true);
    unsharedPid = unshared === null ? null : Number(unshared.split(' ')[1]);
    const deadline = Date.now() + 5000;
    while (ss().filter((r) => r.state === 'ESTABLISHED').length < 2) {
      if (Date.now() > deadline) throw new Error('the connection to 7101 did not establish within 5 s');
      await sleep(50);
    }
  }, 40_000);

  afterAll(async () => {
    await killAll(children);
    deleteNetns(NS, NS_SEALED);
  }, 20_000);

  it('ls -p works, names the processes it may inspect, and says what it could not see', () => {
    const r = asNobodyInside(['ls', '-p', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const ours = JSON.parse(r.stdout) as SocketRecord[];
    expect(keys(ours)).toEqual(keys(ss()));
    // uid 65534's own sockets: its listener and its client end
    const mine = ours.filter((x) => x.process !== null);
    expect(mine.map((x) => `${x.state} ${x.local.port}`).sort()).toEqual(['ESTABLISHED ' + String(mine.find((x) => x.state === 'ESTABLISHED')?.local.port), 'LISTEN 7102'].sort());
    expect(mine.every((x) => x.process?.pid === nobodyPid && x.process.command === 'node')).toBe(true);
    // root's listener and the socket it accepted stay unattributed, and we are told
    expect(ours.filter((x) => x.local.port === 7101).every((x) => x.process === null)).toBe(true);
    expect(r.stderr).toMatch(/^tcpstate: note: \d+ processes could not be inspected \(other users' processes need root\)$/m);
    expect(r.stderr).toMatch(/^tcpstate: note: 2 sockets could not be attributed to a process \(run as root to see all owners\)$/m);
  });

  it('ls -p prints the table with the process it could see', () => {
    const r = asNobodyInside(['ls', '-p']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^LISTEN\\s+0\\s+\\d+\\s+127\\.0\\.0\\.1:7102\\s+0\\.0\\.0\\.0:\\*\\s+node,pid=${nobodyPid},fd=\\d+$`, 'm'));
    expect(r.stdout).toMatch(/^LISTEN\s+0\s+\d+\s+127\.0\.0\.1:7101\s+0\.0\.0\.0:\*$/m);
    expect(r.stderr).toContain('could not be inspected');
  });

  it.each(['sock-diag', 'proc'])('summary --json --source %s counts every socket', (source) => {
    const r = asNobodyInside(['summary', '--json', '--source', source]);
    expect(r.code, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout) as { total: number; states: Record<TcpState, number> };
    const theirs = ss();
    expect(doc.total).toBe(theirs.length);
    expect(doc.states).toEqual(countStates(theirs));
  });

  it('summary (human output) works', () => {
    const r = asNobodyInside([]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^TCP sockets: 4 /);
    expect(r.stdout).toMatch(/^ {2}LISTEN\s+2\b/m);
  });

  it.each([
    ['ls', ['ls', '--netns', NS]],
    ['summary', ['summary', '--netns', NS]],
    ['port', ['port', '7101', '--netns', NS]],
    ['ls --source proc', ['ls', '--source', 'proc', '--netns', NS]],
  ] as const)('%s --netns NAME without root fails with a clear message and exit code 1', (_name, args) => {
    const r = asNobody(args);
    expect(r.stdout).toBe('');
    expect(r.stderr.trim()).toBe(
      `tcpstate: cannot enter network namespace /run/netns/${NS}: EPERM (entering a namespace needs root: CAP_SYS_ADMIN)`,
    );
    expect(r.code).toBe(1);
  });

  it('--netns with an unknown name is a usage error (exit 2)', () => {
    const r = asNobody(['ls', '--netns', `${NS}-nosuch`]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('no such named namespace');
  });

  it('--netns all reads what it may and says which namespaces it skipped', () => {
    const r = asNobodyInside(['ls', '--json', '--netns', 'all']);
    expect(r.code, r.stderr).toBe(0);
    const ours = JSON.parse(r.stdout) as SocketRecord[];
    expect(keys(ours.filter((x) => x.netns === NS))).toEqual(keys(ss()));
    expect(r.stderr).toContain(`tcpstate: note: namespace ${NS_SEALED}: cannot enter network namespace /run/netns/${NS_SEALED}: EPERM`);
    expect(r.stderr).toMatch(new RegExp(`namespace ${NS_SEALED}: .*; skipped$`, 'm'));
    if (unsharedPid === null) {
      console.warn('non-root CLI test: unprivileged user namespaces unavailable, --netns all through /proc/PID/net not checked');
      return;
    }
    // uid 65534's own namespace cannot be entered either, but its /proc/PID/net is readable
    const label = `pid:${unsharedPid}`;
    expect(r.stderr).toContain(`namespace ${label}: cannot enter network namespace /proc/${unsharedPid}/ns/net: EPERM`);
    expect(ours.filter((x) => x.netns === label).map((x) => `${x.state} ${x.local.address}:${x.local.port}`)).toEqual(['LISTEN 127.0.0.1:7777']);
  });
});

/**
 * End to end (issue 5, "Done when"): the built `tcpstate trace` against real connections
 * in a private network namespace, opened and closed in known ways (normal close from each
 * side, refused connect, abort with SO_LINGER 0, shutdown then close in FIN_WAIT_2, and the
 * lab's simultaneous close for CLOSING). Asserts exact transition sequences and counts,
 * TIME_WAIT / FIN_WAIT_2 reporting against `ss` in the namespace, and that the trace
 * instance is gone afterwards, also after SIGKILL of a tracer and the next start.
 *
 * Tracepoints are global (every namespace): the test uses its own address 127.0.0.77 and
 * ports 47101..47105 and ignores everything else. Needs root: skips loudly otherwise and
 * fails when CI=true.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI } from '../cli/run-cli.js';
import { createNetns, deleteNetns, killAll, netnsGate, sleep, ssIn, ssText } from '../helpers/netns.js';
import { startCli, waitForNamespace } from '../lab/helpers.js';

const HELPER = fileURLToPath(new URL('./trace-helper.mjs', import.meta.url));
const NS = `tcpstate-trace-e2e-${process.pid}`;
const TRACING = '/sys/kernel/tracing';
const ADDR = '127.0.0.77';
const N = 3;

const gate = netnsGate(
  'the tcpstate trace end-to-end test',
  { rootFor: 'tracefs and ip netns need it', iproute2: ['ip'] },
  'Run as root to check traced transitions against ss.',
);

interface Rec {
  time: string;
  family: string;
  local: { address: string; port: number };
  remote: { address: string; port: number };
  from: string | null;
  to: string | null;
  inStateMs: number | null;
  event: string;
}

const ENV = { PATH: process.env['PATH'] ?? '', NO_COLOR: '1', LANG: 'C.UTF-8' };
const children: ChildProcess[] = [];

interface Tracer {
  child: ChildProcess;
  out: string;
  err: string;
  done: Promise<number | string>;
}

function startTracer(args: readonly string[]): Tracer {
  const child = spawn(process.execPath, [CLI, 'trace', ...args], { env: ENV, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  const t: Tracer = {
    child,
    out: '',
    err: '',
    done: new Promise((resolve) => child.on('exit', (code, sig) => resolve(code ?? sig ?? -1))),
  };
  child.stdout?.on('data', (d: Buffer) => (t.out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (t.err += d.toString()));
  return t;
}

const instanceOf = (pid: number | undefined): string => `${TRACING}/instances/tcpstate-${pid ?? 0}`;

async function waitTracing(t: Tracer): Promise<void> {
  // A new instance starts with tracing_on = 1; the tracer turns it off, enables the events,
  // then on again: both together mean it is really tracing.
  const on = `${instanceOf(t.child.pid)}/tracing_on`;
  const enable = `${instanceOf(t.child.pid)}/events/sock/inet_sock_set_state/enable`;
  const is1 = (f: string): boolean => existsSync(f) && readFileSync(f, 'utf8').trim() === '1';
  for (let i = 0; i < 400; i++) {
    if (is1(enable) && is1(on)) return;
    if (t.child.exitCode !== null) throw new Error(`tracer exited ${t.child.exitCode}: ${t.err}`);
    await sleep(25);
  }
  throw new Error(`tracer did not start within 10 s: ${t.err}`);
}

async function stop(t: Tracer, signal: NodeJS.Signals = 'SIGINT'): Promise<number | string> {
  t.child.kill(signal);
  const killer = setTimeout(() => t.child.kill('SIGKILL'), 15_000);
  const code = await t.done;
  clearTimeout(killer);
  return code;
}

function records(t: Tracer): Rec[] {
  return t.out
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as Rec);
}

/** `ss -tanH` in NS: [state, local, remote]. */
function ss(): [string, string, string][] {
  return ssIn(NS).map((l) => [l.state, l.local, l.peer]);
}

const sig = (r: Rec): string =>
  r.event === 'transition' ? `${r.from}>${r.to}` : `${r.event}:${r.from ?? '-'}`;
const ep = (a: { address: string; port: number }): string => `${a.address}:${a.port}`;

describe.skipIf(gate.skip)('tcpstate trace in a private namespace', () => {
  beforeAll(() => {
    gate.require();
    createNetns(NS);
  });
  afterAll(async () => {
    await killAll(children);
    deleteNetns(NS);
  }, 20_000);

  it('reports exact sequences for each way of closing, TIME_WAIT / FIN_WAIT_2 as ss shows them', async () => {
    const tracer = startTracer(['--ndjson', '( sport >= :47101 and sport <= :47105 ) or ( dport >= :47101 and dport <= :47105 )']);
    await waitTracing(tracer);
    const helper = spawn('ip', ['netns', 'exec', NS, process.execPath, HELPER, String(N)], { stdio: ['pipe', 'pipe', 'pipe'] });
    children.push(helper);
    let hout = '';
    helper.stdout.on('data', (d: Buffer) => (hout += d.toString()));
    helper.stderr.on('data', (d: Buffer) => (hout += d.toString()));
    for (let i = 0; i < 600 && !hout.includes('ready'); i++) await sleep(25);
    expect(hout).toContain('ready');
    await sleep(300);
    const table = ss();
    helper.stdin.write('go\n');
    await new Promise((r) => helper.on('exit', r));
    await sleep(300);
    expect(await stop(tracer)).toBe(0);
    expect(existsSync(instanceOf(tracer.child.pid))).toBe(false);

    const all = records(tracer).filter((r) => r.local.address === ADDR || r.remote.address === ADDR);
    expect(records(tracer).length).toBeGreaterThan(0);
    for (const r of all) expect(Object.keys(r).sort()).toEqual(['event', 'family', 'from', 'inStateMs', 'local', 'remote', 'time', 'to']);

    const conns = (p: number, side: 'server' | 'client'): Map<string, string[]> => {
      const m = new Map<string, string[]>();
      for (const r of all) {
        if (!(side === 'server' ? r.local.port === p && r.remote.port !== 0 : r.remote.port === p && r.local.port !== 0)) continue;
        const k = `${ep(r.local)} ${ep(r.remote)}`;
        m.set(k, [...(m.get(k) ?? []), sig(r)]);
      }
      return m;
    };
    const connectEvents = (p: number): number => all.filter((r) => r.remote.port === p && r.local.port === 0 && sig(r) === 'CLOSED>SYN_SENT').length;

    // A: the client closes first → client TIME_WAIT (inferred), server passive close.
    expect(connectEvents(47101)).toBe(N);
    const aClient = conns(47101, 'client');
    expect(aClient.size).toBe(N);
    for (const s of aClient.values()) expect(s).toEqual(['SYN_SENT>ESTABLISHED', 'ESTABLISHED>FIN_WAIT_1', 'FIN_WAIT_1>FIN_WAIT_2', 'FIN_WAIT_2>TIME_WAIT']);
    const aServer = conns(47101, 'server');
    expect(aServer.size).toBe(N);
    for (const s of aServer.values()) expect(s).toEqual(['LISTEN>SYN_RECEIVED', 'SYN_RECEIVED>ESTABLISHED', 'ESTABLISHED>CLOSE_WAIT', 'CLOSE_WAIT>LAST_ACK', 'LAST_ACK>CLOSED']);
    // ss agrees: exactly those client 4-tuples are in TIME-WAIT.
    const tw = table.filter(([st]) => st === 'TIME-WAIT').map(([, l, r]) => `${l} ${r}`);
    for (const k of aClient.keys()) expect(tw).toContain(k);

    // B: the server closes first → server TIME_WAIT.
    const bServer = conns(47102, 'server');
    expect(bServer.size).toBe(N);
    for (const s of bServer.values()) expect(s).toEqual(['LISTEN>SYN_RECEIVED', 'SYN_RECEIVED>ESTABLISHED', 'ESTABLISHED>FIN_WAIT_1', 'FIN_WAIT_1>FIN_WAIT_2', 'FIN_WAIT_2>TIME_WAIT']);
    for (const s of conns(47102, 'client').values()) expect(s).toEqual(['SYN_SENT>ESTABLISHED', 'ESTABLISHED>CLOSE_WAIT', 'CLOSE_WAIT>LAST_ACK', 'LAST_ACK>CLOSED']);
    for (const k of bServer.keys()) expect(tw).toContain(k);
    expect(tw.filter((k) => k.includes(':4710')).length, JSON.stringify(table)).toBe(2 * N);

    // C: refused connects: the RST answering the SYN (no socket), received by the client.
    const cClient = conns(47103, 'client');
    expect(connectEvents(47103)).toBe(N);
    expect(cClient.size).toBe(N);
    for (const s of cClient.values()) expect(s).toEqual(['rst-received:SYN_SENT', 'SYN_SENT>CLOSED']);
    const cServer = conns(47103, 'server');
    expect(cServer.size).toBe(N);
    for (const s of cServer.values()) expect(s).toEqual(['rst-sent:-']);

    // D: SO_LINGER 0 abort: ESTABLISHED → CLOSED with a RST each way.
    const dClient = conns(47104, 'client');
    expect(dClient.size).toBe(N);
    for (const s of dClient.values()) expect(s).toEqual(['SYN_SENT>ESTABLISHED', 'ESTABLISHED>CLOSED', 'rst-sent:ESTABLISHED']);
    for (const s of conns(47104, 'server').values()) expect(s).toEqual(['LISTEN>SYN_RECEIVED', 'SYN_RECEIVED>ESTABLISHED', 'rst-received:ESTABLISHED', 'ESTABLISHED>CLOSED']);

    // E: shutdown then close in FIN_WAIT_2 → a FIN_WAIT_2 mini-socket, as ss shows.
    const eClient = conns(47105, 'client');
    expect(eClient.size).toBe(N);
    for (const s of eClient.values()) expect(s).toEqual(['SYN_SENT>ESTABLISHED', 'ESTABLISHED>FIN_WAIT_1', 'FIN_WAIT_1>FIN_WAIT_2', 'FIN_WAIT_2>FIN_WAIT_2', 'FIN_WAIT_2>FIN_WAIT_2']);
    const fw2 = table.filter(([st]) => st === 'FIN-WAIT-2').map(([, l, r]) => `${l} ${r}`);
    expect(fw2.sort()).toEqual([...eClient.keys()].sort());

    // Connect latency is measured across the port-0 CLOSED → SYN_SENT event.
    for (const r of all) if (r.from === 'SYN_SENT' && r.local.port !== 0) expect(r.inStateMs).not.toBeNull();
  }, 90_000);

  it('shows CLOSING from the lab\'s simultaneous close', async () => {
    const tracer = startTracer(['--ndjson', 'dport = :9000']);
    await waitTracing(tracer);
    const lab = startCli(['lab', 'closing', '--hold', '1']);
    children.push(lab.child);
    const ns = await waitForNamespace(lab, 30_000);
    const rows = ssText(ns, ['state', 'closing']).trim().split(/\s+/);
    const local = rows[2] ?? '';
    expect(local).toMatch(/:\d+$/);
    await lab.done;
    await sleep(200);
    expect(await stop(tracer, 'SIGTERM')).toBe(0);
    const port = Number(local.slice(local.lastIndexOf(':') + 1));
    const mine = records(tracer).filter((r) => r.local.port === port && r.remote.port === 9000 && r.event === 'transition').map(sig);
    expect(mine.slice(0, 3)).toEqual(['SYN_SENT>ESTABLISHED', 'ESTABLISHED>FIN_WAIT_1', 'FIN_WAIT_1>CLOSING']);
    expect(mine.filter((s) => s === 'FIN_WAIT_1>CLOSING')).toHaveLength(1);
  }, 90_000);

  it('removes a SIGKILLed tracer\'s instance on the next start, and its own on exit', async () => {
    const a = startTracer(['--ndjson']);
    await waitTracing(a);
    a.child.kill('SIGKILL');
    await a.done;
    expect(existsSync(instanceOf(a.child.pid))).toBe(true);
    const b = startTracer(['--duration', '0.5', 'dport = :1']);
    expect(await b.done).toBe(0);
    expect(b.err).toContain(`removed stale trace instance tcpstate-${a.child.pid}`);
    expect(existsSync(instanceOf(a.child.pid))).toBe(false);
    expect(existsSync(instanceOf(b.child.pid))).toBe(false);
  }, 60_000);

  it('without root: a clear message and exit code 4, nothing created', () => {
    const r = spawnSync(process.execPath, [CLI, 'trace', '--duration', '1'], { encoding: 'utf8', env: ENV, uid: 65534, gid: 65534, timeout: 20_000 });
    expect(r.status).toBe(4);
    expect(r.stderr).toMatch(/needs root/);
  });
});

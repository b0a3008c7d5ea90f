/**
 * Problem scenarios for `doctor` and for learning: the production troubles of the seeds'
 * war stories, produced live in a lab namespace and held until `--hold` ends or a signal.
 *
 *   close-wait-leak        a server that never closes: CLOSE_WAIT grows
 *   time-wait-pileup       a server that closes first at a steady rate: TIME_WAIT grows
 *   fin-wait-1-stuck       a peer that stops reading (zero window): FIN_WAIT_1 with data queued
 *   syn-flood              half-open handshakes from many source addresses: SYN_RECV, cookies
 *   accept-queue-overflow  a listener that never accepts: ListenOverflows grows
 *   last-ack-stuck         a peer that never acknowledges the server's FIN: LAST_ACK grows
 *
 * Bounds: each scenario opens at most MAX_CONNS connections, so a long hold does not
 * exhaust anything; the kernel's own timers (orphan retries, TIME_WAIT's 60 s) still run.
 */
import { STATE_INFO, TCP_STATES, type TcpState } from '../core/states.js';
import type { KernelSocket } from './kernel.js';
import { withholdAckOfKernelFin, withholdPureAcks, type PeerConn } from './peer.js';
import { interrupted, KERNEL_ADDR, LabSession, PEER_ADDR, peerAddress } from './session.js';
import { KERNEL_PORT } from './states.js';

export const PROBLEM_NAMES = [
  'close-wait-leak',
  'time-wait-pileup',
  'fin-wait-1-stuck',
  'syn-flood',
  'accept-queue-overflow',
  'last-ack-stuck',
] as const;
export type ProblemName = (typeof PROBLEM_NAMES)[number];

export function isProblemName(v: string): v is ProblemName {
  return (PROBLEM_NAMES as readonly string[]).includes(v);
}

const MAX_CONNS = 200;
/** The condition needs a moment to form even with a short --hold. */
const MIN_RUN_MS = 1500;
const TICK_MS = 50;
const COUNTERS = [
  'TcpExtListenOverflows',
  'TcpExtListenDrops',
  'TcpExtSyncookiesSent',
  'TcpExtTCPReqQFullDoCookies',
  'TcpExtTCPReqQFullDrop',
  'TcpActiveOpens',
  'TcpPassiveOpens',
] as const;

export interface ProblemSample {
  readonly at: number;
  /** Sockets per state in the namespace (ids; request sockets count as SYN_RECEIVED). */
  readonly states: Partial<Record<TcpState, number>>;
  readonly counters: Record<string, number>;
  /** Distinct peer addresses among SYN_RECEIVED sockets (syn-flood). */
  readonly synRecvSources: number;
  /** Largest Recv-Q of the listener (its accept queue). */
  readonly acceptQueue: number;
}

export interface ProblemResult {
  readonly problem: ProblemName;
  readonly namespace: string;
  readonly produced: boolean;
  readonly condition: string;
  readonly summary: string;
  readonly first: ProblemSample;
  readonly last: ProblemSample;
  readonly connections: number;
  readonly ms: number;
}

interface Ctx {
  readonly lab: LabSession;
  listener: KernelSocket | null;
  readonly accepted: KernelSocket[];
  readonly conns: PeerConn[];
  nextPort: number;
  lastOpen: number;
}

interface ProblemDef {
  readonly condition: string;
  readonly everyMs: number;
  readonly backlog: number;
  /** Opens one more connection (or handshake). */
  readonly open: (ctx: Ctx) => void;
  /** Called every tick: the applications' behaviour. */
  readonly tick: (ctx: Ctx) => void;
  readonly produced: (first: ProblemSample, last: ProblemSample) => boolean;
}

function acceptAll(ctx: Ctx, then?: (s: KernelSocket) => void): void {
  if (ctx.listener === null) return;
  for (let i = 0; i < 64; i++) {
    const s = ctx.listener.accept('kernel');
    if (s === null) return;
    ctx.accepted.push(s);
    then?.(s);
  }
}

function connectPeer(ctx: Ctx, options: Parameters<LabSession['driver']['connect']>[4] = {}): PeerConn {
  const c = ctx.lab.driver.connect(PEER_ADDR, ctx.nextPort++, KERNEL_ADDR, KERNEL_PORT, options);
  ctx.conns.push(c);
  return c;
}

const count = (s: ProblemSample, st: TcpState): number => s.states[st] ?? 0;
const delta = (a: ProblemSample, b: ProblemSample, k: string): number => (b.counters[k] ?? 0) - (a.counters[k] ?? 0);

const PROBLEMS: { readonly [P in ProblemName]: ProblemDef } = {
  'close-wait-leak': {
    condition: 'CLOSE_WAIT sockets grow: the peers closed, the server application never calls close()',
    everyMs: 200,
    backlog: 128,
    open: (ctx) => connectPeer(ctx),
    tick: (ctx) => {
      acceptAll(ctx); // accepted and then forgotten: the leak
      for (const c of ctx.conns) {
        if (c.state === 'ESTABLISHED') ctx.lab.driver.call(c, 'close()', () => c.endpoint.close(ctx.lab.now()));
      }
    },
    produced: (a, b) => count(b, 'CLOSE_WAIT') >= 3 && count(b, 'CLOSE_WAIT') > count(a, 'CLOSE_WAIT'),
  },
  'time-wait-pileup': {
    condition: 'TIME_WAIT sockets pile up on the server: it closes first, at a steady rate',
    everyMs: 100,
    backlog: 128,
    open: (ctx) => connectPeer(ctx),
    tick: (ctx) => {
      acceptAll(ctx, (s) => {
        s.send(new TextEncoder().encode('bye\n'));
        s.close();
      });
      for (const c of ctx.conns) {
        if (c.state === 'CLOSE_WAIT') ctx.lab.driver.call(c, 'close()', () => c.endpoint.close(ctx.lab.now()));
      }
    },
    produced: (a, b) => count(b, 'TIME_WAIT') >= 5 && count(b, 'TIME_WAIT') > count(a, 'TIME_WAIT'),
  },
  'fin-wait-1-stuck': {
    condition: 'FIN_WAIT_1 sockets with data queued: the peer stopped reading, its window is zero, the FIN waits behind the data',
    everyMs: 300,
    backlog: 128,
    open: (ctx) => connectPeer(ctx, { reading: false, rcvBuffer: 4096 }),
    tick: (ctx) => {
      acceptAll(ctx, (s) => {
        s.send(new Uint8Array(32 * 1024));
        s.close();
      });
    },
    produced: (_a, b) => count(b, 'FIN_WAIT_1') >= 2,
  },
  'syn-flood': {
    condition: 'half-open handshakes from many source addresses: SYN_RECV request sockets, then SYN cookies',
    everyMs: 20,
    backlog: 64,
    open: (ctx) => {
      const n = ctx.conns.length;
      const c = ctx.lab.driver.connect(peerAddress(2 + (n % 250)), 20000 + n, KERNEL_ADDR, KERNEL_PORT, {
        withhold: withholdPureAcks,
      });
      ctx.conns.push(c);
    },
    tick: () => undefined,
    produced: (_a, b) => count(b, 'SYN_RECEIVED') >= 10 && b.synRecvSources >= 5,
  },
  'accept-queue-overflow': {
    condition: 'the listener never accepts: its accept queue (Recv-Q) is full and ListenOverflows grows',
    everyMs: 150,
    backlog: 2,
    open: (ctx) => connectPeer(ctx),
    tick: () => undefined,
    produced: (a, b) => delta(a, b, 'TcpExtListenOverflows') > 0 && b.acceptQueue >= 3,
  },
  'last-ack-stuck': {
    condition: "LAST_ACK sockets pile up: the server closed after the peer's FIN, the peer never acknowledges",
    everyMs: 250,
    backlog: 128,
    open: (ctx) => connectPeer(ctx, { withhold: withholdAckOfKernelFin }),
    tick: (ctx) => {
      acceptAll(ctx);
      for (const c of ctx.conns) {
        if (c.state === 'ESTABLISHED') ctx.lab.driver.call(c, 'close()', () => c.endpoint.close(ctx.lab.now()));
      }
      // The server application reads end of stream and closes, as it should.
      for (const s of ctx.accepted) {
        if (s.fd >= 0 && s.readable(0)) {
          const data = s.recv(4096);
          if (data !== null && data.length === 0) s.close();
        }
      }
    },
    produced: (_a, b) => count(b, 'LAST_ACK') >= 3,
  },
};

function sample(lab: LabSession): ProblemSample {
  const states: Partial<Record<TcpState, number>> = {};
  const sources = new Set<string>();
  let acceptQueue = 0;
  for (const r of lab.snapshot()) {
    states[r.state] = (states[r.state] ?? 0) + 1;
    if (r.state === 'SYN_RECEIVED') sources.add(r.remote.address);
    if (r.state === 'LISTEN' && r.local.port === KERNEL_PORT) acceptQueue = Math.max(acceptQueue, r.recvQueue);
  }
  const all = lab.counters();
  const counters: Record<string, number> = {};
  for (const k of COUNTERS) counters[k] = all.get(k) ?? 0;
  return { at: lab.now(), states, counters, synRecvSources: sources.size, acceptQueue };
}

function statusLine(s: ProblemSample, first: ProblemSample): string {
  const parts: string[] = [`${(s.at / 1000).toFixed(1).padStart(6)} s`];
  for (const st of TCP_STATES) {
    const n = s.states[st];
    if (n !== undefined && n > 0) parts.push(`${STATE_INFO[st].ss} ${n}`);
  }
  for (const k of COUNTERS) {
    const d = (s.counters[k] ?? 0) - (first.counters[k] ?? 0);
    if (d > 0 && !k.endsWith('Opens')) parts.push(`${k.replace(/^TcpExt/, '')} +${d}`);
  }
  if (s.acceptQueue > 0) parts.push(`accept queue ${s.acceptQueue}`);
  return parts.join('  ');
}

export interface RunProblemOptions {
  /** Seconds to hold (Infinity: until SIGINT/SIGTERM). */
  readonly holdSeconds: number;
  readonly onReady?: (namespace: string) => void;
  readonly onStatus?: ((line: string) => void) | undefined;
}

export async function runProblem(name: ProblemName, options: RunProblemOptions): Promise<ProblemResult> {
  const def = PROBLEMS[name];
  const started = performance.now();
  const lab = LabSession.open({ tun: true });
  try {
    lab.driver.recording = false;
    const ctx: Ctx = { lab, listener: null, accepted: [], conns: [], nextPort: 30000, lastOpen: -Infinity };
    const l = lab.socket('kernel');
    l.reuseAddr();
    l.bind(KERNEL_ADDR, KERNEL_PORT);
    l.listen(def.backlog);
    ctx.listener = l;
    const first = sample(lab);
    options.onReady?.(lab.ns.name);
    const runMs = Math.max(options.holdSeconds * 1000, MIN_RUN_MS);
    const t0 = performance.now();
    let lastStatus = t0;
    let lastTick = 0;
    while (interrupted() === null && performance.now() - t0 < runMs) {
      const now = performance.now();
      if (now - ctx.lastOpen >= def.everyMs && ctx.conns.length < MAX_CONNS) {
        ctx.lastOpen = now;
        def.open(ctx);
      }
      if (now - lastTick >= TICK_MS) {
        lastTick = now;
        def.tick(ctx);
      }
      lab.driver.pump(10);
      if (options.onStatus !== undefined && performance.now() - lastStatus >= 1000) {
        lastStatus = performance.now();
        options.onStatus(statusLine(sample(lab), first));
      }
      await new Promise<void>((r) => setImmediate(r));
    }
    lab.driver.pump(20);
    const last = sample(lab);
    const produced = def.produced(first, last);
    return {
      problem: name,
      namespace: lab.ns.name,
      produced,
      condition: def.condition,
      summary: `${produced ? 'produced' : 'NOT produced'}: ${def.condition}\nlast: ${statusLine(last, first)}`,
      first,
      last,
      connections: ctx.conns.length,
      ms: Math.round(performance.now() - started),
    };
  } finally {
    lab.close();
  }
}

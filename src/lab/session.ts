/**
 * One lab run: a fresh namespace (stale ones of dead labs removed first), the main
 * thread inside it, optionally the TUN with its addresses and route and the peer driver
 * on it, the kernel sockets, and the cleanup that undoes all of it on success, error,
 * SIGINT, SIGTERM and exit.
 *
 * Topology (inside the namespace):
 *
 *   kernel sockets ── 10.200.0.1/24 on tun0 ── route 10.201.0.0/24 dev tun0 ── [TUN fd] ── peer endpoints
 */
import { readFileSync } from 'node:fs';
import { collectSnapshot } from '../live/snapshot.js';
import type { SocketRecord } from '../records/socket.js';
import { parseIpv4 } from '../wire/ipv4.js';
import { closeAllKernelSockets, KernelSocket, type CallRecord } from './kernel.js';
import { LabNamespace, removeAllOwnNamespaces, removeStaleNamespaces } from './namespace.js';
import { PeerDriver } from './peer.js';
import { Tun } from './tun.js';

export const KERNEL_ADDR = parseIpv4('10.200.0.1') as number;
export const PEER_PREFIX = '10.201.0.0/24';
const PEER_NET = parseIpv4('10.201.0.0') as number;
export const PEER_ADDR = (PEER_NET + 2) >>> 0;

export function isPeerAddress(addr: number): boolean {
  return (addr & 0xffffff00) >>> 0 === PEER_NET;
}

/** The n-th address of the peer prefix (1..254). */
export function peerAddress(n: number): number {
  return (PEER_NET + n) >>> 0;
}

// ---------------------------------------------------------------------------
// Signals: a flag the long waits look at; the exit handler removes what is left.
// ---------------------------------------------------------------------------

let interruptedBy: NodeJS.Signals | null = null;
let handlersInstalled = false;
const sessions = new Set<LabSession>();

export function interrupted(): NodeJS.Signals | null {
  return interruptedBy;
}

function installHandlers(): void {
  if (handlersInstalled) return;
  handlersInstalled = true;
  const onSignal = (sig: NodeJS.Signals): void => {
    if (interruptedBy !== null) {
      // Second signal: stop waiting for the graceful path.
      for (const s of sessions) s.close();
      removeAllOwnNamespaces();
      process.exit(sig === 'SIGINT' ? 130 : 143);
    }
    interruptedBy = sig;
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  process.on('SIGHUP', onSignal);
  process.on('exit', () => {
    for (const s of sessions) s.close();
    closeAllKernelSockets();
    removeAllOwnNamespaces();
  });
}

export interface SessionOptions {
  /** Create the TUN and the peer (false for the loopback-only walkthrough). */
  readonly tun: boolean;
}

export class LabSession {
  readonly ns: LabNamespace;
  readonly tun: Tun | null;
  readonly peer: PeerDriver | null;
  readonly calls: CallRecord[] = [];
  readonly removedStale: readonly string[];
  private readonly started = performance.now();
  private closed = false;

  private constructor(ns: LabNamespace, tun: Tun | null, removedStale: readonly string[]) {
    this.ns = ns;
    this.tun = tun;
    this.removedStale = removedStale;
    this.peer = tun === null ? null : new PeerDriver(tun, isPeerAddress, () => this.now());
  }

  static open(options: SessionOptions): LabSession {
    installHandlers();
    const removedStale = removeStaleNamespaces();
    const ns = LabNamespace.create();
    let tun: Tun | null = null;
    try {
      ns.enter();
      if (options.tun) {
        tun = Tun.open('tun0');
        ns.ip([
          `addr add 10.200.0.1/24 dev ${tun.name}`,
          `link set ${tun.name} up`,
          `route add ${PEER_PREFIX} dev ${tun.name}`,
        ]);
      }
    } catch (e) {
      tun?.close();
      ns.remove();
      throw e;
    }
    const s = new LabSession(ns, tun, removedStale);
    sessions.add(s);
    return s;
  }

  now(): number {
    return Math.round((performance.now() - this.started) * 10) / 10;
  }

  /** The peer driver (throws for a session without TUN). */
  get driver(): PeerDriver {
    if (this.peer === null) throw new Error('internal: this lab session has no TUN peer');
    return this.peer;
  }

  socket(who: string): KernelSocket {
    return KernelSocket.create(who, (c) => this.calls.push(c), () => this.now());
  }

  /** The kernel's table in the lab namespace, read by the snapshot (sock_diag). */
  snapshot(): SocketRecord[] {
    return collectSnapshot({ netns: this.ns.name, families: ['ipv4'] }).records;
  }

  /** Counters of the namespace (/proc/net/netstat, /proc/net/snmp): name → value. */
  counters(): Map<string, number> {
    return readCounters();
  }

  /** Keeps the peer answering for `ms` (Infinity: until a signal); resolves early on SIGINT/SIGTERM. */
  async hold(ms: number, every?: (elapsed: number) => void, everyMs = 1000): Promise<void> {
    const start = performance.now();
    let lastTick = start;
    while (interruptedBy === null) {
      const elapsed = performance.now() - start;
      if (elapsed >= ms) break;
      if (this.peer !== null) this.peer.pump(Math.min(20, ms - elapsed));
      else await sleep(Math.min(50, ms - elapsed));
      if (every !== undefined && performance.now() - lastTick >= everyMs) {
        lastTick = performance.now();
        every(lastTick - start);
      }
      await new Promise<void>((r) => setImmediate(r));
    }
  }

  /** Closes sockets and the TUN, leaves and deletes the namespace. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    sessions.delete(this);
    closeAllKernelSockets();
    this.tun?.close();
    this.ns.remove();
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, Math.max(0, ms)));
}

/** TcpExt and Tcp counters of the calling thread's namespace. */
function readCounters(): Map<string, number> {
  const out = new Map<string, number>();
  for (const file of ['/proc/thread-self/net/netstat', '/proc/thread-self/net/snmp']) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    const lines = text.split('\n');
    for (let i = 0; i + 1 < lines.length; i += 2) {
      const head = (lines[i] ?? '').split(/\s+/);
      const vals = (lines[i + 1] ?? '').split(/\s+/);
      const prefix = (head[0] ?? '').replace(/:$/, '');
      for (let j = 1; j < head.length; j++) {
        const v = Number(vals[j]);
        if (head[j] !== undefined && head[j] !== '' && Number.isFinite(v)) out.set(`${prefix}${head[j]}`, v);
      }
    }
  }
  return out;
}

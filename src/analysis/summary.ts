/**
 * The summary: counts per state and family, top local ports and remote peers for the
 * states operators worry about — aggregated while records stream past, in memory that
 * does not grow with the number of sockets.
 */
import { TCP_STATES, type TcpState } from '../core/states.js';
import type { Family, SocketRecord } from '../records/socket.js';
import { TopK, type TopEntry } from './top-k.js';

/** States whose ports and peers the summary breaks down. */
export const WATCHED_STATES = [
  'SYN_SENT',
  'SYN_RECEIVED',
  'FIN_WAIT_1',
  'FIN_WAIT_2',
  'CLOSE_WAIT',
  'CLOSING',
  'LAST_ACK',
  'TIME_WAIT',
] as const satisfies readonly TcpState[];

export type WatchedState = (typeof WATCHED_STATES)[number];

const PEER_CAPACITY = 256;

export interface Summary {
  readonly total: number;
  readonly states: Record<TcpState, number>;
  readonly families: Record<Family, number>;
  /** Per watched state with at least one socket: top local ports. */
  readonly ports: Partial<Record<WatchedState, readonly { port: number; count: number }[]>>;
  /** Per watched state: top remote addresses (approximate beyond 256 distinct peers). */
  readonly peers: Partial<Record<WatchedState, readonly { address: string; count: number; approximate: boolean }[]>>;
}

export function emptyStateCounts(): Record<TcpState, number> {
  const c = {} as Record<TcpState, number>;
  for (const s of TCP_STATES) c[s] = 0;
  return c;
}

export class SummaryAggregator {
  private total = 0;
  private readonly states = emptyStateCounts();
  private readonly families: Record<Family, number> = { ipv4: 0, ipv6: 0 };
  private readonly portCounts = new Map<WatchedState, Uint32Array>();
  /** Per watched state, the ports counted so far (so that the top needs no pass over 65,536 ports). */
  private readonly portsUsed = new Map<WatchedState, number[]>();
  private readonly peerCounts = new Map<WatchedState, TopK<string>>();

  add(r: SocketRecord): void {
    this.total++;
    this.states[r.state]++;
    this.families[r.family]++;
    if (!isWatched(r.state)) return;
    let ports = this.portCounts.get(r.state);
    if (ports === undefined) {
      ports = new Uint32Array(65536);
      this.portCounts.set(r.state, ports);
      this.portsUsed.set(r.state, []);
    }
    const port = r.local.port;
    const before = ports[port] ?? 0;
    ports[port] = before + 1;
    if (before === 0) this.portsUsed.get(r.state)?.push(port);
    let peers = this.peerCounts.get(r.state);
    if (peers === undefined) {
      peers = new TopK<string>(PEER_CAPACITY);
      this.peerCounts.set(r.state, peers);
    }
    peers.add(r.remote.address);
  }

  result(topN = 5): Summary {
    const ports: Summary['ports'] = {};
    const peers: Summary['peers'] = {};
    for (const s of WATCHED_STATES) {
      const pc = this.portCounts.get(s);
      if (pc !== undefined) ports[s] = topPorts(pc, this.portsUsed.get(s) ?? [], topN);
      const pk = this.peerCounts.get(s);
      if (pk !== undefined) {
        const approximate = pk.approximate;
        peers[s] = pk.top(topN).map((e: TopEntry<string>) => ({ address: e.key, count: e.count, approximate: approximate && e.error > 0 }));
      }
    }
    return { total: this.total, states: { ...this.states }, families: { ...this.families }, ports, peers };
  }
}

const WATCHED: Readonly<Record<TcpState, boolean>> = (() => {
  const w = {} as Record<TcpState, boolean>;
  for (const s of TCP_STATES) w[s] = (WATCHED_STATES as readonly TcpState[]).includes(s);
  return w;
})();

function isWatched(s: TcpState): s is WatchedState {
  return WATCHED[s];
}

/** The n most used of the `used` ports, most used first (ties: lower port first). */
function topPorts(counts: Uint32Array, used: readonly number[], n: number): { port: number; count: number }[] {
  return used
    .map((port) => ({ port, count: counts[port] as number }))
    .sort((a, b) => b.count - a.count || a.port - b.port)
    .slice(0, n);
}

/**
 * Per-port statistics (`tcpstate port PORT`): the per-port counting script operators
 * keep in their notes, done once: total, counts by state, remote addresses with their
 * counts and states, the top address, and whether anything listens on the port.
 */
import { type TcpState } from '../core/states.js';
import type { SocketRecord } from '../records/socket.js';
import { emptyStateCounts } from './summary.js';

export interface RemoteUsage {
  readonly address: string;
  readonly count: number;
  readonly states: Partial<Record<TcpState, number>>;
}

export interface PortStats {
  readonly port: number;
  readonly listening: boolean;
  /** Connections on the port, listeners excluded. */
  readonly total: number;
  readonly states: Record<TcpState, number>;
  readonly remotes: readonly RemoteUsage[];
  readonly topRemote: RemoteUsage | null;
}

export class PortAggregator {
  private listening = false;
  private total = 0;
  private readonly states = emptyStateCounts();
  private readonly remotes = new Map<string, { count: number; states: Partial<Record<TcpState, number>> }>();

  constructor(readonly port: number) {}

  /** Adds a record if its local port is ours; returns whether it counted. */
  add(r: SocketRecord): boolean {
    if (r.local.port !== this.port) return false;
    if (r.state === 'LISTEN') {
      this.listening = true;
      return true;
    }
    this.total++;
    this.states[r.state]++;
    let u = this.remotes.get(r.remote.address);
    if (u === undefined) {
      u = { count: 0, states: {} };
      this.remotes.set(r.remote.address, u);
    }
    u.count++;
    u.states[r.state] = (u.states[r.state] ?? 0) + 1;
    return true;
  }

  result(): PortStats {
    const remotes = [...this.remotes]
      .map(([address, u]) => ({ address, count: u.count, states: u.states }))
      .sort((a, b) => b.count - a.count || (a.address < b.address ? -1 : 1));
    return {
      port: this.port,
      listening: this.listening,
      total: this.total,
      states: { ...this.states },
      remotes,
      topRemote: remotes[0] ?? null,
    };
  }
}

/**
 * Aggregates transition events for `tcpstate trace --summary`: the from × to matrix with
 * rates, per-state dwell distributions (p50/p90/p99/max: SYN_SENT dwell is connect
 * latency, CLOSE_WAIT dwell the application's time to close), per-connection lifetimes
 * (as bcc's tcplife reports them), top talkers by new connections per second, resets and
 * lost events. Memory is fixed: log-bucketed histograms, Space-Saving top-k.
 */
import { TCP_STATES, type TcpState } from '../core/states.js';
import { TopK } from '../analysis/top-k.js';
import type { TransitionEvent } from './event.js';

/**
 * Log-linear histogram of durations in microseconds: 32 buckets per power of two
 * (≤ 2.2 % relative error), exact count, sum and max.
 */
export class DurationHistogram {
  private static readonly PER_OCTAVE = 32;
  private readonly buckets = new Float64Array(48 * DurationHistogram.PER_OCTAVE + 1);
  count = 0;
  maxUs = 0;
  sumUs = 0;

  add(us: number): void {
    const v = us < 1 ? 1 : us;
    const i = Math.min(this.buckets.length - 1, Math.floor(Math.log2(v) * DurationHistogram.PER_OCTAVE));
    this.buckets[i] = (this.buckets[i] ?? 0) + 1;
    this.count++;
    this.sumUs += us;
    if (us > this.maxUs) this.maxUs = us;
  }

  /** The q-quantile (0..1) in µs: the geometric middle of its bucket, never above max. */
  quantileUs(q: number): number {
    if (this.count === 0) return 0;
    const rank = Math.max(1, Math.ceil(q * this.count));
    if (rank >= this.count) return this.maxUs;
    let seen = 0;
    for (let i = 0; i < this.buckets.length; i++) {
      seen += this.buckets[i] ?? 0;
      if (seen >= rank) {
        const mid = 2 ** ((i + 0.5) / DurationHistogram.PER_OCTAVE);
        return Math.min(mid, this.maxUs);
      }
    }
    return this.maxUs;
  }
}

export interface Distribution {
  readonly count: number;
  readonly p50Ms: number;
  readonly p90Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  readonly meanMs: number;
}

function distribution(h: DurationHistogram): Distribution {
  const r = (us: number): number => Math.round(us) / 1000;
  return {
    count: h.count,
    p50Ms: r(h.quantileUs(0.5)),
    p90Ms: r(h.quantileUs(0.9)),
    p99Ms: r(h.quantileUs(0.99)),
    maxMs: r(h.maxUs),
    meanMs: h.count === 0 ? 0 : r(h.sumUs / h.count),
  };
}

export type Outcome = 'TIME_WAIT' | 'FIN_WAIT_2' | 'reset' | 'closed';

export interface LifetimeRecord {
  readonly local: string;
  readonly remote: string;
  readonly lifetimeMs: number;
  readonly outcome: Outcome;
}

export interface TraceSummary {
  readonly seconds: number;
  readonly transitions: number;
  readonly matrix: readonly { from: TcpState | null; to: TcpState | null; count: number; perSecond: number }[];
  /** Dwell in each state left, by state (only states with samples). */
  readonly dwell: Partial<Record<TcpState, Distribution>>;
  readonly lifetimes: Distribution & { readonly byOutcome: Record<Outcome, number>; readonly longest: readonly LifetimeRecord[] };
  readonly newConnections: number;
  readonly topTalkers: readonly { peer: string; connections: number; perSecond: number; approximate: boolean }[];
  readonly resets: { readonly sent: number; readonly received: number };
  readonly lost: number;
}

const LONGEST = 10;

function endpoint(a: { address: string; port: number }, family: string): string {
  return family === 'ipv6' ? `[${a.address}]:${a.port}` : `${a.address}:${a.port}`;
}

/** Index of a state in TCP_STATES; NONE for null (matrix cells and dwell histograms by index). */
const NONE = TCP_STATES.length;
const INDEX: ReadonlyMap<TcpState, number> = new Map(TCP_STATES.map((s, i) => [s, i]));

function indexOf(s: TcpState | null): number {
  return s === null ? NONE : (INDEX.get(s) ?? NONE);
}

export class SummaryAggregator {
  /** from × to counts, indexed `from * (NONE + 1) + to` (no string key per event). */
  private readonly cells = new Float64Array((NONE + 1) * (NONE + 1));
  private readonly dwell: (DurationHistogram | undefined)[] = new Array<DurationHistogram | undefined>(NONE + 1).fill(undefined);
  private readonly lifetimes = new DurationHistogram();
  private readonly outcomes: Record<Outcome, number> = { TIME_WAIT: 0, FIN_WAIT_2: 0, reset: 0, closed: 0 };
  private longest: LifetimeRecord[] = [];
  private readonly talkers = new TopK<string>(256);
  private transitions = 0;
  private newConnections = 0;
  private rstSent = 0;
  private rstReceived = 0;

  add(e: TransitionEvent): void {
    if (e.event === 'rst-sent') {
      this.rstSent++;
      return;
    }
    if (e.event === 'rst-received') {
      this.rstReceived++;
      return;
    }
    this.transitions++;
    const from = indexOf(e.from);
    const cell = from * (NONE + 1) + indexOf(e.to);
    this.cells[cell] = (this.cells[cell] ?? 0) + 1;
    if (e.from !== null && e.inStateMs !== null && e.from !== e.to) {
      let h = this.dwell[from];
      if (h === undefined) this.dwell[from] = h = new DurationHistogram();
      h.add(e.inStateMs * 1000);
    }
    // A new connection: an active open, or a passive one (the listener's clone).
    if ((e.from === 'CLOSED' && e.to === 'SYN_SENT') || (e.from === 'LISTEN' && e.to === 'SYN_RECEIVED')) {
      this.newConnections++;
      this.talkers.add(e.remote.address);
    }
    if (e.lifetimeMs !== null && e.from !== 'LISTEN') {
      this.lifetimes.add(e.lifetimeMs * 1000);
      const outcome: Outcome = e.reset !== null ? 'reset' : e.to === 'TIME_WAIT' ? 'TIME_WAIT' : e.to === 'FIN_WAIT_2' ? 'FIN_WAIT_2' : 'closed';
      this.outcomes[outcome]++;
      const last = this.longest[this.longest.length - 1];
      if (this.longest.length < LONGEST || (last !== undefined && e.lifetimeMs > last.lifetimeMs)) {
        this.longest.push({ local: endpoint(e.local, e.family), remote: endpoint(e.remote, e.family), lifetimeMs: e.lifetimeMs, outcome });
        this.longest.sort((a, b) => b.lifetimeMs - a.lifetimeMs);
        if (this.longest.length > LONGEST) this.longest.length = LONGEST;
      }
    }
  }

  /** The summary so far; `seconds` is the traced time, `lost` the kernel's overrun count. */
  snapshot(seconds: number, lost: number): TraceSummary {
    const per = (n: number): number => (seconds > 0 ? Math.round((n / seconds) * 100) / 100 : 0);
    // Cells in from-major, then to order (null last): the order of TCP_STATES.
    const matrix: { from: TcpState | null; to: TcpState | null; count: number; perSecond: number }[] = [];
    for (let f = 0; f <= NONE; f++) {
      for (let t = 0; t <= NONE; t++) {
        const count = this.cells[f * (NONE + 1) + t] ?? 0;
        if (count > 0) matrix.push({ from: TCP_STATES[f] ?? null, to: TCP_STATES[t] ?? null, count, perSecond: per(count) });
      }
    }
    const dwell: Partial<Record<TcpState, Distribution>> = {};
    TCP_STATES.forEach((s, i) => {
      const h = this.dwell[i];
      if (h !== undefined) dwell[s] = distribution(h);
    });
    return {
      seconds: Math.round(seconds * 1000) / 1000,
      transitions: this.transitions,
      matrix,
      dwell,
      lifetimes: { ...distribution(this.lifetimes), byOutcome: { ...this.outcomes }, longest: [...this.longest] },
      newConnections: this.newConnections,
      topTalkers: this.talkers.top(10).map((t) => ({ peer: t.key, connections: t.count, perSecond: per(t.count), approximate: t.error > 0 })),
      resets: { sent: this.rstSent, received: this.rstReceived },
      lost,
    };
  }
}

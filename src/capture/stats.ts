/**
 * `capture --stats`: aggregates over the connections of a capture in fixed memory —
 * connections per final state pair and per Zeek conn_state, resets by who sent them,
 * anomaly totals, and the handshake RTT distribution in a log-scale histogram.
 */
import type { ConnectionRecord } from './connection.js';

/** Histogram buckets: 2^(i/4) µs, i = 0..127 (1 µs to ~4 hours), percentiles within 19 %. */
const BUCKETS = 128;

export interface CaptureStats {
  connections: number;
  statePairs: Record<string, number>;
  zeekConnStates: Record<string, number>;
  resets: { byOriginator: number; byResponder: number; connections: number };
  anomalies: {
    synRetransmissions: number;
    finRetransmissions: number;
    retransmissions: number;
    outOfOrder: number;
    zeroWindow: number;
    unansweredSyn: number;
    dataAfterFin: number;
    midStream: number;
    simultaneousOpen: number;
    simultaneousClose: number;
    halfClose: number;
    missedBytes: number;
  };
  packets: { orig: number; resp: number };
  bytes: { orig: number; resp: number };
  handshakeRttMs: { count: number; min: number | null; p50: number | null; p90: number | null; p99: number | null; max: number | null; mean: number | null };
}

export class StatsCollector {
  private readonly s: CaptureStats = {
    connections: 0,
    statePairs: {},
    zeekConnStates: {},
    resets: { byOriginator: 0, byResponder: 0, connections: 0 },
    anomalies: {
      synRetransmissions: 0, finRetransmissions: 0, retransmissions: 0, outOfOrder: 0, zeroWindow: 0, unansweredSyn: 0,
      dataAfterFin: 0, midStream: 0, simultaneousOpen: 0, simultaneousClose: 0, halfClose: 0, missedBytes: 0,
    },
    packets: { orig: 0, resp: 0 },
    bytes: { orig: 0, resp: 0 },
    handshakeRttMs: { count: 0, min: null, p50: null, p90: null, p99: null, max: null, mean: null },
  };
  private readonly hist = new Float64Array(BUCKETS);
  private rttSum = 0;
  private rttMin = Infinity;
  private rttMax = -Infinity;

  add(r: ConnectionRecord): void {
    const s = this.s;
    s.connections++;
    const pair = `${r.states.orig}/${r.states.resp}`;
    s.statePairs[pair] = (s.statePairs[pair] ?? 0) + 1;
    s.zeekConnStates[r.zeek.connState] = (s.zeekConnStates[r.zeek.connState] ?? 0) + 1;
    const a = r.anomalies;
    if (a.resets.length > 0) s.resets.connections++;
    for (const x of a.resets) {
      if (x.by === 'orig') s.resets.byOriginator++;
      else s.resets.byResponder++;
    }
    const t = s.anomalies;
    t.synRetransmissions += a.orig.synRetransmissions + a.resp.synRetransmissions;
    t.finRetransmissions += a.orig.finRetransmissions + a.resp.finRetransmissions;
    t.retransmissions += a.orig.retransmissions + a.resp.retransmissions;
    t.outOfOrder += a.orig.outOfOrder + a.resp.outOfOrder;
    t.zeroWindow += a.orig.zeroWindow + a.resp.zeroWindow;
    t.missedBytes += a.orig.missedBytes + a.resp.missedBytes;
    t.dataAfterFin += a.orig.dataAfterFin + a.resp.dataAfterFin;
    if (a.unansweredSyn) t.unansweredSyn++;
    if (a.midStream) t.midStream++;
    if (a.simultaneousOpen) t.simultaneousOpen++;
    if (a.simultaneousClose) t.simultaneousClose++;
    if (a.halfClose) t.halfClose++;
    s.packets.orig += r.packets.orig;
    s.packets.resp += r.packets.resp;
    s.bytes.orig += r.bytes.orig;
    s.bytes.resp += r.bytes.resp;
    if (a.handshakeRttMs !== null) {
      const ms = a.handshakeRttMs;
      s.handshakeRttMs.count++;
      this.rttSum += ms;
      this.rttMin = Math.min(this.rttMin, ms);
      this.rttMax = Math.max(this.rttMax, ms);
      const us = Math.max(1, ms * 1000);
      const i = Math.min(BUCKETS - 1, Math.max(0, Math.floor(Math.log2(us) * 4)));
      this.hist[i] = (this.hist[i] ?? 0) + 1;
    }
  }

  private percentile(p: number): number {
    const n = this.s.handshakeRttMs.count;
    const want = Math.ceil(p * n);
    let seen = 0;
    for (let i = 0; i < BUCKETS; i++) {
      seen += this.hist[i] ?? 0;
      if (seen >= want) {
        // The bucket's upper edge, clamped to what was observed.
        const edge = 2 ** ((i + 1) / 4) / 1000;
        return Math.min(Math.max(edge, this.rttMin), this.rttMax);
      }
    }
    return this.rttMax;
  }

  result(): CaptureStats {
    const h = this.s.handshakeRttMs;
    if (h.count > 0) {
      const r3 = (x: number): number => Math.round(x * 1000) / 1000;
      h.min = r3(this.rttMin);
      h.max = r3(this.rttMax);
      h.mean = r3(this.rttSum / h.count);
      h.p50 = r3(this.percentile(0.5));
      h.p90 = r3(this.percentile(0.9));
      h.p99 = r3(this.percentile(0.99));
    }
    return this.s;
  }
}

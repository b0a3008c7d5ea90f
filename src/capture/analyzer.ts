/**
 * The capture pipeline: a packet decoded (./decoder.ts) → the flow table → one
 * `Connection` per 4-tuple and lifetime. Allocation-free per packet; a finished
 * connection's objects (observer, endpoints, Zeek state) serve the next new connection,
 * so connections cost no allocation either once the peak of live ones is reached.
 *
 * Output: records (`onConnection`); or rows of numbers (./record-row.ts), no record
 * built, that the formatter (./row-json.ts) turns into NDJSON lines on this thread
 * (`ndjson`) or that the caller hands to another thread (`rows`, ./pipeline.ts).
 *
 * Flow table: keyed by the 4-tuple in either direction (a symmetric numeric hash over
 * both addresses and ports, open addressing over typed arrays; a list of live connections in
 * the order they were made, with their last packet time in a typed array, for the expiry
 * sweep). A plain SYN on a tuple whose connection is closing or closed, or that
 * restarts an attempt with another ISN, starts a new connection (port reuse). The
 * originator is the sender of the first plain SYN; otherwise the first sender, swapped by
 * Zeek's likely-server-port guess, and marked `originatorInferred`. Connections idle for
 * `idleTimeoutSec` of capture time (`closedLingerSec`, 5 s like Zeek's tcp_close_delay,
 * once both sides are CLOSED or in TIME_WAIT) are finished and handed to `onConnection`
 * as records, so memory follows the live connections. A record with a side still in
 * TIME_WAIT waits (as a record, not a connection) until capture time passes the end of
 * TIME_WAIT or the capture ends, so its final states are those at the end of the capture.
 *
 * Decoding (link, IP, TCP, and its limitations) is ./decoder.ts.
 */
import { LINUX_PROFILE, type Profile } from '../core/profile.js';
import { objectArray, settleMutableFields } from '../core/object-layout.js';
import { TCP_STATES } from '../core/states.js';
import { ACK, RST, SYN } from '../core/segment.js';
import { ipv4ToString } from '../wire/ipv4.js';
import { ipv6WordsToString } from '../wire/ipv6.js';
import type { PacketRecord } from '../wire/pcap.js';
import { ByteSink } from './bytes-out.js';
import { Connection, type ConnectionRecord } from './connection.js';
import { PacketDecoder, type DecodedSegment, type DecodedSink } from './decoder.js';
import { BATCH_ROWS, PHASE_CREATE, PHASE_REUSE_FINISH, PHASE_SWEEP_FINISH, PHASE_SWEEP_RELEASE, R_ID, R_START, RecordRows, ROW, ROW_CREATE, ROW_END, ROW_SWEEP } from './record-row.js';
import { newCaptureCounters, type CaptureCounters } from './counters.js';
import { RowFormatter } from './row-json.js';
import { zeekFlipsRoles } from './zeek.js';

export interface AnalyzerOptions {
  readonly profile?: Profile;
  readonly idleTimeoutSec?: number;
  readonly closedLingerSec?: number;
  /** Keep each connection's transition timeline. */
  readonly timeline?: boolean;
  /** Keep the segment log of this connection id (for `--conn`). */
  readonly logConnection?: number;
  /**
   * Called with each finished connection's record; `conn` is given only for the
   * connection of `logConnection` (its segment log).
   */
  readonly onConnection?: (r: ConnectionRecord, conn: Connection | null) => void;
  /**
   * Instead of records: each finished connection's NDJSON line (what
   * `recordToJson(record) + '\n'` gives) is written into this buffer, and no record is
   * built. Timelines are not written this way (`timeline` is ignored).
   */
  readonly ndjson?: ByteSink;
  /**
   * Instead of records or lines: each finished connection as a row, and a row for each
   * expiry sweep and for the end, appended here for the caller to take (and clear).
   */
  readonly rows?: RecordRows;
  /**
   * With `rows`: analyse only the connections whose 4-tuple hashes to shard `index` of
   * `count` (./shard-merge.ts assembles the shards' rows); `ROW_CREATE` rows number them.
   */
  readonly shard?: { readonly index: number; readonly count: number };
  /**
   * With `rows`: called when they hold BATCH_ROWS or more while connections are being
   * finished (an expiry sweep, the end of the capture), so the caller can hand them on
   * before the sweep or the end is over. `complete`: every row of packets before this
   * number has been made.
   */
  readonly onRowsFull?: (complete: number) => void;
}

export function addressText(w0: number, w1: number, w2: number, w3: number, family: 'ipv4' | 'ipv6'): string {
  return family === 'ipv4' ? ipv4ToString(w0) : ipv6WordsToString(w0, w1, w2, w3);
}

function mix(h: number, v: number): number {
  return Math.imul(h ^ v, 0x9e3779b1) >>> 0;
}

export class CaptureAnalyzer implements DecodedSink {
  readonly counters: CaptureCounters = newCaptureCounters();
  /**
   * The flow table: open addressing with linear probing over two typed arrays, per slot
   * the connection's object index + 1 (0: empty) and its hash. A probe compares hashes
   * first, so finding a connection, or finding that a SYN's tuple is new, touches no
   * other connection object (most of them linger, long out of the cache). At most half
   * full: doubled when it would be more. It starts with room for 16,384 connections (256
   * KB), and the live list below for as many: a busy capture has thousands live within
   * its first seconds, and growing then, just after V8 compiled the analysis, would make
   * it compile `segment` again.
   */
  private table = new Int32Array(32768);
  private tableHash = new Int32Array(32768);
  private tableMask = 32767;
  /** Every connection object made, by object index (the pool: finished ones are reused). */
  private readonly objects: Connection[] = [];
  private live = 0;
  private nextId = 1;
  private readonly decoder: PacketDecoder;
  private readonly profile: Profile;
  private readonly idle: number;
  private readonly linger: number;
  private readonly options: AnalyzerOptions;
  private nextSweep = -Infinity;
  /** Finished connections whose objects are reused for new ones: memory follows the peak of live connections. */
  private readonly free: Connection[] = objectArray();
  /**
   * The connections in the flow table in the order they were made, which is id order
   * (each knows its index): what `sweep` scans, and the order in which it and `end` finish
   * connections, so neither sorts. A connection finished otherwise (port reuse) leaves a
   * hole, closed by the next sweep or once holes outnumber the live connections.
   */
  private readonly liveList: (Connection | null)[] = objectArray();
  private holes = 0;
  /** Per entry of liveList: its last packet's time, and 1 when both sides were over after it. */
  private liveLast = new Float64Array(16384);
  private liveClosed = new Uint8Array(16384);
  private readonly keepTimeline: boolean;
  private readonly onConnection: (r: ConnectionRecord, conn: Connection | null) => void;
  /** Row mode (`ndjson` or `rows`): where finished connections go, and the formatter when lines are written here. */
  private readonly rows: RecordRows | null;
  private readonly formatter: RowFormatter | null;
  private readonly shardIndex: number;
  private readonly shardCount: number;
  /** Row mode: the phase of the current packet in which connections are finished. */
  private phase = PHASE_SWEEP_FINISH;
  /**
   * Row mode: added to the packet count in the rows made now: 1 once the capture is
   * ending (they come after the last packet). A number rather than a condition, so that
   * the end runs the code compiled for the sweeps instead of making V8 compile it again.
   */
  private afterLast = 0;

  constructor(options: AnalyzerOptions) {
    this.options = options;
    this.decoder = new PacketDecoder(this.counters);
    this.profile = options.profile ?? LINUX_PROFILE;
    this.idle = options.idleTimeoutSec ?? 300;
    this.linger = options.closedLingerSec ?? 5;
    this.formatter = options.rows === undefined && options.ndjson !== undefined ? new RowFormatter(options.ndjson) : null;
    this.rows = options.rows ?? (this.formatter !== null ? new RecordRows() : null);
    this.shardIndex = this.rows !== null && options.shard !== undefined ? options.shard.index : 0;
    this.shardCount = this.rows !== null && options.shard !== undefined ? options.shard.count : 1;
    this.keepTimeline = this.rows === null && (options.timeline === true || options.logConnection !== undefined);
    this.onConnection = options.onConnection ?? ignore;
    // Its fields are written again later: mutable from now on (src/core/object-layout.ts).
    settleMutableFields(this);
  }

  get liveConnections(): number {
    return this.live;
  }

  /** One packet of the capture: decoded here, then `tick` and, for a TCP segment, `segment`. */
  packet(p: PacketRecord): void {
    this.decoder.decode(p, this);
  }

  /** The capture clock: every packet's time, before the packet is decoded (and before its segment, if any). */
  tick(time: number): void {
    const c = this.counters;
    c.packets++;
    if (Number.isNaN(c.firstTime)) c.firstTime = time;
    if (Number.isNaN(c.lastTime) || time > c.lastTime) c.lastTime = time;
    if (c.lastTime >= this.nextSweep) {
      // Every few seconds of capture time: cheap next to the packets in between.
      this.nextSweep = c.lastTime + Math.min(5, this.linger / 2, this.idle / 2);
      this.sweep(c.lastTime);
    }
  }

  private hashOf(family: number, a: Uint32Array, ap: number, b: Uint32Array, bp: number): number {
    // Symmetric: the same for both directions (each side hashed alone, then combined).
    let ha = Math.imul((a[0] as number) ^ Math.imul(ap + family, 0x9e3779b1), 0x85ebca6b);
    let hb = Math.imul((b[0] as number) ^ Math.imul(bp + family, 0x9e3779b1), 0x85ebca6b);
    if (family === 6) {
      ha = mix(mix(mix(ha, a[1] as number), a[2] as number), a[3] as number);
      hb = mix(mix(mix(hb, b[1] as number), b[2] as number), b[3] as number);
    }
    let h = (ha ^ (ha >>> 15)) + (hb ^ (hb >>> 15));
    h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
    // 30 bits: a small integer, never a heap number.
    return (h ^ (h >>> 16)) & 0x3fffffff;
  }

  /** A TCP segment of the capture. */
  segment(s: DecodedSegment): void {
    const family = s.family;
    const src = s.src;
    const dst = s.dst;
    const sp = s.sp;
    const dp = s.dp;
    const flags = s.flags;
    const time = s.time;
    const hash = this.hashOf(family === 'ipv4' ? 4 : 6, src, sp, dst, dp);
    if (this.shardCount > 1 && hash % this.shardCount !== this.shardIndex) return; // another shard's connection
    const table = this.table;
    const tableHash = this.tableHash;
    const mask = this.tableMask;
    let conn: Connection | null = null;
    let fromOrig = true;
    // The probe starts at hash & mask; the step is taken first, so that V8 has seen it
    // before the first collision (the table is large enough that none come early).
    for (let i = ((hash & mask) - 1) & mask; ; ) {
      i = (i + 1) & mask;
      if (table[i] === 0) break;
      if (tableHash[i] !== hash) continue;
      const c = this.objects[(table[i] as number) - 1] as Connection;
      if (c.family !== family) continue;
      if (c.oPort === sp && c.rPort === dp && isOrig(c, src) && isResp(c, dst)) {
        conn = c;
        fromOrig = true;
        break;
      }
      if (c.oPort === dp && c.rPort === sp && isOrig(c, dst) && isResp(c, src)) {
        conn = c;
        fromOrig = false;
        break;
      }
    }
    const plainSyn = (flags & (SYN | ACK | RST)) === SYN;
    if (conn !== null && plainSyn && this.isReuse(conn, fromOrig, s.seq)) {
      this.phase = PHASE_REUSE_FINISH;
      this.finish(conn, time);
      conn = null;
    }
    if (conn === null) {
      const flip = !plainSyn && zeekFlipsRoles(flags, sp, dp);
      const o = flip ? dst : src;
      const r = flip ? src : dst;
      const id = this.nextId++;
      const log = this.options.logConnection === id;
      conn = this.free.pop() ?? this.newConnection(family, o, r, time);
      // Every connection, a new object or a reused one, starts here: one path, which V8
      // compiles once (a first reuse seconds in would otherwise make it compile `segment` again).
      conn.reuse(id, family, o, flip ? dp : sp, r, flip ? sp : dp, time, !plainSyn, flip, this.keepTimeline, log);
      conn.hash = hash;
      conn.liveIndex = this.liveList.length;
      this.liveList.push(conn);
      if (conn.liveIndex >= this.liveLast.length) this.growLive();
      this.insert(conn);
      this.live++;
      if (this.live * 2 > this.table.length) this.grow();
      this.counters.connections++;
      if (this.shardCount > 1) {
        const rows = this.rows as RecordRows;
        const at = rows.add(ROW_CREATE, this.counters.packets, PHASE_CREATE); // may grow rows.rows: index it after
        rows.rows[at + R_ID] = id;
      }
      fromOrig = !flip;
    }
    conn.packet(fromOrig, s);
    // What `sweep` needs, kept densely (its scan then touches no connection object).
    const ob = conn.observer;
    const i = conn.liveIndex;
    this.liveLast[i] = time;
    this.liveClosed[i] = (OVER >> ob.orig.code) & (OVER >> ob.resp.code) & 1;
  }

  /** A connection object for the pool (`reuse` then makes it a connection). */
  private newConnection(family: 'ipv4' | 'ipv6', o: Uint32Array, r: Uint32Array, time: number): Connection {
    const conn = new Connection(0, family, o, 0, r, 0, time, this.profile, { originatorInferred: false, zeekFlipped: false, timeline: false, log: false });
    conn.objectIndex = this.objects.length;
    this.objects.push(conn);
    return conn;
  }

  private growLive(): void {
    const last = new Float64Array(this.liveLast.length * 2);
    last.set(this.liveLast);
    this.liveLast = last;
    const closed = new Uint8Array(this.liveClosed.length * 2);
    closed.set(this.liveClosed);
    this.liveClosed = closed;
  }

  /** A plain SYN on a known tuple: is it a new connection? */
  private isReuse(conn: Connection, fromOrig: boolean, seq: number): boolean {
    const ob = conn.observer;
    const x = fromOrig ? ob.orig : ob.resp;
    if (x.issKnown && x.iss === seq) return false; // a retransmission
    const closing = ob.orig.finSent || ob.resp.finSent || ob.resets.length > 0;
    const over = (ob.orig.state === 'CLOSED' || ob.orig.state === 'TIME_WAIT') && (ob.resp.state === 'CLOSED' || ob.resp.state === 'TIME_WAIT' || ob.resp.state === 'LISTEN');
    if (closing || over) return true;
    // A new attempt from the same side with another ISN (the old one was given up).
    return x.state === 'SYN_SENT' && x.issKnown && x.iss !== seq;
  }

  /** Into the flow table, at the first free slot from its hash's. */
  private insert(conn: Connection): void {
    const mask = this.tableMask;
    let i = conn.hash & mask;
    while (this.table[i] !== 0) i = (i + 1) & mask;
    this.table[i] = conn.objectIndex + 1;
    this.tableHash[i] = conn.hash;
  }

  /** Twice the slots, every live connection inserted again. */
  private grow(): void {
    const size = this.table.length * 2;
    this.table = new Int32Array(size);
    this.tableHash = new Int32Array(size);
    this.tableMask = size - 1;
    for (const c of this.liveList) if (c !== null) this.insert(c);
  }

  /** Out of the flow table; the entries after it move back so that every probe still finds its own (no tombstones). */
  private remove(conn: Connection): void {
    const table = this.table;
    const tableHash = this.tableHash;
    const mask = this.tableMask;
    const key = conn.objectIndex + 1;
    let hole = conn.hash & mask;
    while (table[hole] !== key) {
      if (table[hole] === 0) return; // not in the table
      hole = (hole + 1) & mask;
    }
    for (let j = (hole + 1) & mask; table[j] !== 0; j = (j + 1) & mask) {
      // The entry at j may fill the hole when the hole lies between its home slot and j.
      const home = (tableHash[j] as number) & mask;
      if (((j - home) & mask) >= ((j - hole) & mask)) {
        table[hole] = table[j] as number;
        tableHash[hole] = tableHash[j] as number;
        hole = j;
      }
    }
    table[hole] = 0;
  }

  /** Out of the flow table and the live list (unless a sweep or the end took it out of the list already). */
  private unlink(conn: Connection): void {
    this.remove(conn);
    const i = conn.liveIndex;
    if (i < 0) return;
    this.liveList[i] = null;
    conn.liveIndex = -1;
    this.holes++;
    if (this.holes > MIN_HOLES_COMPACTED && this.holes > this.live) this.compact(null, 0);
  }

  /**
   * Closes the live list's holes, keeping its order; with a `done` list, also takes out
   * the connections idle past their timeout at capture time `now` (every one when `all`)
   * and appends them to `done` in list order (their `liveIndex` becomes -1).
   */
  private compact(done: Connection[] | null, now: number, all = false): void {
    const list = this.liveList;
    const lastAt = this.liveLast;
    const closed = this.liveClosed;
    let j = 0;
    for (let i = 0; i < list.length; i++) {
      const c = list[i];
      if (c === null || c === undefined) continue;
      // The connection's last packet time and whether both sides were over after it.
      if (done !== null && (all || now - (lastAt[i] as number) > (closed[i] === 1 ? this.linger : this.idle))) {
        c.liveIndex = -1;
        done.push(c);
        continue;
      }
      if (j !== i) {
        list[j] = c;
        lastAt[j] = lastAt[i] as number;
        closed[j] = closed[i] as number;
        c.liveIndex = j;
      }
      j++;
    }
    list.length = j;
    this.holes = 0;
  }

  private finish(conn: Connection, now: number): void {
    if (conn.finalized) return;
    conn.finalized = true;
    this.unlink(conn);
    this.live--;
    conn.advance(now);
    const ob = conn.observer;
    const o = ob.orig.state === 'TIME_WAIT' ? ob.orig.timeWaitDeadline / 1000 : -1;
    const r = ob.resp.state === 'TIME_WAIT' ? ob.resp.timeWaitDeadline / 1000 : -1;
    if (this.rows !== null) {
      conn.toRow(this.rows, o, r, this.counters.packets + this.afterLast, this.phase);
      this.formatRows();
      // Thousands finish at once in a sweep and at the end: hand them on in batches meanwhile.
      if (this.rows.used >= BATCH_ROWS * ROW) this.options.onRowsFull?.(this.counters.packets);
    } else {
      const record = conn.toRecord(addressText, this.options.timeline === true || conn.log !== null);
      if (o < 0 && r < 0) this.onConnection(record, conn.log !== null ? conn : null);
      else this.waiting.push({ record, conn: conn.log !== null ? conn : null, orig: o, resp: r, due: Math.max(o, r) });
    }
    // Its record is out (a record keeps its own timeline array): the objects can serve again.
    if (conn.log === null) this.free.push(conn);
  }

  /** Lines written on this thread: the rows so far become lines. */
  private formatRows(): void {
    if (this.formatter === null || this.rows === null) return;
    this.formatter.consume(this.rows);
    this.rows.clear();
  }

  /** Records waiting for TIME_WAIT to end, in finishing order (so nearly in deadline order). */
  private waiting: { record: ConnectionRecord; conn: Connection | null; orig: number; resp: number; due: number }[] = [];
  private waitingHead = 0;

  /** Hands over waiting records whose TIME_WAIT ended by `now`; all of them when `all`. */
  private release(now: number, all: boolean): void {
    if (this.rows !== null) {
      // Lines waiting for TIME_WAIT go out when the formatter reaches this row.
      // Shards all sweep at the same packets: the first one says when.
      if (this.shardIndex === 0) {
        const at = this.rows.add(all ? ROW_END : ROW_SWEEP, this.counters.packets + this.afterLast, PHASE_SWEEP_RELEASE);
        this.rows.rows[at + R_START] = now;
      }
      this.formatRows();
      return;
    }
    const q = this.waiting;
    while (this.waitingHead < q.length) {
      const w = q[this.waitingHead];
      if (w === undefined || (!all && w.due > now)) break;
      this.waitingHead++;
      for (const side of ['orig', 'resp'] as const) {
        const deadline = w[side];
        if (deadline < 0 || deadline > now) continue;
        w.record.states[side] = 'CLOSED';
        w.record.timeline?.push({ at: deadline, side, from: 'TIME_WAIT', to: 'CLOSED', rule: 'time-wait-timeout', inferred: false, packet: 0 });
      }
      this.onConnection(w.record, w.conn);
    }
    if (this.waitingHead > 4096 && this.waitingHead * 2 > q.length) {
      this.waiting = q.slice(this.waitingHead);
      this.waitingHead = 0;
    }
  }

  /** Finishes connections idle for too long (capture time). */
  sweep(now: number): void {
    const done: Connection[] = objectArray();
    this.compact(done, now);
    this.phase = PHASE_SWEEP_FINISH;
    for (const c of done) this.finish(c, now);
    this.release(now, false);
  }

  /** The capture is over: finish every connection, timers run to the last packet's time. */
  end(): void {
    const now = Number.isNaN(this.counters.lastTime) ? 0 : this.counters.lastTime;
    this.afterLast = 1;
    this.phase = PHASE_SWEEP_FINISH;
    const all: Connection[] = objectArray();
    this.compact(all, now, true);
    for (const c of all) this.finish(c, now);
    this.release(now, true);
  }
}

function ignore(): void {
  // no consumer of records (NDJSON mode)
}

/** Holes the live list may have before it is compacted outside a sweep (when they also outnumber the live connections). */
const MIN_HOLES_COMPACTED = 4096;

/** Nothing more is expected on the wire from a side in these states (bits by TCP_STATES index: CLOSED, LISTEN, TIME_WAIT). */
const OVER = (1 << TCP_STATES.indexOf('CLOSED')) | (1 << TCP_STATES.indexOf('LISTEN')) | (1 << TCP_STATES.indexOf('TIME_WAIT'));

function isOrig(c: Connection, w: Uint32Array): boolean {
  return c.o0 === w[0] && c.o1 === w[1] && c.o2 === w[2] && c.o3 === w[3];
}

function isResp(c: Connection, w: Uint32Array): boolean {
  return c.r0 === w[0] && c.r1 === w[1] && c.r2 === w[2] && c.r3 === w[3];
}

export type { ConnectionRecord };
export { newCaptureCounters, type CaptureCounters };

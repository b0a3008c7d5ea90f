/**
 * The peer on the far side of the TUN: our own RFC 9293 endpoints (src/core, linux
 * profile), one per connection, fed with the IPv4/TCP packets the kernel routes into the
 * TUN and writing their segments back as packets. Scripts deviate from the protocol
 * through three hooks: `withhold` (a segment the endpoint sends is recorded but never
 * written), `beforeKernelSegment` (act before a kernel segment is processed, e.g. close
 * so that both FINs cross), and silent ports (a kernel SYN nobody answers).
 *
 * Our segments carry no TCP options (see `encodeTcp`): the kernel then uses no window
 * scaling, no timestamps and no SACK on the connection, and assumes an MSS of 536 octets
 * for what it sends to us (RFC 9293 §3.7.1, Linux TCP_MSS_DEFAULT). The kernel's own SYN
 * carries MSS, SACK-permitted, timestamps and window scale; they are decoded and shown.
 *
 * Everything here is synchronous and bounded: `pump` waits on the TUN with poll(2) for at
 * most the time it is given, so the CLI's event loop gets control back between pumps.
 */
import { Endpoint, type EndpointSink, type Notification } from '../core/endpoint.js';
import { LINUX_PROFILE } from '../core/profile.js';
import { ACK, FIN, flagsToTcpdump, newSegment, RST, SYN, type Segment } from '../core/segment.js';
import { seqGt } from '../core/seq.js';
import type { TcpState } from '../core/states.js';
import { decodeIpv4, encodeIpv4, IPPROTO_TCP, ipv4ToString, newIpv4Header } from '../wire/ipv4.js';
import { decodeTcp, describeOptions, encodeTcp, newTcpHeader, tcpChecksum } from '../wire/tcp.js';
import type { Tun } from './tun.js';

export type Side = 'kernel' | 'peer';

let orderCounter = 0;
/** A global sequence number: ties between records at the same millisecond keep their real order. */
export function nextOrder(): number {
  return orderCounter++;
}

/** One segment seen on the TUN or produced by the peer. */
export interface LabSegment {
  readonly order: number;
  /** Milliseconds since the scenario started. */
  readonly at: number;
  readonly from: Side;
  /** The connection, as `peerAddress:peerPort`. */
  readonly conn: string;
  /** tcpdump notation. */
  readonly flags: string;
  /** Relative to the sender's ISS (raw when the ISS is unknown). */
  readonly seq: number;
  /** Relative to the receiver's ISS, 0 without ACK. */
  readonly ack: number;
  readonly len: number;
  /** The raw window field (no scaling is ever negotiated with the peer). */
  readonly window: number;
  /** TCP options in tcpdump notation, '' when none. */
  readonly options: string;
  /** A peer segment the script kept off the wire. */
  readonly withheld: boolean;
  /** Why it was withheld, or what the script did. */
  readonly note: string;
  /** The peer endpoint's state when the segment was sent or received. */
  readonly peerState: TcpState | null;
}

export interface LabEvent {
  readonly order: number;
  readonly at: number;
  readonly side: Side;
  readonly kind: 'call' | 'state' | 'note';
  readonly text: string;
  readonly conn: string;
}

/** A predicate over the peer's outgoing segment: a reason to withhold it, or null to send it. */
export type WithholdRule = (seg: Readonly<Segment>, conn: PeerConn) => string | null;

export interface PeerConnOptions {
  readonly withhold?: WithholdRule;
  /** Runs before a kernel segment reaches the endpoint (the segment is still fed afterwards). */
  readonly beforeKernelSegment?: (seg: Readonly<Segment>, conn: PeerConn) => void;
  /** The peer application reads what arrives (default) or never reads (zero window). */
  readonly reading?: boolean;
  readonly rcvBuffer?: number;
}

export class PeerConn {
  readonly endpoint: Endpoint;
  readonly key: string;
  /** The kernel's ISS once seen (its SYN or SYN,ACK), else null. */
  kernelIss: number | null = null;
  /** Sequence number of the kernel's FIN once seen, else null. */
  kernelFinSeq: number | null = null;
  kernelFins = 0;
  kernelSyns = 0;
  kernelSegments = 0;
  /** The kernel answered with RST. */
  resetByKernel = false;
  readonly notifications: Notification[] = [];

  constructor(
    readonly driver: PeerDriver,
    readonly peerAddr: number,
    readonly peerPort: number,
    readonly kernelAddr: number,
    readonly kernelPort: number,
    readonly options: PeerConnOptions,
    iss: number,
  ) {
    this.key = `${ipv4ToString(peerAddr)}:${peerPort}`;
    const sink: EndpointSink = {
      send: (seg, now) => driver.emitFromPeer(this, seg, now),
      stateChanged: (_from, to, rule, now) => driver.event(now, 'peer', 'state', `→ ${to} (${rule.event})`, this.key),
      notify: (what) => {
        this.notifications.push(what);
      },
    };
    this.endpoint = new Endpoint(
      {
        profile: LINUX_PROFILE,
        iss,
        reading: options.reading ?? true,
        ...(options.rcvBuffer !== undefined ? { rcvBuffer: options.rcvBuffer } : {}),
      },
      sink,
    );
  }

  get state(): TcpState {
    return this.endpoint.state;
  }

  /** True once our outgoing `seg` acknowledges the kernel's FIN. */
  acksKernelFin(seg: Readonly<Segment>): boolean {
    return this.kernelFinSeq !== null && (seg.flags & ACK) !== 0 && seqGt(seg.ack, this.kernelFinSeq);
  }
}

/** Withhold every peer segment that acknowledges the kernel's FIN. */
export const withholdAckOfKernelFin: WithholdRule = (seg, conn) =>
  conn.acksKernelFin(seg) ? "withheld: it acknowledges the kernel's FIN" : null;

/** Withhold every pure ACK (no SYN, FIN, RST, data): the handshake never completes. */
export const withholdPureAcks: WithholdRule = (seg) =>
  (seg.flags & (SYN | FIN | RST)) === 0 && seg.len === 0 && (seg.flags & ACK) !== 0
    ? 'withheld: the final ACK of the handshake'
    : null;

export interface PeerListener {
  readonly options: PeerConnOptions;
  /** Answer SYNs (an endpoint in LISTEN) or stay silent (a host that never answers). */
  readonly answer: boolean;
}

const MAX_RECORDED = 5000;

export class PeerDriver {
  readonly segments: LabSegment[] = [];
  readonly events: LabEvent[] = [];
  readonly conns = new Map<string, PeerConn>();
  private readonly listeners = new Map<number, PeerListener>();
  private readonly rx = new Uint8Array(65536);
  private readonly tx = new Uint8Array(65536);
  private readonly ip = newIpv4Header();
  private readonly tcp = newTcpHeader();
  private readonly seg = newSegment();
  private ipId = 1;
  private issBase = 0x2000_0000;
  /** Record segments and events (off for long problem scenarios after a while). */
  recording = true;
  /** Packets read from the TUN that were not IPv4/TCP for a known peer address. */
  ignored = 0;
  badChecksums = 0;
  /** Kernel segments to a peer address and port nobody answers for. */
  unanswered = 0;

  constructor(
    private readonly tun: Tun,
    /** The peer prefix routed into the TUN: addresses in it are ours. */
    private readonly isPeerAddress: (addr: number) => boolean,
    /** Milliseconds since the scenario started. */
    readonly now: () => number,
  ) {}

  event(at: number, side: Side, kind: LabEvent['kind'], text: string, conn = ''): void {
    if (this.recording && this.events.length < MAX_RECORDED) this.events.push({ order: nextOrder(), at, side, kind, text, conn });
  }

  /** Kernel SYNs to `port` of any peer address get an endpoint in LISTEN (answer) or silence. */
  listen(port: number, listener: PeerListener): void {
    this.listeners.set(port, listener);
  }

  /** An active OPEN from the peer to a kernel address and port. */
  connect(peerAddr: number, peerPort: number, kernelAddr: number, kernelPort: number, options: PeerConnOptions = {}): PeerConn {
    const conn = this.newConn(peerAddr, peerPort, kernelAddr, kernelPort, options);
    this.call(conn, `connect(${ipv4ToString(kernelAddr)}:${kernelPort})`, () => conn.endpoint.connect(this.now()));
    return conn;
  }

  /** A user call on the peer's endpoint, recorded for the diagram. */
  call(conn: PeerConn, text: string, fn: () => void): void {
    this.event(this.now(), 'peer', 'call', text, conn.key);
    fn();
  }

  private newConn(peerAddr: number, peerPort: number, kernelAddr: number, kernelPort: number, options: PeerConnOptions): PeerConn {
    this.issBase = (this.issBase + 0x0100_0000) >>> 0;
    const conn = new PeerConn(this, peerAddr, peerPort, kernelAddr, kernelPort, options, this.issBase);
    this.conns.set(this.connKey(peerAddr, peerPort, kernelAddr, kernelPort), conn);
    return conn;
  }

  private connKey(peerAddr: number, peerPort: number, kernelAddr: number, kernelPort: number): string {
    return `${peerAddr}:${peerPort}:${kernelAddr}:${kernelPort}`;
  }

  /** Called by the endpoints' sinks: builds the packet, applies the script, writes it. */
  emitFromPeer(conn: PeerConn, seg: Readonly<Segment>, now: number): void {
    const reason = conn.options.withhold?.(seg, conn) ?? null;
    this.record('peer', conn, seg, now, '', reason !== null, reason ?? '');
    if (reason !== null) return;
    const buf = this.tx;
    const tcpAt = 20;
    // Payload octets are zeros: the model counts data, it does not store it.
    buf.fill(0, tcpAt + 20, tcpAt + 20 + seg.len);
    const tcpLen =
      encodeTcp(
        buf,
        tcpAt,
        {
          srcPort: conn.peerPort,
          dstPort: conn.kernelPort,
          seq: seg.seq,
          ack: seg.ack,
          flags: seg.flags,
          window: Math.min(seg.window, 0xffff),
        },
        seg.len,
        conn.peerAddr,
        conn.kernelAddr,
      ) + seg.len;
    encodeIpv4(buf, 0, {
      src: conn.peerAddr,
      dst: conn.kernelAddr,
      protocol: IPPROTO_TCP,
      payloadLength: tcpLen,
      id: this.ipId++ & 0xffff,
    });
    this.tun.write(buf, 20 + tcpLen);
  }

  private record(
    from: Side,
    conn: PeerConn | null,
    seg: Readonly<Segment>,
    at: number,
    options: string,
    withheld: boolean,
    note: string,
    key = '',
  ): void {
    if (!this.recording || this.segments.length >= MAX_RECORDED) return;
    const peerIss = conn?.endpoint.iss ?? 0;
    const kernelIss = conn?.kernelIss ?? 0;
    const hasAck = (seg.flags & ACK) !== 0;
    this.segments.push({
      order: nextOrder(),
      at,
      from,
      conn: conn?.key ?? key,
      flags: flagsToTcpdump(seg.flags),
      seq: from === 'peer' ? (seg.seq - peerIss) >>> 0 : (seg.seq - kernelIss) >>> 0,
      ack: !hasAck ? 0 : from === 'peer' ? (seg.ack - kernelIss) >>> 0 : (seg.ack - peerIss) >>> 0,
      len: seg.len,
      window: seg.window,
      options,
      withheld,
      note,
      peerState: conn?.state ?? null,
    });
  }

  /**
   * Reads and handles packets for up to `waitMs` (0: only what is already there), and
   * fires the endpoints' timers. Returns the number of packets handled.
   */
  pump(waitMs: number): number {
    const deadline = performance.now() + waitMs;
    let handled = 0;
    for (;;) {
      this.tick();
      const left = deadline - performance.now();
      const timer = this.nextTimerIn();
      const wait = Math.max(0, Math.min(left, timer));
      if (!this.tun.wait(wait)) {
        if (performance.now() >= deadline) break;
        continue;
      }
      for (;;) {
        const n = this.tun.read(this.rx);
        if (n <= 0) break;
        this.handlePacket(n);
        handled++;
      }
      if (performance.now() >= deadline) break;
    }
    this.tick();
    return handled;
  }

  /** Pumps until `done()` holds or `maxMs` passes; returns whether it holds. */
  pumpUntil(done: () => boolean, maxMs: number): boolean {
    const deadline = performance.now() + maxMs;
    while (!done()) {
      const left = deadline - performance.now();
      if (left <= 0) return false;
      this.pump(Math.min(left, 10));
    }
    return true;
  }

  private nextTimerIn(): number {
    let next = Infinity;
    const now = this.now();
    for (const c of this.conns.values()) {
      const d = c.endpoint.nextDeadline();
      if (d !== -1) next = Math.min(next, d - now);
    }
    return next;
  }

  private tick(): void {
    const now = this.now();
    for (const c of this.conns.values()) {
      const d = c.endpoint.nextDeadline();
      if (d !== -1 && d <= now) c.endpoint.tick(now);
    }
  }

  private handlePacket(n: number): void {
    const ip = this.ip;
    const tcp = this.tcp;
    if (!decodeIpv4(this.rx, 0, n, ip) || ip.truncated || ip.protocol !== IPPROTO_TCP || !this.isPeerAddress(ip.dst)) {
      this.ignored++;
      return;
    }
    if (!decodeTcp(this.rx, ip.payloadOffset, ip.payloadLength, tcp) || tcp.truncated) {
      this.ignored++;
      return;
    }
    if (!ip.checksumOk || tcpChecksum(this.rx, ip.payloadOffset, ip.payloadLength, ip.src, ip.dst) !== 0) {
      this.badChecksums++;
      return;
    }
    const seg = this.seg;
    seg.seq = tcp.seq;
    seg.ack = tcp.ack;
    seg.flags = tcp.flags & 0x3f;
    seg.window = tcp.window;
    seg.len = tcp.payloadLength;
    const now = this.now();
    let conn = this.conns.get(this.connKey(ip.dst, tcp.dstPort, ip.src, tcp.srcPort)) ?? null;
    if (conn === null && (seg.flags & (SYN | ACK | RST)) === SYN) {
      const listener = this.listeners.get(tcp.dstPort);
      if (listener !== undefined && listener.answer) {
        conn = this.newConn(ip.dst, tcp.dstPort, ip.src, tcp.srcPort, listener.options);
        conn.endpoint.listen(now);
      }
    }
    if (conn === null) {
      // Nobody here: a silent host (no RST), which is what SYN-SENT needs.
      this.unanswered++;
      this.record('kernel', null, seg, now, describeOptions(tcp), false, 'no answer', `${ipv4ToString(ip.dst)}:${tcp.dstPort}`);
      return;
    }
    this.noteKernel(conn, seg);
    this.record('kernel', conn, seg, now, describeOptions(tcp), false, '');
    conn.options.beforeKernelSegment?.(seg, conn);
    conn.endpoint.segmentArrives(seg, this.now());
  }

  private noteKernel(conn: PeerConn, seg: Readonly<Segment>): void {
    if (seg.flags & SYN && conn.kernelIss === null) conn.kernelIss = seg.seq;
    if (seg.flags & SYN) conn.kernelSyns++;
    if (seg.flags & RST) conn.resetByKernel = true;
    if (seg.flags & FIN) {
      conn.kernelFins++;
      conn.kernelFinSeq = (seg.seq + seg.len) >>> 0;
    }
    conn.kernelSegments++;
  }
}

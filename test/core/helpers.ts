/**
 * Test kit for the RFC 9293 endpoint model, in the manner of smoltcp's socket tests:
 * state factories that drive a real `Endpoint` through real segments, a recording sink,
 * segment templates in tcpdump notation and draining assertions.
 *
 * Conventions used by every state test:
 * - our ISS is LOCAL_ISS (connections are opened at time 0, so ISS = options.iss);
 * - the peer's ISS is REMOTE_ISS and it offers PEER_WINDOW;
 * - factories leave the sink empty: a test sees only what its own events cause;
 * - `expectSent`, `expectChanges` and `expectNotified` drain what they check.
 *
 * The sink checks every state change against the transition table (the edge must be a
 * row of TRANSITIONS, and a linux-only row may only fire under the linux profile), so
 * every test of the suite also tests the table.
 */
import { describe, expect, it } from 'vitest';
import { Endpoint, type EndpointSink, type Notification } from '../../src/core/endpoint.js';
import { profileByName, type Profile, type ProfileName } from '../../src/core/profile.js';
import { copySegment, flagsFromTcpdump, flagsToTcpdump, type Segment } from '../../src/core/segment.js';
import type { TcpState } from '../../src/core/states.js';
import { TRANSITION_BY_ID, type TransitionId, type TransitionRule } from '../../src/core/transitions.js';

export const LOCAL_ISS = 10_000;
export const REMOTE_ISS = 50_000;
/** The window the peer advertises unless a test says otherwise. */
export const PEER_WINDOW = 64_000;
export const PROFILES: readonly ProfileName[] = ['rfc9293', 'linux'];

/** Short names for the sequence spaces: L = our ISS, R = the peer's ISS. */
export const L = LOCAL_ISS;
export const R = REMOTE_ISS;

// ---------------------------------------------------------------------------
// Recording sink
// ---------------------------------------------------------------------------

export interface Sent {
  readonly seg: Segment;
  readonly now: number;
}

export interface Change {
  readonly from: TcpState;
  readonly to: TcpState;
  readonly rule: TransitionId;
  readonly now: number;
}

export interface Note {
  readonly what: Notification;
  readonly bytes: number;
  readonly now: number;
}

function isTransitionId(id: string): id is TransitionId {
  return Object.prototype.hasOwnProperty.call(TRANSITION_BY_ID, id);
}

export class RecordingSink implements EndpointSink {
  sent: Sent[] = [];
  changes: Change[] = [];
  notes: Note[] = [];
  /** Every state change since construction (never drained). */
  readonly history: Change[] = [];

  constructor(private readonly profile: ProfileName) {}

  send(seg: Readonly<Segment>, now: number): void {
    this.sent.push({ seg: copySegment(seg), now });
  }

  stateChanged(from: TcpState, to: TcpState, rule: TransitionRule, now: number): void {
    if (!isTransitionId(rule.id)) throw new Error(`state change by unknown rule ${rule.id}`);
    const row = TRANSITION_BY_ID[rule.id];
    if (row !== rule) throw new Error(`rule ${rule.id} is not the table's row`);
    if (!(row.from as readonly TcpState[]).includes(from) || row.to !== to) {
      throw new Error(`rule ${rule.id} does not describe ${from} → ${to}`);
    }
    if (row.profile !== undefined && row.profile !== this.profile) {
      throw new Error(`rule ${rule.id} is ${row.profile}-only but fired under ${this.profile}`);
    }
    const change: Change = { from, to, rule: rule.id, now };
    this.changes.push(change);
    this.history.push(change);
  }

  notify(what: Notification, bytes: number, now: number): void {
    this.notes.push({ what, bytes, now });
  }

  clear(): void {
    this.sent = [];
    this.changes = [];
    this.notes = [];
  }
}

const SINKS = new WeakMap<Endpoint, RecordingSink>();

export function sinkOf(ep: Endpoint): RecordingSink {
  const sink = SINKS.get(ep);
  if (sink === undefined) throw new Error('endpoint was not made by the test helpers');
  return sink;
}

// ---------------------------------------------------------------------------
// Segment templates
// ---------------------------------------------------------------------------

export interface SegSpec {
  /** tcpdump notation: `S`, `S.`, `.`, `P.`, `F.`, `FP.`, `R`, `R.` */
  readonly flags: string;
  readonly seq?: number;
  readonly ack?: number;
  readonly len?: number;
  readonly window?: number;
}

function parseFlags(text: string): number {
  const flags = flagsFromTcpdump(text);
  if (flags === undefined) throw new Error(`bad flags ${text}`);
  return flags;
}

/** A segment from the peer; the window defaults to PEER_WINDOW. */
export function seg(spec: SegSpec): Segment {
  return {
    seq: (spec.seq ?? 0) >>> 0,
    ack: (spec.ack ?? 0) >>> 0,
    flags: parseFlags(spec.flags),
    window: spec.window ?? PEER_WINDOW,
    len: spec.len ?? 0,
  };
}

/** Feeds a segment from the peer to the endpoint. */
export function arrive(ep: Endpoint, spec: SegSpec, now = 0): void {
  ep.segmentArrives(seg(spec), now);
}

// ---------------------------------------------------------------------------
// Assertions (draining)
// ---------------------------------------------------------------------------

interface ShownSegment {
  flags: string;
  seq: number;
  ack: number;
  len: number;
  window?: number;
}

/**
 * Asserts exactly these segments were sent since the last check, in order, and drains
 * them. `ack` defaults to 0 (as on the wire without ACK), `len` to 0; `window` is only
 * compared when given.
 */
export function expectSent(ep: Endpoint, expected: readonly SegSpec[]): void {
  const sink = sinkOf(ep);
  const sent = sink.sent;
  sink.sent = [];
  const want: ShownSegment[] = expected.map((e) => {
    const s: ShownSegment = {
      flags: flagsToTcpdump(parseFlags(e.flags)),
      seq: (e.seq ?? 0) >>> 0,
      ack: (e.ack ?? 0) >>> 0,
      len: e.len ?? 0,
    };
    if (e.window !== undefined) s.window = e.window;
    return s;
  });
  const got: ShownSegment[] = sent.map(({ seg: g }, i) => {
    const s: ShownSegment = { flags: flagsToTcpdump(g.flags), seq: g.seq, ack: g.ack, len: g.len };
    if (expected[i]?.window !== undefined) s.window = g.window;
    return s;
  });
  expect(got).toEqual(want);
}

export function expectNothingSent(ep: Endpoint): void {
  expectSent(ep, []);
}

/** Drains and returns the segments sent so far (for tests that inspect them). */
export function takeSent(ep: Endpoint): Segment[] {
  const sink = sinkOf(ep);
  const sent = sink.sent.map((s) => s.seg);
  sink.sent = [];
  return sent;
}

/** Forgets everything recorded so far (segments, changes, notifications). */
export function drain(ep: Endpoint): void {
  sinkOf(ep).clear();
}

export function expectState(ep: Endpoint, state: TcpState): void {
  expect(ep.state).toBe(state);
}

/** Asserts the rules of the state changes since the last check, in order, and drains them. */
export function expectChanges(ep: Endpoint, rules: readonly TransitionId[]): void {
  const sink = sinkOf(ep);
  const got = sink.changes.map((c) => c.rule);
  sink.changes = [];
  expect(got).toEqual(rules);
}

export function expectNoChange(ep: Endpoint): void {
  expectChanges(ep, []);
}

/** Asserts the notifications since the last check (`'data:100'` for data), and drains them. */
export function expectNotified(ep: Endpoint, what: readonly string[]): void {
  const sink = sinkOf(ep);
  const got = sink.notes.map((n) => (n.what === 'data' ? `data:${n.bytes}` : n.what));
  sink.notes = [];
  expect(got).toEqual(what);
}

/** Nothing sent, no state change, no notification, state as given. */
export function expectQuiet(ep: Endpoint, state: TcpState): void {
  expectState(ep, state);
  expectNothingSent(ep);
  expectNoChange(ep);
  expectNotified(ep, []);
}

// ---------------------------------------------------------------------------
// Time
// ---------------------------------------------------------------------------

/** Fires every timer due up to and including `until`, at its deadline. Returns the ticks' times. */
export function advance(ep: Endpoint, until: number): number[] {
  const times: number[] = [];
  for (let guard = 0; guard < 10_000; guard++) {
    const d = ep.nextDeadline();
    if (d === -1 || d > until) return times;
    times.push(d);
    ep.tick(d);
  }
  throw new Error('timers keep firing: runaway');
}

// ---------------------------------------------------------------------------
// State factories (driven through real segments at time 0)
// ---------------------------------------------------------------------------

export interface Opts {
  readonly profile?: ProfileName;
  /** Overrides of single profile settings (e.g. `{ rfc1337: true }`). */
  readonly tweak?: Partial<Profile>;
  readonly reading?: boolean;
  readonly rcvBuffer?: number;
  readonly mss?: number;
  /** Our ISS base (ISS at time 0); defaults to LOCAL_ISS. */
  readonly iss?: number;
  /** The peer's ISS; defaults to REMOTE_ISS. */
  readonly peerIss?: number;
  /** The window the peer offers in the handshake; defaults to PEER_WINDOW. */
  readonly peerWindow?: number;
}

export interface OpenOpts extends Opts {
  /** Reached by a passive OPEN (LISTEN, rcv SYN) rather than an active one. */
  readonly passive?: boolean;
}

export interface CloseOpts extends OpenOpts {
  /** How the application closes: close() (orphans under linux) or shutdown(SHUT_WR). */
  readonly via?: 'close' | 'shutdown';
}

function peerIss(o: Opts): number {
  return (o.peerIss ?? REMOTE_ISS) >>> 0;
}

function finish(ep: Endpoint, state: TcpState): Endpoint {
  if (ep.state !== state) throw new Error(`factory reached ${ep.state}, wanted ${state}`);
  sinkOf(ep).clear();
  return ep;
}

/** A fresh endpoint in CLOSED. */
export function closed(o: Opts = {}): Endpoint {
  const profile = o.profile ?? 'rfc9293';
  const sink = new RecordingSink(profile);
  const ep = new Endpoint(
    {
      profile: { ...profileByName(profile), ...o.tweak },
      iss: o.iss ?? LOCAL_ISS,
      ...(o.reading !== undefined ? { reading: o.reading } : {}),
      ...(o.mss !== undefined ? { mss: o.mss } : {}),
      ...(o.rcvBuffer !== undefined ? { rcvBuffer: o.rcvBuffer } : {}),
    },
    sink,
  );
  SINKS.set(ep, sink);
  return ep;
}

export function listening(o: Opts = {}): Endpoint {
  const ep = closed(o);
  ep.listen(0);
  return finish(ep, 'LISTEN');
}

export function synSent(o: Opts = {}): Endpoint {
  const ep = closed(o);
  ep.connect(0);
  return finish(ep, 'SYN_SENT');
}

/** SYN-RECEIVED by a passive open (default) or by a simultaneous open (`passive: false`). */
export function synReceived(o: OpenOpts = {}): Endpoint {
  const r = peerIss(o);
  const window = o.peerWindow ?? PEER_WINDOW;
  if (o.passive === false) {
    const ep = synSent(o);
    arrive(ep, { flags: 'S', seq: r, window });
    return finish(ep, 'SYN_RECEIVED');
  }
  const ep = listening(o);
  arrive(ep, { flags: 'S', seq: r, window });
  return finish(ep, 'SYN_RECEIVED');
}

/** ESTABLISHED by an active open (default) or a passive one. */
export function established(o: OpenOpts = {}): Endpoint {
  const r = peerIss(o);
  const window = o.peerWindow ?? PEER_WINDOW;
  if (o.passive === true) {
    const ep = synReceived(o);
    arrive(ep, { flags: '.', seq: r + 1, ack: ep.iss + 1, window });
    return finish(ep, 'ESTABLISHED');
  }
  const ep = synSent(o);
  arrive(ep, { flags: 'S.', seq: r, ack: ep.iss + 1, window });
  return finish(ep, 'ESTABLISHED');
}

function appClose(ep: Endpoint, o: CloseOpts): void {
  if (o.via === 'shutdown') ep.shutdown(0);
  else ep.close(0);
}

/** ESTABLISHED, then close() (default) or shutdown(): our FIN is in flight. */
export function finWait1(o: CloseOpts = {}): Endpoint {
  const ep = established(o);
  appClose(ep, o);
  return finish(ep, 'FIN_WAIT_1');
}

/** FIN-WAIT-1, then the peer acknowledges our FIN. */
export function finWait2(o: CloseOpts = {}): Endpoint {
  const ep = finWait1(o);
  arrive(ep, { flags: '.', seq: peerIss(o) + 1, ack: ep.sndNxt, window: o.peerWindow ?? PEER_WINDOW });
  return finish(ep, 'FIN_WAIT_2');
}

/** ESTABLISHED, then the peer's FIN. */
export function closeWait(o: OpenOpts = {}): Endpoint {
  const ep = established(o);
  arrive(ep, { flags: 'F.', seq: peerIss(o) + 1, ack: ep.sndNxt, window: o.peerWindow ?? PEER_WINDOW });
  return finish(ep, 'CLOSE_WAIT');
}

/** FIN-WAIT-1, then the peer's FIN crossing ours (it does not acknowledge our FIN). */
export function closing(o: CloseOpts = {}): Endpoint {
  const ep = finWait1(o);
  arrive(ep, { flags: 'F.', seq: peerIss(o) + 1, ack: ep.sndUna, window: o.peerWindow ?? PEER_WINDOW });
  return finish(ep, 'CLOSING');
}

/** CLOSE-WAIT, then close() (default) or shutdown(): our FIN is in flight. */
export function lastAck(o: CloseOpts = {}): Endpoint {
  const ep = closeWait(o);
  appClose(ep, o);
  return finish(ep, 'LAST_ACK');
}

/** FIN-WAIT-2, then the peer's FIN. */
export function timeWait(o: CloseOpts = {}): Endpoint {
  const ep = finWait2(o);
  arrive(ep, { flags: 'F.', seq: peerIss(o) + 1, ack: ep.sndNxt, window: o.peerWindow ?? PEER_WINDOW });
  return finish(ep, 'TIME_WAIT');
}

/** An endpoint that went through a connection and is back in CLOSED (after LAST-ACK). */
export function closedAfterConnection(o: CloseOpts = {}): Endpoint {
  const ep = lastAck(o);
  arrive(ep, { flags: '.', seq: peerIss(o) + 2, ack: ep.sndNxt });
  return finish(ep, 'CLOSED');
}

export type Factory = (o?: CloseOpts) => Endpoint;

/** The synchronized states (RFC 9293 §3.10.7.4) with their factories. */
export const SYNCHRONIZED: ReadonlyArray<readonly [TcpState, Factory]> = [
  ['ESTABLISHED', established],
  ['FIN_WAIT_1', finWait1],
  ['FIN_WAIT_2', finWait2],
  ['CLOSE_WAIT', closeWait],
  ['CLOSING', closing],
  ['LAST_ACK', lastAck],
  ['TIME_WAIT', timeWait],
];

// ---------------------------------------------------------------------------
// Rules every synchronized state shares (RFC 9293 §3.10.7.4 first, second, fourth and
// fifth steps with RFC 5961), run by each state's own test file against its factory.
// ---------------------------------------------------------------------------

export interface SyncCase {
  readonly state: TcpState;
  readonly make: (profile: ProfileName) => Endpoint;
  /** SND.NXT and RCV.NXT the factory leaves. */
  readonly sndNxt: number;
  readonly rcvNxt: number;
  /** The rule an exact RST takes, and the notifications it gives. */
  readonly resetRule: TransitionId;
  readonly resetNotes: readonly string[];
}

export function synchronizedRules(c: SyncCase): void {
  describe.each(PROFILES)(`${c.state} (%s): shared synchronized-state rules`, (profile) => {
    const make = (): Endpoint => c.make(profile);
    const challenge = { flags: '.', seq: c.sndNxt, ack: c.rcvNxt };

    it('the factory leaves SND.NXT and RCV.NXT as expected', () => {
      const ep = make();
      expect(ep.state).toBe(c.state);
      expect(ep.sndNxt).toBe(c.sndNxt >>> 0);
      expect(ep.rcvNxt).toBe(c.rcvNxt >>> 0);
    });

    it(`exact RST → CLOSED (${c.resetRule}), nothing sent, timers off`, () => {
      const ep = make();
      arrive(ep, { flags: 'R', seq: c.rcvNxt });
      expectState(ep, 'CLOSED');
      expectChanges(ep, [c.resetRule]);
      expectNotified(ep, c.resetNotes);
      expectNothingSent(ep);
      expect(ep.nextDeadline()).toBe(-1);
    });

    it('exact RST,ACK → CLOSED as well, whatever its ACK field', () => {
      const ep = make();
      arrive(ep, { flags: 'R.', seq: c.rcvNxt, ack: c.sndNxt + 99_999 });
      expectState(ep, 'CLOSED');
      expectChanges(ep, [c.resetRule]);
      expectNothingSent(ep);
    });

    it('RST in the window but not exact → challenge ACK <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK> (RFC 5961 §3.2)', () => {
      const ep = make();
      arrive(ep, { flags: 'R', seq: c.rcvNxt + 1 });
      expectSent(ep, [challenge]);
      expectState(ep, c.state);
      expectChanges(ep, []);
      expectNotified(ep, []);
    });

    it('RST at the last octet of the window → challenge ACK', () => {
      const ep = make();
      arrive(ep, { flags: 'R', seq: c.rcvNxt + ep.rcvWnd - 1 });
      expectSent(ep, [challenge]);
      expectState(ep, c.state);
    });

    it.each([
      ['just before RCV.NXT', -1],
      ['at RCV.NXT + RCV.WND', 65_535],
      ['far ahead', 1_000_000],
      ['2^31 away', 0x8000_0000],
    ])('RST outside the window (%s) → dropped silently', (_name, offset) => {
      const ep = make();
      arrive(ep, { flags: 'R', seq: c.rcvNxt + offset });
      expectQuiet(ep, c.state);
    });

    it('SYN at RCV.NXT → challenge ACK, no state change (RFC 5961 §4)', () => {
      const ep = make();
      arrive(ep, { flags: 'S', seq: c.rcvNxt });
      expectSent(ep, [challenge]);
      expectState(ep, c.state);
      expectChanges(ep, []);
    });

    it('SYN,ACK inside the window → challenge ACK', () => {
      const ep = make();
      arrive(ep, { flags: 'S.', seq: c.rcvNxt + 500, ack: c.sndNxt });
      expectSent(ep, [challenge]);
      expectState(ep, c.state);
    });

    it("the peer's old SYN (SEG.SEQ = IRS) → ACK (unacceptable sequence number)", () => {
      const ep = make();
      arrive(ep, { flags: 'S', seq: R });
      expectSent(ep, [challenge]);
      expectState(ep, c.state);
    });

    it('an ACK beyond the receive window → <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>', () => {
      const ep = make();
      arrive(ep, { flags: '.', seq: c.rcvNxt + 70_000, ack: c.sndNxt });
      expectSent(ep, [challenge]);
      expectState(ep, c.state);
    });

    it('an old duplicate segment (before RCV.NXT) → ACK', () => {
      const ep = make();
      arrive(ep, { flags: 'P.', seq: c.rcvNxt - 10, ack: c.sndNxt, len: 10 });
      expectSent(ep, [challenge]);
      expectNotified(ep, []);
      expectState(ep, c.state);
    });

    it('ACK of something not yet sent (SEG.ACK > SND.NXT) → ACK and drop (RFC 5961 §5.2)', () => {
      const ep = make();
      const una = ep.sndUna;
      arrive(ep, { flags: '.', seq: c.rcvNxt, ack: c.sndNxt + 1 });
      expectSent(ep, [challenge]);
      expectState(ep, c.state);
      expectChanges(ep, []);
      expect(ep.sndUna).toBe(una);
    });

    it('ACK too old (SEG.ACK < SND.UNA - MAX.SND.WND) → ACK and drop (RFC 5961 §5.2)', () => {
      const ep = make();
      arrive(ep, { flags: '.', seq: c.rcvNxt, ack: ep.sndUna - ep.maxSndWnd - 1 });
      expectSent(ep, [challenge]);
      expectState(ep, c.state);
      expectChanges(ep, []);
    });

    it('a segment without ACK is dropped silently', () => {
      const ep = make();
      arrive(ep, { flags: 'P', seq: c.rcvNxt, len: 10 });
      expectQuiet(ep, c.state);
    });

    it('a pure ACK at RCV.NXT changing nothing is silent', () => {
      const ep = make();
      arrive(ep, { flags: '.', seq: c.rcvNxt, ack: ep.sndUna });
      expectQuiet(ep, c.state);
    });

    it('listen and connect → error "connection already exists"', () => {
      const ep = make();
      expect(() => ep.listen(0)).toThrow(`listen in ${c.state}: connection already exists`);
      expect(() => ep.connect(0)).toThrow(`connect in ${c.state}: connection already exists`);
      expectQuiet(ep, c.state);
    });
  });
}

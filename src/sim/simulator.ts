/**
 * Two endpoints of the core model joined by a simulated network: one-way delay,
 * chosen segments dropped, crafted segments injected, the scenario's user calls at
 * their times, and timers fired as simulated time passes. The run ends when nothing is
 * pending (TIME-WAIT expiry included) or at the scenario's time limit.
 */
import { ConnectionCallError } from '../core/errors.js';
import { Endpoint, type EndpointSink, type Notification } from '../core/endpoint.js';
import { profileByName, type ProfileName } from '../core/profile.js';
import { ACK, FIN, newSegment, RST, SYN, flagsToTcpdump, type Segment } from '../core/segment.js';
import type { TcpState } from '../core/states.js';
import type { TransitionRule } from '../core/transitions.js';
import { EventQueue } from './event-queue.js';
import {
  ScenarioError,
  type CallStep,
  type DropStep,
  type EndpointId,
  type InjectStep,
  type Scenario,
  type SegmentKind,
} from './scenario.js';

export interface SimTransition {
  /** Global order of everything recorded in the run (ties at the same instant). */
  readonly order: number;
  readonly at: number;
  readonly endpoint: EndpointId;
  readonly from: TcpState;
  readonly to: TcpState;
  /** The transition rule id (see `tcpstate diagram --all`). */
  readonly cause: string;
  /** The rule's event text, e.g. "rcv SYN". */
  readonly event: string;
}

export interface SimSegment {
  /** Global order of everything recorded in the run (ties at the same instant). */
  readonly order: number;
  readonly at: number;
  readonly from: EndpointId;
  readonly to: EndpointId;
  /** tcpdump notation. */
  readonly flags: string;
  /** Relative to the sender's ISS. */
  readonly seq: number;
  /** Relative to the receiver's ISS (0 without ACK). */
  readonly ack: number;
  readonly len: number;
  readonly window: number;
  readonly dropped: boolean;
  readonly injected: boolean;
  /** When it reaches the receiver, or null if dropped. */
  readonly arrives: number | null;
  /** States of the sender and receiver when it was sent. */
  readonly senderState: TcpState;
}

export interface SimNotification {
  /** Global order of everything recorded in the run (ties at the same instant). */
  readonly order: number;
  readonly at: number;
  readonly endpoint: EndpointId;
  readonly what: Notification;
  readonly bytes: number;
}

export interface SimCall {
  /** Global order of everything recorded in the run (ties at the same instant). */
  readonly order: number;
  readonly at: number;
  readonly endpoint: EndpointId;
  readonly call: string;
  readonly detail: string;
}

export interface SimResult {
  readonly name: string;
  readonly profile: ProfileName;
  readonly delayMs: number;
  readonly calls: readonly SimCall[];
  readonly transitions: readonly SimTransition[];
  readonly segments: readonly SimSegment[];
  readonly notifications: readonly SimNotification[];
  readonly final: { readonly a: TcpState; readonly b: TcpState };
  /** Simulated time when the run ended. */
  readonly endMs: number;
  /** True when the run hit the scenario's time limit with work still pending. */
  readonly truncated: boolean;
}

type SimEvent =
  | { readonly time: number; readonly type: 'step'; readonly step: CallStep | InjectStep; readonly index: number }
  | { readonly time: number; readonly type: 'deliver'; readonly to: EndpointId; readonly seg: Segment };

/** Bound on processed events, against a scenario that would ping-pong forever at zero delay. */
const MAX_EVENTS = 1_000_000;

export interface SimulateOptions {
  /** Overrides the scenario's profile. */
  readonly profile?: ProfileName;
}

export function simulate(scenario: Scenario, options: SimulateOptions = {}): SimResult {
  return new Simulation(scenario, options.profile ?? scenario.profile).run();
}

function kindOf(seg: Readonly<Segment>): SegmentKind {
  if (seg.flags & RST) return 'rst';
  if (seg.flags & SYN) return seg.flags & ACK ? 'synack' : 'syn';
  if (seg.flags & FIN) return 'fin';
  if (seg.len > 0) return 'data';
  return 'ack';
}

function other(id: EndpointId): EndpointId {
  return id === 'a' ? 'b' : 'a';
}

class Simulation {
  private now = 0;
  private readonly queue = new EventQueue<SimEvent>();
  private readonly endpoints: { a: Endpoint; b: Endpoint };
  private readonly calls: SimCall[] = [];
  private readonly transitions: SimTransition[] = [];
  private readonly segments: SimSegment[] = [];
  private readonly notifications: SimNotification[] = [];
  private readonly sentByKind = new Map<string, number>();
  private readonly drops: readonly DropStep[];
  private order = 0;

  constructor(
    private readonly scenario: Scenario,
    private readonly profileName: ProfileName,
  ) {
    const profile = profileByName(profileName);
    const make = (id: EndpointId, defaultIss: number): Endpoint => {
      const cfg = scenario.endpoints[id];
      return new Endpoint(
        {
          profile,
          iss: cfg.iss ?? defaultIss,
          reading: cfg.reading ?? true,
          ...(cfg.mss !== undefined ? { mss: cfg.mss } : {}),
          ...(cfg.rcvBuffer !== undefined ? { rcvBuffer: cfg.rcvBuffer } : {}),
        },
        this.sinkFor(id),
      );
    };
    // Distinct, recognisable ISS bases; relative numbers hide them anyway.
    this.endpoints = { a: make('a', 1_000_000), b: make('b', 3_000_000_000) };
    this.drops = scenario.steps.filter((s): s is DropStep => s.kind === 'drop');
    scenario.steps.forEach((step, index) => {
      if (step.kind !== 'drop') this.queue.push({ time: step.at, type: 'step', step, index });
    });
  }

  private sinkFor(id: EndpointId): EndpointSink {
    return {
      send: (seg, now) => this.onSend(id, seg, now),
      stateChanged: (from: TcpState, to: TcpState, rule: TransitionRule, now: number) => {
        this.transitions.push({ order: this.order++, at: now, endpoint: id, from, to, cause: rule.id, event: rule.event });
      },
      notify: (what, bytes, now) => {
        this.notifications.push({ order: this.order++, at: now, endpoint: id, what, bytes });
      },
    };
  }

  private onSend(from: EndpointId, seg: Readonly<Segment>, now: number): void {
    const to = other(from);
    const kind = kindOf(seg);
    const key = `${from}:${kind}`;
    const nth = (this.sentByKind.get(key) ?? 0) + 1;
    this.sentByKind.set(key, nth);
    const dropped = this.drops.some((d) => d.from === from && d.segment === kind && d.nth === nth);
    const arrives = dropped ? null : now + this.scenario.network.delayMs;
    this.record(from, to, seg, now, dropped, false, arrives);
    if (arrives !== null) this.queue.push({ time: arrives, type: 'deliver', to, seg: copy(seg) });
  }

  private record(
    from: EndpointId,
    to: EndpointId,
    seg: Readonly<Segment>,
    now: number,
    dropped: boolean,
    injected: boolean,
    arrives: number | null,
  ): void {
    const sender = this.endpoints[from];
    const receiver = this.endpoints[to];
    this.segments.push({
      order: this.order++,
      at: now,
      from,
      to,
      flags: flagsToTcpdump(seg.flags),
      seq: (seg.seq - sender.iss) | 0,
      ack: seg.flags & ACK ? (seg.ack - receiver.iss) | 0 : 0,
      len: seg.len,
      window: seg.window,
      dropped,
      injected,
      arrives,
      senderState: sender.state,
    });
  }

  run(): SimResult {
    let processed = 0;
    let truncated = false;
    for (;;) {
      const eventTime = this.queue.peekTime();
      const timerTime = this.nextTimer();
      if (eventTime === undefined && timerTime === undefined) break;
      const next = Math.min(eventTime ?? Infinity, timerTime ?? Infinity);
      if (next > this.scenario.maxTimeMs) {
        truncated = true;
        this.now = this.scenario.maxTimeMs;
        break;
      }
      if (++processed > MAX_EVENTS) {
        truncated = true;
        break;
      }
      this.now = next;
      if (eventTime !== undefined && eventTime <= next) {
        const ev = this.queue.pop() as SimEvent;
        this.handle(ev);
      } else {
        for (const id of ['a', 'b'] as const) {
          const ep = this.endpoints[id];
          const d = ep.nextDeadline();
          if (d !== -1 && d <= this.now) ep.tick(this.now);
        }
      }
    }
    return {
      name: this.scenario.name,
      profile: this.profileName,
      delayMs: this.scenario.network.delayMs,
      calls: this.calls,
      transitions: this.transitions,
      segments: this.segments,
      notifications: this.notifications,
      final: { a: this.endpoints.a.state, b: this.endpoints.b.state },
      endMs: this.now,
      truncated,
    };
  }

  private nextTimer(): number | undefined {
    let t: number | undefined;
    for (const ep of [this.endpoints.a, this.endpoints.b]) {
      const d = ep.nextDeadline();
      if (d !== -1 && (t === undefined || d < t)) t = d;
    }
    return t;
  }

  private handle(ev: SimEvent): void {
    if (ev.type === 'deliver') {
      this.endpoints[ev.to].segmentArrives(ev.seg, this.now);
      return;
    }
    const step = ev.step;
    if (step.kind === 'inject') {
      this.inject(step);
      return;
    }
    try {
      this.apply(step);
    } catch (err: unknown) {
      if (err instanceof ConnectionCallError) {
        throw new ScenarioError(
          `steps[${ev.index}] (at ${step.at} ms, ${step.endpoint} ${step.call})`,
          `cannot apply: ${err.message}`,
        );
      }
      throw err;
    }
  }

  private apply(step: CallStep): void {
    const ep = this.endpoints[step.endpoint];
    const order = this.order++;
    let detail = '';
    switch (step.call) {
      case 'listen':
        ep.listen(this.now);
        break;
      case 'connect':
        ep.connect(this.now);
        break;
      case 'send':
        detail = `${step.bytes ?? 0} bytes`;
        ep.send(step.bytes ?? 0, this.now);
        break;
      case 'close':
        ep.close(this.now);
        break;
      case 'shutdown':
        ep.shutdown(this.now);
        break;
      case 'abort':
        ep.abort(this.now);
        break;
      case 'read':
        if (step.enabled !== undefined) {
          detail = step.enabled ? 'resume reading' : 'stop reading';
          ep.setReading(step.enabled, this.now);
        } else {
          const n = ep.receive(step.bytes ?? 0, this.now);
          detail = `${n} bytes`;
        }
        break;
    }
    this.calls.push({ order, at: this.now, endpoint: step.endpoint, call: step.call, detail });
  }

  /** A crafted segment: seq = receiver's RCV.NXT + seqOffset, ack = receiver's SND.NXT + ackOffset. */
  private inject(step: InjectStep): void {
    const receiver = this.endpoints[step.to];
    const seg = newSegment();
    seg.flags = step.flags;
    seg.seq = (receiver.rcvNxt + step.seqOffset) >>> 0;
    seg.ack = step.flags & ACK ? (receiver.sndNxt + step.ackOffset) >>> 0 : 0;
    seg.len = step.len;
    seg.window = step.window ?? this.endpoints[other(step.to)].rcvWnd;
    this.record(other(step.to), step.to, seg, this.now, false, true, this.now);
    receiver.segmentArrives(seg, this.now);
  }
}

function copy(seg: Readonly<Segment>): Segment {
  return { seq: seg.seq, ack: seg.ack, flags: seg.flags, window: seg.window, len: seg.len };
}

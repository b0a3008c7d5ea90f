/**
 * Meta-test of the transition table (src/core/transitions.ts) against the model.
 *
 * 1. A set of scenarios, each driving real endpoints through real segments, calls and
 *    timers, must take EVERY rule of TRANSITIONS at least once — a dead row fails here —
 *    and every (rule, from-state) pair except the few documented as unreachable.
 * 2. Every state change the model reports must be an edge of the table; the recording
 *    sink (helpers.ts) checks that for every test of the suite, and a seeded random walk
 *    here checks it, and the TCB invariants, under thousands of arbitrary events.
 */
import { describe, expect, it } from 'vitest';
import type { Endpoint } from '../../src/core/endpoint.js';
import { ConnectionCallError } from '../../src/core/errors.js';
import { seqLe } from '../../src/core/seq.js';
import { STATE_INFO, TCP_STATES, type TcpState } from '../../src/core/states.js';
import { rng } from '../helpers/rng.js';
import { isAllowedTransition, TRANSITION_BY_ID, TRANSITIONS, type TransitionId } from '../../src/core/transitions.js';
import type { ProfileName } from '../../src/core/profile.js';
import {
  advance,
  arrive,
  closed,
  closedAfterConnection,
  closeWait,
  closing,
  established,
  finWait1,
  finWait2,
  L,
  lastAck,
  listening,
  R,
  sinkOf,
  synReceived,
  synSent,
  timeWait,
  type Change,
} from './helpers.js';

type Scenario = readonly [name: string, run: () => Endpoint];

const withUnread = (ep: Endpoint, seq: number, flags = 'P.'): Endpoint => {
  arrive(ep, { flags, seq, ack: ep.sndUna, len: 10 });
  return ep;
};

const SCENARIOS: readonly Scenario[] = [
  ['LISTEN by passive open', () => listening()],
  ['SYN-SENT by active open', () => synSent()],
  ['LISTEN → SYN-SENT by connect', () => { const ep = listening(); ep.connect(0); return ep; }],
  ['LISTEN → SYN-SENT by send', () => { const ep = listening(); ep.send(1, 0); return ep; }],
  ['passive handshake', () => established({ passive: true })],
  ['active handshake', () => established()],
  ['simultaneous open', () => {
    const ep = synReceived({ passive: false });
    arrive(ep, { flags: '.', seq: R + 1, ack: L + 1 });
    return ep;
  }],
  ['close a listener', () => { const ep = listening(); ep.close(0); return ep; }],
  ['close in SYN-SENT', () => { const ep = synSent(); ep.close(0); return ep; }],
  ['close in SYN-RECEIVED', () => { const ep = synReceived(); ep.close(0); return ep; }],
  ['close in SYN-RECEIVED behind queued data', () => {
    const ep = synReceived();
    ep.send(5, 0);
    ep.close(0);
    arrive(ep, { flags: '.', seq: R + 1, ack: L + 1 });
    return ep;
  }],
  ['active close to TIME-WAIT and expiry', () => { const ep = timeWait(); advance(ep, 1e9); return ep; }],
  ['passive close to CLOSED', () => closedAfterConnection()],
  ['simultaneous close', () => {
    const ep = closing();
    arrive(ep, { flags: '.', seq: R + 2, ack: L + 2 });
    return ep;
  }],
  ['FIN acknowledging our FIN in FIN-WAIT-1', () => {
    const ep = finWait1();
    arrive(ep, { flags: 'F.', seq: R + 1, ack: L + 2 });
    return ep;
  }],
  ['RST refuses an active open', () => { const ep = synSent(); arrive(ep, { flags: 'R.', ack: L + 1 }); return ep; }],
  ['RST in passive SYN-RECEIVED', () => { const ep = synReceived(); arrive(ep, { flags: 'R', seq: R + 1 }); return ep; }],
  ['RST in active SYN-RECEIVED', () => {
    const ep = synReceived({ passive: false });
    arrive(ep, { flags: 'R', seq: R + 1 });
    return ep;
  }],
  ...([
    ['ESTABLISHED', () => established(), R + 1],
    ['FIN-WAIT-1', () => finWait1(), R + 1],
    ['FIN-WAIT-2', () => finWait2(), R + 1],
    ['CLOSE-WAIT', () => closeWait(), R + 2],
    ['CLOSING', () => closing(), R + 2],
    ['LAST-ACK', () => lastAck(), R + 2],
    ['TIME-WAIT', () => timeWait(), R + 2],
  ] as const).flatMap(([name, make, rcvNxt]): Scenario[] => [
    [`RST in ${name}`, () => { const ep = make(); arrive(ep, { flags: 'R', seq: rcvNxt }); return ep; }],
    [`ABORT in ${name}`, () => { const ep = make(); ep.abort(0); return ep; }],
  ]),
  ['SYN in passive SYN-RECEIVED', () => { const ep = synReceived(); arrive(ep, { flags: 'S', seq: R + 5 }); return ep; }],
  ['ABORT in LISTEN', () => { const ep = listening(); ep.abort(0); return ep; }],
  ['ABORT in SYN-SENT', () => { const ep = synSent(); ep.abort(0); return ep; }],
  ['ABORT in SYN-RECEIVED', () => { const ep = synReceived(); ep.abort(0); return ep; }],
  ['SYN retries exhausted (linux)', () => { const ep = synSent({ profile: 'linux' }); advance(ep, 1e9); return ep; }],
  ['SYN,ACK retries exhausted, passive (linux)', () => {
    const ep = synReceived({ profile: 'linux' });
    advance(ep, 1e9);
    return ep;
  }],
  ['SYN,ACK retries exhausted, active', () => {
    const ep = synReceived({ passive: false });
    advance(ep, 1e9);
    return ep;
  }],
  ['user timeout in ESTABLISHED', () => { const ep = established(); ep.send(1, 0); advance(ep, 1e9); return ep; }],
  ['user timeout in CLOSE-WAIT', () => { const ep = closeWait(); ep.send(1, 0); advance(ep, 1e9); return ep; }],
  ['FIN retries exhausted in FIN-WAIT-1', () => { const ep = finWait1({ profile: 'linux' }); advance(ep, 1e9); return ep; }],
  ['FIN retries exhausted in CLOSING', () => { const ep = closing(); advance(ep, 1e9); return ep; }],
  ['FIN retries exhausted in LAST-ACK', () => { const ep = lastAck(); advance(ep, 1e9); return ep; }],
  ['orphan FIN-WAIT-2 timeout (linux)', () => { const ep = finWait2({ profile: 'linux' }); advance(ep, 1e9); return ep; }],
  ['close() with unread data in ESTABLISHED (linux)', () => {
    const ep = withUnread(established({ profile: 'linux', reading: false }), R + 1);
    ep.close(0);
    return ep;
  }],
  ['close() with unread data in CLOSE-WAIT (linux)', () => {
    const ep = withUnread(established({ profile: 'linux', reading: false }), R + 1, 'FP.');
    ep.close(0);
    return ep;
  }],
  ['data after close() in FIN-WAIT-1 (linux)', () => withUnread(finWait1({ profile: 'linux' }), R + 1)],
  ['data after close() in FIN-WAIT-2 (linux)', () => withUnread(finWait2({ profile: 'linux' }), R + 1)],
];

/**
 * (rule, from) pairs of the table the model cannot take. Each is listed with the reason;
 * if the model ever takes one, the test below says so and the entry must go.
 */
const UNREACHABLE: ReadonlyArray<readonly [TransitionId, TcpState, string]> = [];

function runAll(): { changes: Change[]; byScenario: Map<string, Change[]> } {
  const changes: Change[] = [];
  const byScenario = new Map<string, Change[]>();
  for (const [name, run] of SCENARIOS) {
    const ep = run();
    const h = sinkOf(ep).history;
    byScenario.set(name, [...h]);
    changes.push(...h);
  }
  return { changes, byScenario };
}

describe('transition table', () => {
  it('ids are unique and TRANSITION_BY_ID indexes every row', () => {
    const ids = TRANSITIONS.map((t) => t.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const t of TRANSITIONS) expect(TRANSITION_BY_ID[t.id]).toBe(t);
  });

  it('every row names valid states, a trigger, an event and a source', () => {
    for (const t of TRANSITIONS) {
      expect(t.from.length).toBeGreaterThan(0);
      for (const s of t.from) expect(TCP_STATES).toContain(s);
      expect(TCP_STATES).toContain(t.to);
      expect(['call', 'segment', 'timer']).toContain(t.trigger);
      expect(t.event.length).toBeGreaterThan(0);
      expect(t.source).toMatch(/RFC|Linux/);
      expect(t.from).not.toContain(t.to);
    }
  });

  it('isAllowedTransition follows the from lists', () => {
    for (const t of TRANSITIONS) {
      for (const s of TCP_STATES) expect(isAllowedTransition(t.id, s)).toBe((t.from as readonly string[]).includes(s));
    }
  });

  it('the main rows are the edges of RFC 9293 Figure 5', () => {
    const edges = TRANSITIONS.filter((t) => t.main).flatMap((t) => t.from.map((f) => `${f}>${t.to}`));
    expect(new Set(edges)).toEqual(
      new Set([
        'CLOSED>LISTEN',
        'CLOSED>SYN_SENT',
        'LISTEN>SYN_SENT',
        'LISTEN>SYN_RECEIVED',
        'SYN_SENT>ESTABLISHED',
        'SYN_SENT>SYN_RECEIVED',
        'SYN_RECEIVED>ESTABLISHED',
        'LISTEN>CLOSED',
        'SYN_SENT>CLOSED',
        'SYN_RECEIVED>FIN_WAIT_1',
        'ESTABLISHED>FIN_WAIT_1',
        'ESTABLISHED>CLOSE_WAIT',
        'CLOSE_WAIT>LAST_ACK',
        'FIN_WAIT_1>FIN_WAIT_2',
        'FIN_WAIT_1>CLOSING',
        'FIN_WAIT_1>TIME_WAIT',
        'FIN_WAIT_2>TIME_WAIT',
        'CLOSING>TIME_WAIT',
        'LAST_ACK>CLOSED',
        'TIME_WAIT>CLOSED',
      ]),
    );
  });

  it('every state except CLOSED can reach CLOSED through the table', () => {
    for (const s of TCP_STATES) {
      if (s === 'CLOSED') continue;
      const seen = new Set<TcpState>([s]);
      const todo: TcpState[] = [s];
      while (todo.length > 0) {
        const cur = todo.pop() as TcpState;
        for (const t of TRANSITIONS) {
          if ((t.from as readonly TcpState[]).includes(cur) && !seen.has(t.to)) {
            seen.add(t.to);
            todo.push(t.to);
          }
        }
      }
      expect(seen.has('CLOSED')).toBe(true);
    }
  });
});

describe('the model takes every row of the table', () => {
  const { changes, byScenario } = runAll();
  const taken = new Set(changes.map((c) => c.rule));
  const pairs = new Set(changes.map((c) => `${c.rule}@${c.from}`));

  it.each(TRANSITIONS.map((t) => [t.id, t] as const))('%s is taken', (id, t) => {
    expect(taken.has(id), `rule ${id} (${t.from.join('|')} → ${t.to}) is never taken by the model`).toBe(true);
  });

  it('every (rule, from) pair is taken, except the documented unreachable ones', () => {
    const missing: string[] = [];
    for (const t of TRANSITIONS) for (const f of t.from) if (!pairs.has(`${t.id}@${f}`)) missing.push(`${t.id}@${f}`);
    expect(missing.sort()).toEqual(UNREACHABLE.map(([id, f]) => `${id}@${f}`).sort());
  });

  it('every reported change matches its row: from in the row, to the row target', () => {
    for (const c of changes) {
      const row = TRANSITION_BY_ID[c.rule];
      expect(row.from as readonly string[]).toContain(c.from);
      expect(row.to).toBe(c.to);
    }
  });

  it('within each scenario the changes chain: each from is the previous to', () => {
    for (const [name, h] of byScenario) {
      let state: TcpState = 'CLOSED';
      for (const c of h) {
        expect(c.from, name).toBe(state);
        state = c.to;
      }
    }
  });

  it('linux-only rows are taken only in linux scenarios (the sink refuses the rest)', () => {
    const linuxOnly = TRANSITIONS.filter((t) => 'profile' in t).map((t) => t.id);
    expect(linuxOnly.sort()).toEqual(['close-unread-data', 'data-after-close', 'fin-wait-2-timeout']);
    for (const id of linuxOnly) expect(taken.has(id)).toBe(true);
  });

  it('the same linux-only situations under rfc9293 take ordinary rows', () => {
    const a = withUnread(established({ profile: 'rfc9293', reading: false }), R + 1);
    a.close(0);
    expect(a.state).toBe('FIN_WAIT_1');
    const b = withUnread(finWait2({ profile: 'rfc9293' }), R + 1);
    expect(b.state).toBe('FIN_WAIT_2');
    const c = finWait2({ profile: 'rfc9293' });
    advance(c, 1e9);
    expect(c.state).toBe('FIN_WAIT_2');
  });
});

// ---------------------------------------------------------------------------
// Seeded random walk: arbitrary events, the table and the invariants must hold.
// ---------------------------------------------------------------------------

const FLAG_CHOICES = ['S', 'S.', '.', 'P.', 'F.', 'FP.', 'R', 'R.', 'P', 'F'] as const;
const START: ReadonlyArray<(p: ProfileName) => Endpoint> = [
  (profile) => closed({ profile }),
  (profile) => listening({ profile }),
  (profile) => synSent({ profile }),
  (profile) => synReceived({ profile }),
  (profile) => synReceived({ profile, passive: false }),
  (profile) => established({ profile, reading: false, rcvBuffer: 4000 }),
  (profile) => finWait1({ profile }),
  (profile) => finWait2({ profile, via: 'shutdown' }),
  (profile) => closeWait({ profile }),
  (profile) => closing({ profile }),
  (profile) => lastAck({ profile }),
  (profile) => timeWait({ profile }),
];

function check(ok: boolean, message: string): void {
  if (!ok) throw new Error(message);
}

describe('random walk over states and events (seeded)', () => {
  it.each(['rfc9293', 'linux'] as const)('%s: every change is a table edge and the TCB stays sane', (profile) => {
    const rand = rng(profile === 'linux' ? 1 : 2);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)] as T;
    const seen = new Set<TcpState>();
    let events = 0;
    for (let run = 0; run < 400; run++) {
      const ep = pick(START)(profile);
      let now = 0;
      let state = ep.state;
      for (let step = 0; step < 30; step++) {
        now += Math.floor(rand() * 3000);
        const r = rand();
        try {
          if (r < 0.6) {
            const near = (base: number): number => (base + Math.floor(rand() * 7) - 3 + (rand() < 0.1 ? 70_000 : 0)) >>> 0;
            arrive(
              ep,
              {
                flags: pick(FLAG_CHOICES),
                seq: near(ep.state === 'LISTEN' || ep.state === 'SYN_SENT' || ep.state === 'CLOSED' ? R : ep.rcvNxt),
                ack: near(rand() < 0.5 ? ep.sndUna : ep.sndNxt),
                len: rand() < 0.4 ? Math.floor(rand() * 2000) : 0,
                window: rand() < 0.2 ? 0 : 8000,
              },
              now,
            );
          } else if (r < 0.8) {
            const d = ep.nextDeadline();
            if (d !== -1) {
              now = Math.max(now, d);
              ep.tick(now);
            }
          } else {
            const call = pick(['send', 'receive', 'close', 'shutdown', 'abort', 'connect', 'listen', 'setReading'] as const);
            if (call === 'send' || call === 'receive') ep[call](Math.floor(rand() * 3000), now);
            else if (call === 'setReading') ep.setReading(rand() < 0.5, now);
            else ep[call](now);
          }
        } catch (e) {
          if (!(e instanceof ConnectionCallError)) throw e;
        }
        events++;
        // the sink has already checked each change against the table; check continuity
        // (plain checks in this hot loop: thousands of events)
        const where = `run ${run} step ${step} in ${ep.state}`;
        for (const c of sinkOf(ep).changes) {
          check(c.from === state, `${where}: change from ${c.from}, but the state was ${state}`);
          state = c.to;
        }
        sinkOf(ep).clear();
        check(ep.state === state, `${where}: state differs from the last change's target ${state}`);
        seen.add(ep.state);
        check(seqLe(ep.sndUna, ep.sndNxt), `${where}: SND.UNA ${ep.sndUna} > SND.NXT ${ep.sndNxt}`);
        check(ep.rcvBuffered >= 0 && ep.rcvWnd >= 0 && ep.sendQueued >= 0, `${where}: negative buffer`);
        if (ep.state === 'CLOSED' || ep.state === 'LISTEN') check(ep.nextDeadline() === -1, `${where}: timer left`);
        if (ep.state === 'TIME_WAIT') check(ep.timeWaitDeadline > 0, `${where}: no 2MSL timer`);
        if (!STATE_INFO[ep.state].synchronized && ep.state !== 'SYN_RECEIVED') check(!ep.finSent, `${where}: FIN sent`);
      }
    }
    expect(events).toBe(400 * 30);
    expect(seen.size).toBe(11);
  });
});

it('UNREACHABLE entries name rows and states of the table', () => {
  for (const [id, from, why] of UNREACHABLE) {
    expect(TRANSITION_BY_ID[id].from as readonly string[]).toContain(from);
    expect(why.length).toBeGreaterThan(10);
  }
});

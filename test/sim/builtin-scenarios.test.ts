/**
 * The built-in scenarios must give the RFC's state sequences (RFC 9293 §3.5 Figures 6–7,
 * §3.6 Figures 12–13) and the behaviours they are named after.
 */
import { describe, expect, it } from 'vitest';
import { BUILTIN_SCENARIOS } from '../../src/sim/builtin.js';
import { simulate, type SimResult } from '../../src/sim/simulator.js';
import type { ProfileName } from '../../src/core/profile.js';

function run(name: string, profile?: ProfileName): SimResult {
  const s = BUILTIN_SCENARIOS.get(name);
  if (s === undefined) throw new Error(`no built-in ${name}`);
  return simulate(s, profile !== undefined ? { profile } : {});
}

function states(r: SimResult, id: 'a' | 'b'): string[] {
  const t = r.transitions.filter((x) => x.endpoint === id);
  return t.length === 0 ? [] : [t[0]?.from ?? '', ...t.map((x) => x.to)];
}

function flagsFrom(r: SimResult, id: 'a' | 'b'): string[] {
  return r.segments.filter((s) => s.from === id).map((s) => s.flags);
}

const OPEN_A = ['CLOSED', 'SYN_SENT', 'ESTABLISHED'];
const OPEN_B = ['CLOSED', 'LISTEN', 'SYN_RECEIVED', 'ESTABLISHED'];
const ACTIVE_CLOSE = ['FIN_WAIT_1', 'FIN_WAIT_2', 'TIME_WAIT', 'CLOSED'];
const PASSIVE_CLOSE = ['CLOSE_WAIT', 'LAST_ACK', 'CLOSED'];

describe('built-in scenarios give the RFC state sequences', () => {
  it('handshake: SYN, SYN-ACK, ACK (Figure 6)', () => {
    const r = run('handshake');
    expect(states(r, 'a')).toEqual(OPEN_A);
    expect(states(r, 'b')).toEqual(OPEN_B);
    expect(r.segments.map((s) => `${s.from}:${s.flags}:${s.seq}:${s.ack}`)).toEqual(['a:S:0:0', 'b:S.:0:1', 'a:.:1:1']);
    expect(r.final).toEqual({ a: 'ESTABLISHED', b: 'ESTABLISHED' });
  });

  for (const profile of ['rfc9293', 'linux'] as const) {
    it(`active close under ${profile}: a FIN-WAIT-1 → FIN-WAIT-2 → TIME-WAIT, b CLOSE-WAIT → LAST-ACK`, () => {
      const r = run('active-close', profile);
      expect(states(r, 'a')).toEqual([...OPEN_A, ...ACTIVE_CLOSE]);
      expect(states(r, 'b')).toEqual([...OPEN_B, ...PASSIVE_CLOSE]);
      const tw = r.transitions.find((t) => t.endpoint === 'a' && t.to === 'TIME_WAIT');
      const closed = r.transitions.find((t) => t.endpoint === 'a' && t.from === 'TIME_WAIT');
      expect(closed?.cause).toBe('time-wait-timeout');
      // TIME-WAIT lasts 2×MSL = 240 s under the RFC, 60 s on Linux.
      expect((closed?.at ?? 0) - (tw?.at ?? 0)).toBe(profile === 'linux' ? 60_000 : 240_000);
    });
  }

  it('passive close: b (server) CLOSE-WAIT then LAST-ACK after its own close', () => {
    const r = run('passive-close');
    expect(states(r, 'a')).toEqual([...OPEN_A, ...ACTIVE_CLOSE]);
    expect(states(r, 'b')).toEqual([...OPEN_B, ...PASSIVE_CLOSE]);
    const cw = r.transitions.find((t) => t.endpoint === 'b' && t.to === 'CLOSE_WAIT');
    const la = r.transitions.find((t) => t.endpoint === 'b' && t.to === 'LAST_ACK');
    expect(la?.at).toBe(400); // CLOSE-WAIT lasts until the application closes
    expect(cw?.at).toBeLessThan(400);
  });

  it('simultaneous open: both SYN-SENT → SYN-RECEIVED → ESTABLISHED (Figure 7)', () => {
    const r = run('simultaneous-open');
    for (const id of ['a', 'b'] as const) {
      expect(states(r, id).slice(0, 4)).toEqual(['CLOSED', 'SYN_SENT', 'SYN_RECEIVED', 'ESTABLISHED']);
    }
    expect(r.transitions.filter((t) => t.cause === 'simultaneous-open')).toHaveLength(2);
    expect(r.final).toEqual({ a: 'CLOSED', b: 'CLOSED' });
  });

  it('simultaneous close: both FIN-WAIT-1 → CLOSING → TIME-WAIT (Figure 13)', () => {
    const r = run('simultaneous-close');
    for (const id of ['a', 'b'] as const) {
      expect(states(r, id).slice(-5)).toEqual(['ESTABLISHED', 'FIN_WAIT_1', 'CLOSING', 'TIME_WAIT', 'CLOSED']);
    }
  });

  it('half-close: data flows to a after its FIN, a stays FIN-WAIT-2 until b closes', () => {
    const r = run('half-close');
    expect(states(r, 'a')).toEqual([...OPEN_A, ...ACTIVE_CLOSE]);
    const aFin = r.segments.find((s) => s.from === 'a' && s.flags.includes('F'));
    const dataAfter = r.segments.filter((s) => s.from === 'b' && s.len > 0 && s.at > (aFin?.at ?? Infinity));
    expect(dataAfter.reduce((n, s) => n + s.len, 0)).toBe(4000);
    const delivered = r.notifications.filter((n) => n.endpoint === 'a' && n.what === 'data').reduce((n, x) => n + x.bytes, 0);
    expect(delivered).toBe(4000);
    const fw2 = r.transitions.find((t) => t.endpoint === 'a' && t.to === 'FIN_WAIT_2');
    const tw = r.transitions.find((t) => t.endpoint === 'a' && t.to === 'TIME_WAIT');
    expect(fw2?.at).toBeLessThan(300);
    expect(tw?.at).toBeGreaterThan(700);
  });

  it('lost final ACK: LAST-ACK retransmits FIN, TIME-WAIT re-ACKs and restarts its timer', () => {
    const r = run('lost-final-ack');
    const bFins = r.segments.filter((s) => s.from === 'b' && s.flags.includes('F'));
    expect(bFins).toHaveLength(2);
    expect(bFins[1]?.seq).toBe(bFins[0]?.seq); // a retransmission: same sequence number
    const aAcks = r.segments.filter((s) => s.from === 'a' && s.flags === '.' && s.len === 0);
    expect(aAcks.map((s) => s.dropped)).toEqual([false, true, false]);
    expect(states(r, 'b')).toEqual([...OPEN_B, ...PASSIVE_CLOSE]);
    const lastAck = r.transitions.find((t) => t.endpoint === 'b' && t.from === 'LAST_ACK');
    expect(lastAck?.at).toBe((bFins[1]?.at ?? 0) + 20);
    const closed = r.transitions.find((t) => t.endpoint === 'a' && t.from === 'TIME_WAIT');
    const reAck = aAcks[2];
    expect(closed?.at).toBe((reAck?.at ?? 0) + 240_000); // restarted on the retransmitted FIN
  });

  it('FIN,ACK takes FIN-WAIT-1 straight to TIME-WAIT', () => {
    const r = run('fin-ack-to-time-wait');
    expect(states(r, 'a')).toEqual([...OPEN_A, 'FIN_WAIT_1', 'TIME_WAIT', 'CLOSED']);
    expect(r.transitions.find((t) => t.endpoint === 'a' && t.to === 'TIME_WAIT')?.cause).toBe('rcv-fin-ack-of-fin');
  });

  it('closed port: SYN answered by RST,ACK <SEQ=0><ACK=SEG.SEQ+1>, connect refused', () => {
    const r = run('closed-port');
    expect(states(r, 'a')).toEqual(['CLOSED', 'SYN_SENT', 'CLOSED']);
    expect(states(r, 'b')).toEqual([]);
    const rst = r.segments.find((s) => s.from === 'b');
    expect(rst?.flags).toBe('R.');
    expect(rst?.ack).toBe(1);
    expect(r.notifications.some((n) => n.endpoint === 'a' && n.what === 'refused')).toBe(true);
  });

  it('abort: RST, both CLOSED at once, peer told "reset"', () => {
    const r = run('abort');
    expect(flagsFrom(r, 'a').at(-1)).toBe('R.');
    expect(r.transitions.find((t) => t.endpoint === 'a' && t.to === 'CLOSED')?.cause).toBe('abort');
    expect(r.transitions.find((t) => t.endpoint === 'b' && t.to === 'CLOSED')?.cause).toBe('rst-reset');
    expect(r.notifications.some((n) => n.endpoint === 'b' && n.what === 'reset')).toBe(true);
    expect(r.endMs).toBe(210);
  });

  it('RST in SYN-RECEIVED returns a passive open to LISTEN', () => {
    const r = run('rst-in-syn-received');
    expect(states(r, 'b').slice(0, 5)).toEqual(['CLOSED', 'LISTEN', 'SYN_RECEIVED', 'LISTEN', 'CLOSED']);
    expect(r.transitions.find((t) => t.endpoint === 'b' && t.from === 'SYN_RECEIVED')?.cause).toBe('rst-to-listen');
    // a's data then reaches a listener, which answers the ACK with <SEQ=SEG.ACK><CTL=RST>.
    expect(r.transitions.find((t) => t.endpoint === 'a' && t.to === 'CLOSED')?.cause).toBe('rst-reset');
  });

  it('in-window RST: challenge ACK and no change; the exact RST then resets (RFC 5961 §3)', () => {
    const r = run('rst-in-window');
    const afterFirst = r.segments.filter((s) => s.at === 100);
    expect(afterFirst.map((s) => `${s.from}:${s.flags}:${s.injected}`)).toEqual(['a:R:true', 'b:.:false']);
    const bClosed = r.transitions.find((t) => t.endpoint === 'b' && t.to === 'CLOSED');
    expect(bClosed?.at).toBe(200);
    expect(bClosed?.cause).toBe('rst-reset');
  });

  it('out-of-window RST: dropped silently, connection closes normally', () => {
    const r = run('rst-out-of-window');
    expect(r.segments.filter((s) => s.at === 100).map((s) => s.from)).toEqual(['a']); // only the injected RST
    expect(states(r, 'b')).toEqual([...OPEN_B, ...PASSIVE_CLOSE]);
  });

  it('SYN in ESTABLISHED: challenge ACK (RFC 5961 §4), connection unharmed', () => {
    const r = run('syn-in-established');
    const reply = r.segments.find((s) => s.at === 100 && s.from === 'b');
    expect(reply?.flags).toBe('.');
    expect(states(r, 'b')).toEqual([...OPEN_B, ...PASSIVE_CLOSE]);
  });

  it('zero window: probes while b does not read, window update on reading, all data delivered', () => {
    const r = run('zero-window');
    const zeroWindows = r.segments.filter((s) => s.from === 'b' && s.window === 0);
    expect(zeroWindows.length).toBeGreaterThanOrEqual(2);
    const probes = r.segments.filter((s) => s.from === 'a' && s.len === 0 && s.flags === '.' && s.at > 110 && s.at < 8000);
    expect(probes.length).toBeGreaterThanOrEqual(3);
    // Probe intervals back off.
    const gaps = probes.slice(1).map((p, i) => p.at - (probes[i]?.at ?? 0));
    for (let i = 1; i < gaps.length; i++) expect(gaps[i]).toBeGreaterThan(gaps[i - 1] ?? 0);
    const update = r.segments.find((s) => s.from === 'b' && s.at === 8000);
    expect(update?.window).toBeGreaterThan(0);
    const delivered = r.notifications.filter((n) => n.endpoint === 'b' && n.what === 'data').reduce((n, x) => n + x.bytes, 0);
    expect(delivered).toBe(10000);
    expect(r.final).toEqual({ a: 'CLOSED', b: 'CLOSED' });
  });

  it('lost SYN: retransmitted after the initial RTO of 1 s', () => {
    const r = run('lost-syn');
    const syns = r.segments.filter((s) => s.from === 'a' && s.flags === 'S');
    expect(syns.map((s) => [s.at, s.dropped])).toEqual([
      [10, true],
      [1010, false],
    ]);
    expect(r.final).toEqual({ a: 'ESTABLISHED', b: 'ESTABLISHED' });
  });

  it('close-wait leak: CLOSE-WAIT forever; Linux ends the orphaned FIN-WAIT-2 after tcp_fin_timeout', () => {
    const rfc = run('close-wait-leak', 'rfc9293');
    expect(rfc.final).toEqual({ a: 'FIN_WAIT_2', b: 'CLOSE_WAIT' });
    const linux = run('close-wait-leak', 'linux');
    expect(linux.final).toEqual({ a: 'CLOSED', b: 'CLOSE_WAIT' });
    const t = linux.transitions.find((x) => x.cause === 'fin-wait-2-timeout');
    const fw2 = linux.transitions.find((x) => x.endpoint === 'a' && x.to === 'FIN_WAIT_2');
    expect((t?.at ?? 0) - (fw2?.at ?? 0)).toBe(60_000);
  });

  it('RST in TIME-WAIT ends it early', () => {
    const r = run('time-wait-rst', 'linux');
    const closed = r.transitions.find((t) => t.endpoint === 'a' && t.from === 'TIME_WAIT');
    expect(closed?.cause).toBe('rst-closing');
    expect(closed?.at).toBe(1000);
  });

  it('every built-in terminates without hitting the time limit, under both profiles', () => {
    for (const [name] of BUILTIN_SCENARIOS) {
      for (const profile of ['rfc9293', 'linux'] as const) {
        expect({ name, profile, truncated: run(name, profile).truncated }).toEqual({ name, profile, truncated: false });
      }
    }
  });
});

/** CLOSING (RFC 9293 §3.10.7.4 fifth step: our FIN acknowledged → TIME-WAIT). */
import { describe, expect, it } from 'vitest';
import {
  advance,
  arrive,
  closing,
  expectChanges,
  expectNothingSent,
  expectNotified,
  expectQuiet,
  expectSent,
  expectState,
  L,
  PROFILES,
  R,
  synchronizedRules,
  takeSent,
} from './helpers.js';

synchronizedRules({
  state: 'CLOSING',
  make: (profile) => closing({ profile }),
  sndNxt: L + 2,
  rcvNxt: R + 2,
  resetRule: 'rst-closing',
  resetNotes: [],
});

const TIME_WAIT_MS = { rfc9293: 240_000, linux: 60_000 } as const;

describe.each(PROFILES)('CLOSING (%s)', (profile) => {
  it('the factory: both FINs sent, ours unacknowledged', () => {
    const ep = closing({ profile });
    expect(ep.sndUna).toBe(L + 1);
    expect(ep.rtxDeadline).toBeGreaterThan(0);
  });

  describe('fifth: ACK', () => {
    it('ACK of our FIN → TIME_WAIT, nothing sent, 2MSL timer', () => {
      const ep = closing({ profile });
      arrive(ep, { flags: '.', seq: R + 2, ack: L + 2 }, 10);
      expectState(ep, 'TIME_WAIT');
      expectChanges(ep, ['closing-ack-of-fin']);
      expectNothingSent(ep);
      expectNotified(ep, []);
      expect(ep.timeWaitDeadline).toBe(10 + TIME_WAIT_MS[profile]);
      expect(ep.rtxDeadline).toBe(-1);
      expect(ep.nextDeadline()).toBe(10 + TIME_WAIT_MS[profile]);
    });

    it('a duplicate ACK keeps CLOSING', () => {
      const ep = closing({ profile });
      arrive(ep, { flags: '.', seq: R + 2, ack: L + 1 });
      expectQuiet(ep, 'CLOSING');
    });

    it("the peer's retransmitted FIN → ACK, stay", () => {
      const ep = closing({ profile });
      arrive(ep, { flags: 'F.', seq: R + 1, ack: L + 1 });
      expectSent(ep, [{ flags: '.', seq: L + 2, ack: R + 2 }]);
      expectQuiet(ep, 'CLOSING');
    });

    it('text in CLOSING is ignored', () => {
      const ep = closing({ profile });
      arrive(ep, { flags: 'P.', seq: R + 2, ack: L + 1, len: 5 });
      expectQuiet(ep, 'CLOSING');
      expect(ep.rcvNxt).toBe(R + 2);
    });
  });

  describe('user calls', () => {
    it.each(['close', 'shutdown'] as const)('%s → error "connection closing"', (call) => {
      const ep = closing({ profile, via: call });
      expect(() => ep[call](0)).toThrow(`${call} in CLOSING: connection closing`);
      expectQuiet(ep, 'CLOSING');
    });

    it('send → error "connection closing"', () => {
      const ep = closing({ profile });
      expect(() => ep.send(1, 0)).toThrow('send in CLOSING: connection closing');
    });

    it('abort → CLOSED, nothing sent (§3.10.5)', () => {
      const ep = closing({ profile });
      ep.abort(0);
      expectState(ep, 'CLOSED');
      expectChanges(ep, ['abort-closing']);
      expectNothingSent(ep);
      expect(ep.nextDeadline()).toBe(-1);
    });
  });

  describe('timers', () => {
    it('our FIN is retransmitted with the ACK of theirs', () => {
      const ep = closing({ profile });
      const rto = ep.rto.rto;
      ep.tick(rto);
      expectSent(ep, [{ flags: 'F.', seq: L + 1, ack: R + 2 }]);
      expect(ep.rtxDeadline).toBe(3 * rto);
    });
  });
});

describe('CLOSING timers per profile', () => {
  it('linux, after close(): tcp_orphan_retries (8) → CLOSED "timeout"', () => {
    const ep = closing({ profile: 'linux' });
    advance(ep, 10_000_000);
    expect(takeSent(ep)).toHaveLength(8);
    expectChanges(ep, ['user-timeout']);
    expectNotified(ep, ['timeout']);
    expectState(ep, 'CLOSED');
  });

  it('linux, after shutdown(): tcp_retries2 (15)', () => {
    const ep = closing({ profile: 'linux', via: 'shutdown' });
    advance(ep, 100_000_000);
    expect(takeSent(ep)).toHaveLength(15);
    expectState(ep, 'CLOSED');
  });

  it('rfc9293: user timeout at 300 s', () => {
    const ep = closing({ profile: 'rfc9293' });
    expect(advance(ep, 1_000_000).at(-1)).toBe(300_000);
    expectState(ep, 'CLOSED');
    expectChanges(ep, ['user-timeout']);
  });
});

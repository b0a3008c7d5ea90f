/** LAST-ACK (RFC 9293 §3.10.7.4 fifth step: our FIN acknowledged → CLOSED). */
import { describe, expect, it } from 'vitest';
import {
  advance,
  arrive,
  expectChanges,
  expectNothingSent,
  expectNotified,
  expectQuiet,
  expectSent,
  expectState,
  L,
  lastAck,
  PROFILES,
  R,
  synchronizedRules,
  takeSent,
} from './helpers.js';

synchronizedRules({
  state: 'LAST_ACK',
  make: (profile) => lastAck({ profile }),
  sndNxt: L + 2,
  rcvNxt: R + 2,
  resetRule: 'rst-closing',
  resetNotes: [],
});

describe.each(PROFILES)('LAST_ACK (%s)', (profile) => {
  describe('fifth: ACK', () => {
    it.each(['close', 'shutdown'] as const)('ACK of our FIN → CLOSED, "closed", nothing sent (via %s)', (via) => {
      const ep = lastAck({ profile, via });
      arrive(ep, { flags: '.', seq: R + 2, ack: L + 2 });
      expectState(ep, 'CLOSED');
      expectChanges(ep, ['last-ack-ack-of-fin']);
      expectNotified(ep, ['closed']);
      expectNothingSent(ep);
      expect(ep.nextDeadline()).toBe(-1);
    });

    it('a duplicate ACK keeps LAST_ACK', () => {
      const ep = lastAck({ profile });
      arrive(ep, { flags: '.', seq: R + 2, ack: L + 1 });
      expectQuiet(ep, 'LAST_ACK');
    });

    it('a FIN held back by a zero window goes out when it opens; a duplicate ACK then keeps LAST_ACK', () => {
      const ep = lastAck({ profile, peerWindow: 0 });
      expect(ep.finSent).toBe(false);
      arrive(ep, { flags: '.', seq: R + 2, ack: L + 1, window: 1000 });
      expectSent(ep, [{ flags: 'F.', seq: L + 1, ack: R + 2 }]);
      arrive(ep, { flags: '.', seq: R + 2, ack: L + 1 });
      expectQuiet(ep, 'LAST_ACK');
    });

    it("the peer's retransmitted FIN → ACK, stay (its ACK field is not processed)", () => {
      const ep = lastAck({ profile });
      arrive(ep, { flags: 'F.', seq: R + 1, ack: L + 2 });
      expectSent(ep, [{ flags: '.', seq: L + 2, ack: R + 2 }]);
      expectQuiet(ep, 'LAST_ACK');
    });

    it('text in LAST_ACK is ignored', () => {
      const ep = lastAck({ profile });
      arrive(ep, { flags: 'P.', seq: R + 2, ack: L + 1, len: 5 });
      expectQuiet(ep, 'LAST_ACK');
    });

    it('after CLOSED, a late segment is answered by a RST', () => {
      const ep = lastAck({ profile });
      arrive(ep, { flags: '.', seq: R + 2, ack: L + 2 });
      takeSent(ep);
      arrive(ep, { flags: 'F.', seq: R + 1, ack: L + 2 });
      expectSent(ep, [{ flags: 'R', seq: L + 2 }]);
    });
  });

  describe('user calls', () => {
    it.each(['close', 'shutdown'] as const)('%s → error "connection closing"', (call) => {
      const ep = lastAck({ profile, via: call });
      expect(() => ep[call](0)).toThrow(`${call} in LAST_ACK: connection closing`);
      expectQuiet(ep, 'LAST_ACK');
    });

    it('send → error "connection closing"', () => {
      const ep = lastAck({ profile });
      expect(() => ep.send(1, 0)).toThrow('send in LAST_ACK: connection closing');
    });

    it('abort → CLOSED, nothing sent (§3.10.5)', () => {
      const ep = lastAck({ profile });
      ep.abort(0);
      expectState(ep, 'CLOSED');
      expectChanges(ep, ['abort-closing']);
      expectNothingSent(ep);
    });
  });

  describe('timers', () => {
    it('the FIN is retransmitted after the RTO', () => {
      const ep = lastAck({ profile });
      ep.tick(ep.rtxDeadline);
      expectSent(ep, [{ flags: 'F.', seq: L + 1, ack: R + 2 }]);
      expectState(ep, 'LAST_ACK');
    });
  });
});

describe('LAST_ACK timers per profile', () => {
  it('linux, after close(): 8 FIN retransmissions (tcp_orphan_retries) → CLOSED "timeout"', () => {
    const ep = lastAck({ profile: 'linux' });
    advance(ep, 10_000_000);
    expect(takeSent(ep)).toHaveLength(8);
    expectChanges(ep, ['user-timeout']);
    expectNotified(ep, ['timeout']);
  });

  it('linux, after shutdown(): 15 retransmissions (tcp_retries2)', () => {
    const ep = lastAck({ profile: 'linux', via: 'shutdown' });
    advance(ep, 100_000_000);
    expect(takeSent(ep)).toHaveLength(15);
    expectState(ep, 'CLOSED');
  });

  it('rfc9293: user timeout at 300 s', () => {
    const ep = lastAck({ profile: 'rfc9293' });
    advance(ep, 299_999);
    expectState(ep, 'LAST_ACK');
    advance(ep, 300_000);
    expectState(ep, 'CLOSED');
    expectChanges(ep, ['user-timeout']);
  });
});

/** TIME-WAIT (RFC 9293 §3.10.7.4, §3.10.8 2MSL; RFC 1337; Linux TCP_TIMEWAIT_LEN). */
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
  finWait1,
  L,
  PROFILES,
  R,
  synchronizedRules,
  timeWait,
} from './helpers.js';

synchronizedRules({
  state: 'TIME_WAIT',
  make: (profile) => timeWait({ profile }),
  sndNxt: L + 2,
  rcvNxt: R + 2,
  resetRule: 'rst-closing',
  resetNotes: [],
});

const TIME_WAIT_MS = { rfc9293: 240_000, linux: 60_000 } as const;

describe.each(PROFILES)('TIME_WAIT (%s)', (profile) => {
  const tw = TIME_WAIT_MS[profile];

  it(`the factory: 2MSL timer at ${tw / 1000} s, nothing else`, () => {
    const ep = timeWait({ profile });
    expect(ep.timeWaitDeadline).toBe(tw);
    expect(ep.rtxDeadline).toBe(-1);
    expect(ep.nextDeadline()).toBe(tw);
  });

  describe('segments', () => {
    it("the peer's retransmitted FIN → ACK and the 2MSL timer restarts", () => {
      const ep = timeWait({ profile });
      arrive(ep, { flags: 'F.', seq: R + 1, ack: L + 2 }, 30_000);
      expectSent(ep, [{ flags: '.', seq: L + 2, ack: R + 2 }]);
      expectQuiet(ep, 'TIME_WAIT');
      expect(ep.timeWaitDeadline).toBe(30_000 + tw);
    });

    it('a retransmitted FIN with data → ACK and restart', () => {
      const ep = timeWait({ profile, via: 'shutdown' });
      arrive(ep, { flags: 'FP.', seq: R - 9, ack: L + 2, len: 10 }, 1000);
      expectSent(ep, [{ flags: '.', seq: L + 2, ack: R + 2 }]);
      expect(ep.timeWaitDeadline).toBe(1000 + tw);
    });

    it('a pure ACK does not restart the timer', () => {
      const ep = timeWait({ profile });
      arrive(ep, { flags: '.', seq: R + 2, ack: L + 2 }, 5000);
      expectQuiet(ep, 'TIME_WAIT');
      expect(ep.timeWaitDeadline).toBe(tw);
    });

    it('an unacceptable segment gets an ACK but no restart', () => {
      const ep = timeWait({ profile });
      arrive(ep, { flags: '.', seq: R + 100_000, ack: L + 2 }, 5000);
      expectSent(ep, [{ flags: '.', seq: L + 2, ack: R + 2 }]);
      expect(ep.timeWaitDeadline).toBe(tw);
    });

    it('text in TIME_WAIT is ignored', () => {
      const ep = timeWait({ profile });
      arrive(ep, { flags: 'P.', seq: R + 2, ack: L + 2, len: 10 });
      expectQuiet(ep, 'TIME_WAIT');
      expect(ep.rcvNxt).toBe(R + 2);
    });

    it('a new SYN → challenge ACK, the state stays (no TIME-WAIT assassination)', () => {
      const ep = timeWait({ profile });
      arrive(ep, { flags: 'S', seq: R + 1_000_000 });
      expectSent(ep, [{ flags: '.', seq: L + 2, ack: R + 2 }]);
      expectState(ep, 'TIME_WAIT');
    });

    it('RST → CLOSED (net.ipv4.tcp_rfc1337 = 0, RFC 9293 §3.10.7.4 second)', () => {
      const ep = timeWait({ profile });
      arrive(ep, { flags: 'R', seq: R + 2 });
      expectState(ep, 'CLOSED');
      expectChanges(ep, ['rst-closing']);
      expect(ep.nextDeadline()).toBe(-1);
    });

    it('with RFC 1337 protection an exact RST is ignored', () => {
      const ep = timeWait({ profile, tweak: { rfc1337: true } });
      arrive(ep, { flags: 'R', seq: R + 2 });
      expectQuiet(ep, 'TIME_WAIT');
      expect(ep.timeWaitDeadline).toBe(tw);
    });
  });

  describe('other ways in', () => {
    it('FIN_WAIT_1 + FIN acknowledging our FIN', () => {
      const ep = finWait1({ profile });
      arrive(ep, { flags: 'F.', seq: R + 1, ack: L + 2 });
      expectChanges(ep, ['rcv-fin-ack-of-fin']);
      expectState(ep, 'TIME_WAIT');
    });

    it('CLOSING + ACK of our FIN', () => {
      const ep = closing({ profile });
      arrive(ep, { flags: '.', seq: R + 2, ack: L + 2 });
      expectChanges(ep, ['closing-ack-of-fin']);
      expectState(ep, 'TIME_WAIT');
    });
  });

  describe('user calls', () => {
    it.each(['close', 'shutdown'] as const)('%s → error "connection closing"', (call) => {
      const ep = timeWait({ profile, via: call });
      expect(() => ep[call](0)).toThrow(`${call} in TIME_WAIT: connection closing`);
      expectQuiet(ep, 'TIME_WAIT');
    });

    it('send → error "connection closing"', () => {
      const ep = timeWait({ profile });
      expect(() => ep.send(1, 0)).toThrow('send in TIME_WAIT: connection closing');
    });

    it('abort → CLOSED, nothing sent', () => {
      const ep = timeWait({ profile });
      ep.abort(0);
      expectState(ep, 'CLOSED');
      expectChanges(ep, ['abort-closing']);
      expectNothingSent(ep);
      expect(ep.nextDeadline()).toBe(-1);
    });
  });

  describe('timers', () => {
    it(`expires after ${tw / 1000} s → CLOSED, "closed", nothing sent`, () => {
      const ep = timeWait({ profile });
      advance(ep, tw - 1);
      expectState(ep, 'TIME_WAIT');
      expect(advance(ep, tw)).toEqual([tw]);
      expectState(ep, 'CLOSED');
      expectChanges(ep, ['time-wait-timeout']);
      expectNotified(ep, ['closed']);
      expectNothingSent(ep);
      expect(ep.nextDeadline()).toBe(-1);
    });

    it('a restarted timer expires 2MSL after the retransmitted FIN', () => {
      const ep = timeWait({ profile });
      arrive(ep, { flags: 'F.', seq: R + 1, ack: L + 2 }, tw - 1);
      advance(ep, 2 * tw - 2);
      expectState(ep, 'TIME_WAIT');
      advance(ep, 2 * tw - 1);
      expectState(ep, 'CLOSED');
    });
  });
});

it('TIME_WAIT lasts 2×MSL = 240 s under rfc9293 and 60 s under linux', () => {
  expect(timeWait({ profile: 'rfc9293' }).timeWaitDeadline).toBe(240_000);
  expect(timeWait({ profile: 'linux' }).timeWaitDeadline).toBe(60_000);
});

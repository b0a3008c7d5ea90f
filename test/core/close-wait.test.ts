/** CLOSE-WAIT (RFC 9293 §3.10.7.4; CLOSE §3.10.4; Linux tcp_close). */
import { describe, expect, it } from 'vitest';
import {
  advance,
  arrive,
  closeWait,
  drain,
  established,
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
  state: 'CLOSE_WAIT',
  make: (profile) => closeWait({ profile }),
  sndNxt: L + 1,
  rcvNxt: R + 2,
  resetRule: 'rst-reset',
  resetNotes: ['reset'],
});

describe.each(PROFILES)('CLOSE_WAIT (%s)', (profile) => {
  describe('segments', () => {
    it("the peer's retransmitted FIN → ACK, stay", () => {
      const ep = closeWait({ profile });
      arrive(ep, { flags: 'F.', seq: R + 1, ack: L + 1 });
      expectSent(ep, [{ flags: '.', seq: L + 1, ack: R + 2 }]);
      expectQuiet(ep, 'CLOSE_WAIT');
    });

    it('text after the FIN is ignored (§3.10.7.4 seventh)', () => {
      const ep = closeWait({ profile });
      arrive(ep, { flags: 'P.', seq: R + 2, ack: L + 1, len: 10 });
      expectQuiet(ep, 'CLOSE_WAIT');
      expect(ep.rcvNxt).toBe(R + 2);
    });

    it('the ACK of our data is processed', () => {
      const ep = closeWait({ profile });
      ep.send(100, 0);
      takeSent(ep);
      arrive(ep, { flags: '.', seq: R + 2, ack: L + 101 });
      expect(ep.sndUna).toBe(L + 101);
      expect(ep.rtxDeadline).toBe(-1);
      expectQuiet(ep, 'CLOSE_WAIT');
    });

    it('a window update releases queued data', () => {
      const ep = closeWait({ profile, peerWindow: 0 });
      ep.send(100, 0);
      expectNothingSent(ep);
      arrive(ep, { flags: '.', seq: R + 2, ack: L + 1, window: 1000 });
      expectSent(ep, [{ flags: 'P.', seq: L + 1, ack: R + 2, len: 100 }]);
    });
  });

  describe('user calls', () => {
    it('send is still allowed: data goes out', () => {
      const ep = closeWait({ profile });
      ep.send(100, 0);
      expectSent(ep, [{ flags: 'P.', seq: L + 1, ack: R + 2, len: 100 }]);
      expectState(ep, 'CLOSE_WAIT');
    });

    it('data received before the FIN stays readable', () => {
      const ep = established({ profile, reading: false });
      arrive(ep, { flags: 'FP.', seq: R + 1, ack: L + 1, len: 40 });
      drain(ep);
      expectState(ep, 'CLOSE_WAIT');
      expect(ep.receive(100, 0)).toBe(40);
      expect(ep.receive(100, 0)).toBe(0);
    });

    it.each(['close', 'shutdown'] as const)('%s → LAST_ACK with <SEQ=SND.NXT><CTL=FIN,ACK>', (call) => {
      const ep = closeWait({ profile });
      ep[call](0);
      expectState(ep, 'LAST_ACK');
      expectChanges(ep, ['close-close-wait']);
      expectSent(ep, [{ flags: 'F.', seq: L + 1, ack: R + 2 }]);
      expect(ep.rtxDeadline).toBeGreaterThan(0);
    });

    it('close with data queued: the FIN rides on the last data segment', () => {
      const ep = closeWait({ profile, peerWindow: 0 });
      ep.send(100, 0);
      ep.close(0);
      expectState(ep, 'LAST_ACK');
      expectNothingSent(ep);
      arrive(ep, { flags: '.', seq: R + 2, ack: L + 1, window: 1000 });
      expectSent(ep, [{ flags: 'FP.', seq: L + 1, ack: R + 2, len: 100 }]);
    });

    it('abort → <SEQ=SND.NXT><CTL=RST,ACK>, "connection reset", CLOSED', () => {
      const ep = closeWait({ profile });
      ep.abort(0);
      expectSent(ep, [{ flags: 'R.', seq: L + 1, ack: R + 2 }]);
      expectChanges(ep, ['abort']);
      expectNotified(ep, ['reset']);
      expectState(ep, 'CLOSED');
    });
  });

  describe('timers', () => {
    it('CLOSE-WAIT has no timer: it lasts until the application closes (the CLOSE_WAIT leak)', () => {
      const ep = closeWait({ profile });
      expect(ep.nextDeadline()).toBe(-1);
      advance(ep, 7 * 24 * 3600_000);
      expectQuiet(ep, 'CLOSE_WAIT');
    });

    it('data sent in CLOSE-WAIT is retransmitted', () => {
      const ep = closeWait({ profile });
      ep.send(10, 0);
      takeSent(ep);
      ep.tick(ep.rtxDeadline);
      expectSent(ep, [{ flags: 'P.', seq: L + 1, ack: R + 2, len: 10 }]);
    });
  });
});

describe('CLOSE_WAIT, linux profile', () => {
  it('close() with unread data → <SEQ=SND.NXT><ACK=RCV.NXT><CTL=RST,ACK>, CLOSED', () => {
    const ep = established({ profile: 'linux', reading: false });
    arrive(ep, { flags: 'FP.', seq: R + 1, ack: L + 1, len: 40 });
    drain(ep);
    ep.close(0);
    expectSent(ep, [{ flags: 'R.', seq: L + 1, ack: R + 42 }]);
    expectChanges(ep, ['close-unread-data']);
    expectState(ep, 'CLOSED');
  });

  it('close() with everything read → LAST_ACK with a FIN', () => {
    const ep = established({ profile: 'linux', reading: false });
    arrive(ep, { flags: 'FP.', seq: R + 1, ack: L + 1, len: 40 });
    drain(ep);
    ep.receive(40, 0);
    drain(ep);
    ep.close(0);
    expectSent(ep, [{ flags: 'F.', seq: L + 1, ack: R + 42 }]);
    expectState(ep, 'LAST_ACK');
  });

  it('shutdown() with unread data → LAST_ACK with a FIN', () => {
    const ep = established({ profile: 'linux', reading: false });
    arrive(ep, { flags: 'FP.', seq: R + 1, ack: L + 1, len: 40 });
    drain(ep);
    ep.shutdown(0);
    expectSent(ep, [{ flags: 'F.', seq: L + 1, ack: R + 42 }]);
    expectState(ep, 'LAST_ACK');
  });
});

describe('CLOSE_WAIT, rfc9293 profile', () => {
  it('CLOSE with unread data sends a FIN: data stays readable', () => {
    const ep = established({ profile: 'rfc9293', reading: false });
    arrive(ep, { flags: 'FP.', seq: R + 1, ack: L + 1, len: 40 });
    drain(ep);
    ep.close(0);
    expectSent(ep, [{ flags: 'F.', seq: L + 1, ack: R + 42 }]);
    expectState(ep, 'LAST_ACK');
    expect(ep.receive(100, 0)).toBe(40);
  });

  it('user timeout on data unacknowledged in CLOSE-WAIT → CLOSED', () => {
    const ep = closeWait({ profile: 'rfc9293' });
    ep.send(10, 0);
    advance(ep, 300_000);
    expectState(ep, 'CLOSED');
    expectChanges(ep, ['user-timeout']);
    expectNotified(ep, ['timeout']);
  });
});

/** SYN-RECEIVED (RFC 9293 §3.10.7.4 with RFC 5961; CLOSE §3.10.4; timers §3.10.8). */
import { describe, expect, it } from 'vitest';
import { ConnectionCallError } from '../../src/core/errors.js';
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
  PROFILES,
  R,
  synReceived,
  takeSent,
} from './helpers.js';

describe.each(PROFILES)('SYN_RECEIVED (%s)', (profile) => {
  const passive = (): ReturnType<typeof synReceived> => synReceived({ profile });
  const active = (): ReturnType<typeof synReceived> => synReceived({ profile, passive: false });

  describe('first: sequence number', () => {
    it('the retransmitted SYN (SEG.SEQ = IRS) is unacceptable: <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>', () => {
      const ep = passive();
      arrive(ep, { flags: 'S', seq: R });
      expectSent(ep, [{ flags: '.', seq: L + 1, ack: R + 1 }]);
      expectState(ep, 'SYN_RECEIVED');
      expectChanges(ep, []);
    });

    it('a segment beyond the window is answered with an ACK and dropped', () => {
      const ep = passive();
      arrive(ep, { flags: '.', seq: R + 1 + 65_535, ack: L + 1 });
      expectSent(ep, [{ flags: '.', seq: L + 1, ack: R + 1 }]);
      expectState(ep, 'SYN_RECEIVED');
    });
  });

  describe('second: RST', () => {
    it('exact RST of a passive open → back to LISTEN, nothing sent', () => {
      const ep = passive();
      arrive(ep, { flags: 'R', seq: R + 1 });
      expectState(ep, 'LISTEN');
      expectChanges(ep, ['rst-to-listen']);
      expectNothingSent(ep);
      expectNotified(ep, []);
      expect(ep.nextDeadline()).toBe(-1);
    });

    it('the listener is usable again after the RST', () => {
      const ep = passive();
      arrive(ep, { flags: 'R', seq: R + 1 });
      arrive(ep, { flags: 'S', seq: R + 1000 });
      expectState(ep, 'SYN_RECEIVED');
      expectSent(ep, [{ flags: 'S.', seq: L, ack: R + 1001 }]);
    });

    it('exact RST of an active open → CLOSED, "connection refused"', () => {
      const ep = active();
      arrive(ep, { flags: 'R', seq: R + 1 });
      expectState(ep, 'CLOSED');
      expectChanges(ep, ['rst-refused-syn-received']);
      expectNotified(ep, ['refused']);
      expectNothingSent(ep);
    });

    it('RST in the window but not exact → challenge ACK, no state change', () => {
      const ep = passive();
      arrive(ep, { flags: 'R', seq: R + 100 });
      expectSent(ep, [{ flags: '.', seq: L + 1, ack: R + 1 }]);
      expectState(ep, 'SYN_RECEIVED');
      expectChanges(ep, []);
    });

    it.each([
      ['before RCV.NXT', R],
      ['at the right edge', R + 1 + 65_535],
      ['far away', R + 1_000_000],
    ])('RST outside the window (%s) → dropped silently', (_name, seq) => {
      const ep = passive();
      arrive(ep, { flags: 'R', seq });
      expectQuiet(ep, 'SYN_RECEIVED');
    });
  });

  describe('fourth: SYN', () => {
    it('in-window SYN of a passive open → back to LISTEN (§3.10.7.4 fourth)', () => {
      const ep = passive();
      arrive(ep, { flags: 'S', seq: R + 1 });
      expectState(ep, 'LISTEN');
      expectChanges(ep, ['syn-to-listen']);
      expectNothingSent(ep);
    });

    it('in-window SYN of an active open → challenge ACK (RFC 5961 §4)', () => {
      const ep = active();
      arrive(ep, { flags: 'S', seq: R + 10 });
      expectSent(ep, [{ flags: '.', seq: L + 1, ack: R + 1 }]);
      expectState(ep, 'SYN_RECEIVED');
      expectChanges(ep, []);
    });
  });

  describe('fifth: ACK', () => {
    it('segment without ACK is dropped', () => {
      const ep = passive();
      arrive(ep, { flags: 'P', seq: R + 1, len: 10 });
      expectQuiet(ep, 'SYN_RECEIVED');
    });

    it('FIN without ACK is dropped', () => {
      const ep = passive();
      arrive(ep, { flags: 'F', seq: R + 1 });
      expectQuiet(ep, 'SYN_RECEIVED');
    });

    it('ACK of our SYN → ESTABLISHED, nothing sent', () => {
      const ep = passive();
      arrive(ep, { flags: '.', seq: R + 1, ack: L + 1, window: 7000 });
      expectState(ep, 'ESTABLISHED');
      expectChanges(ep, ['rcv-ack-of-syn']);
      expectNotified(ep, ['established']);
      expectNothingSent(ep);
      expect(ep.sndUna).toBe(L + 1);
      expect(ep.sndWnd).toBe(7000);
      expect(ep.nextDeadline()).toBe(-1);
    });

    it('ACK of our SYN ends a simultaneous open too', () => {
      const ep = active();
      arrive(ep, { flags: 'S.', seq: R, ack: L + 1 }); // the peer's SYN,ACK: old SYN, in-window ACK
      takeSent(ep);
      arrive(ep, { flags: '.', seq: R + 1, ack: L + 1 });
      expectState(ep, 'ESTABLISHED');
      expectChanges(ep, ['rcv-ack-of-syn']);
    });

    it.each([
      ['SEG.ACK = SND.UNA (does not cover the SYN)', L],
      ['SEG.ACK > SND.NXT', L + 2],
      ['SEG.ACK far behind', L - 70_000],
    ])('unacceptable ACK (%s) → <SEQ=SEG.ACK><CTL=RST>, stay', (_name, ack) => {
      const ep = passive();
      arrive(ep, { flags: '.', seq: R + 1, ack });
      expectSent(ep, [{ flags: 'R', seq: ack }]);
      expectState(ep, 'SYN_RECEIVED');
      expectChanges(ep, []);
    });

    it('ACK with data → ESTABLISHED and the data is delivered and acknowledged', () => {
      const ep = passive();
      arrive(ep, { flags: 'P.', seq: R + 1, ack: L + 1, len: 100 });
      expectChanges(ep, ['rcv-ack-of-syn']);
      expectNotified(ep, ['established', 'data:100']);
      expectSent(ep, [{ flags: '.', seq: L + 1, ack: R + 101 }]);
    });

    it('ACK with FIN → ESTABLISHED then CLOSE_WAIT, FIN acknowledged', () => {
      const ep = passive();
      arrive(ep, { flags: 'F.', seq: R + 1, ack: L + 1 });
      expectState(ep, 'CLOSE_WAIT');
      expectChanges(ep, ['rcv-ack-of-syn', 'rcv-fin']);
      expectNotified(ep, ['established', 'closing']);
      expectSent(ep, [{ flags: '.', seq: L + 1, ack: R + 2 }]);
    });
  });

  describe('user calls', () => {
    it.each(['listen', 'connect'] as const)('%s → error "connection already exists"', (call) => {
      const ep = passive();
      expect(() => ep[call](0)).toThrow(`${call} in SYN_RECEIVED: connection already exists`);
      expectQuiet(ep, 'SYN_RECEIVED');
    });

    it('send queues the data until ESTABLISHED', () => {
      const ep = passive();
      ep.send(200, 0);
      expectQuiet(ep, 'SYN_RECEIVED');
      arrive(ep, { flags: '.', seq: R + 1, ack: L + 1 });
      expectSent(ep, [{ flags: 'P.', seq: L + 1, ack: R + 1, len: 200 }]);
    });

    it('receive returns nothing yet', () => {
      const ep = passive();
      expect(ep.receive(10, 0)).toBe(0);
    });

    it.each(['close', 'shutdown'] as const)('%s with nothing queued → FIN_WAIT_1 with a FIN (§3.10.4)', (call) => {
      const ep = passive();
      ep[call](0);
      expectState(ep, 'FIN_WAIT_1');
      expectChanges(ep, ['close-syn-received']);
      expectSent(ep, [{ flags: 'F.', seq: L + 1, ack: R + 1 }]);
      expect(ep.finSent).toBe(true);
    });

    it('after close, the ACK of SYN and FIN → FIN_WAIT_2', () => {
      const ep = synReceived({ profile });
      ep.shutdown(0);
      takeSent(ep);
      arrive(ep, { flags: '.', seq: R + 1, ack: L + 2 });
      expectState(ep, 'FIN_WAIT_2');
      expectChanges(ep, ['close-syn-received', 'rcv-ack-of-fin']);
    });

    it('close with data queued waits for ESTABLISHED, then the FIN follows the data', () => {
      const ep = passive();
      ep.send(100, 0);
      ep.close(0);
      expectQuiet(ep, 'SYN_RECEIVED');
      expect(ep.finQueued).toBe(true);
      arrive(ep, { flags: '.', seq: R + 1, ack: L + 1 });
      expectState(ep, 'FIN_WAIT_1');
      expectChanges(ep, ['rcv-ack-of-syn', 'close-established']);
      expectSent(ep, [{ flags: 'FP.', seq: L + 1, ack: R + 1, len: 100 }]);
    });

    it('send after close → error "connection closing"', () => {
      const ep = passive();
      ep.send(100, 0);
      ep.close(0);
      expect(() => ep.send(1, 0)).toThrow(ConnectionCallError);
      expect(() => ep.send(1, 0)).toThrow('send in SYN_RECEIVED: connection closing');
    });

    it('abort → <SEQ=SND.NXT><CTL=RST> (with ACK), "connection reset", CLOSED', () => {
      const ep = passive();
      ep.abort(0);
      expectSent(ep, [{ flags: 'R.', seq: L + 1, ack: R + 1 }]);
      expectState(ep, 'CLOSED');
      expectChanges(ep, ['abort']);
      expectNotified(ep, ['reset']);
      expect(ep.nextDeadline()).toBe(-1);
    });
  });

  describe('timers', () => {
    it('the SYN,ACK is retransmitted after 1 s, then 2 s later', () => {
      const ep = passive();
      ep.tick(1000);
      expectSent(ep, [{ flags: 'S.', seq: L, ack: R + 1 }]);
      expect(ep.rtxDeadline).toBe(3000);
      ep.tick(3000);
      expectSent(ep, [{ flags: 'S.', seq: L, ack: R + 1 }]);
      expectState(ep, 'SYN_RECEIVED');
    });

    it('the simultaneous-open SYN,ACK is retransmitted the same way', () => {
      const ep = active();
      ep.tick(1000);
      expectSent(ep, [{ flags: 'S.', seq: L, ack: R + 1 }]);
    });

    it('after close() with the SYN unacknowledged, the SYN,ACK is what gets retransmitted', () => {
      const ep = passive();
      ep.shutdown(0);
      takeSent(ep);
      ep.tick(1000);
      expectSent(ep, [{ flags: 'S.', seq: L, ack: R + 1 }]);
      // the ACK of the SYN alone lets the FIN go again (go-back-N recovery)
      arrive(ep, { flags: '.', seq: R + 1, ack: L + 1 }, 1100);
      expectSent(ep, [{ flags: 'F.', seq: L + 1, ack: R + 1 }]);
      expectState(ep, 'FIN_WAIT_1');
    });

    it('same after a simultaneous open: the SYN,ACK, not a data segment, is retransmitted', () => {
      const ep = active();
      ep.shutdown(0);
      expectSent(ep, [{ flags: 'F.', seq: L + 1, ack: R + 1 }]);
      ep.tick(1000);
      expectSent(ep, [{ flags: 'S.', seq: L, ack: R + 1 }]);
    });
  });
});

describe('SYN_RECEIVED timers, linux profile: tcp_synack_retries = 5', () => {
  it('passive: 5 SYN,ACK retransmissions, then the request is dropped (back to LISTEN) at 63 s', () => {
    const ep = synReceived({ profile: 'linux' });
    expect(advance(ep, 100_000)).toEqual([1000, 3000, 7000, 15_000, 31_000, 63_000]);
    expect(takeSent(ep)).toHaveLength(5);
    expectState(ep, 'LISTEN');
    expectChanges(ep, ['syn-received-timeout']);
    expectNotified(ep, []);
  });

  it('active (simultaneous open): CLOSED with "timeout" at 63 s', () => {
    const ep = synReceived({ profile: 'linux', passive: false });
    advance(ep, 100_000);
    expectState(ep, 'CLOSED');
    expectChanges(ep, ['user-timeout']);
    expectNotified(ep, ['timeout']);
  });
});

describe('SYN_RECEIVED timers, rfc9293 profile: user timeout 5 min', () => {
  it('passive: back to LISTEN at 300 s', () => {
    const ep = synReceived({ profile: 'rfc9293' });
    const ticks = advance(ep, 1_000_000);
    expect(ticks.at(-1)).toBe(300_000);
    expectState(ep, 'LISTEN');
    expectChanges(ep, ['syn-received-timeout']);
  });

  it('active: CLOSED with "timeout" at 300 s', () => {
    const ep = synReceived({ profile: 'rfc9293', passive: false });
    advance(ep, 1_000_000);
    expectState(ep, 'CLOSED');
    expectChanges(ep, ['user-timeout']);
    expectNotified(ep, ['timeout']);
  });
});

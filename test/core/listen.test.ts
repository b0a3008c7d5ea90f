/** LISTEN (RFC 9293 §3.10.7.2, and the user calls of §3.10.1–§3.10.5). */
import { describe, expect, it } from 'vitest';
import { ConnectionCallError } from '../../src/core/errors.js';
import {
  arrive,
  expectChanges,
  expectNothingSent,
  expectNotified,
  expectQuiet,
  expectSent,
  expectState,
  L,
  listening,
  PROFILES,
  R,
} from './helpers.js';

describe.each(PROFILES)('LISTEN (%s)', (profile) => {
  describe('first: RST', () => {
    it('RST is ignored', () => {
      const ep = listening({ profile });
      arrive(ep, { flags: 'R', seq: R });
      expectQuiet(ep, 'LISTEN');
    });

    it('RST,ACK is ignored (no RST in reply to a RST)', () => {
      const ep = listening({ profile });
      arrive(ep, { flags: 'R.', seq: R, ack: L });
      expectQuiet(ep, 'LISTEN');
    });

    it('SYN,RST is ignored: the RST check comes first', () => {
      const ep = listening({ profile });
      ep.segmentArrives({ seq: R, ack: 0, flags: 0x06, window: 1000, len: 0 }, 0);
      expectQuiet(ep, 'LISTEN');
    });
  });

  describe('second: ACK', () => {
    it('ACK is answered <SEQ=SEG.ACK><CTL=RST>, listener stays', () => {
      const ep = listening({ profile });
      arrive(ep, { flags: '.', seq: R, ack: L + 123 });
      expectSent(ep, [{ flags: 'R', seq: L + 123 }]);
      expectState(ep, 'LISTEN');
      expectChanges(ep, []);
    });

    it('SYN,ACK is answered <SEQ=SEG.ACK><CTL=RST>', () => {
      const ep = listening({ profile });
      arrive(ep, { flags: 'S.', seq: R, ack: 77 });
      expectSent(ep, [{ flags: 'R', seq: 77 }]);
      expectState(ep, 'LISTEN');
    });

    it('data with ACK is answered with a RST', () => {
      const ep = listening({ profile });
      arrive(ep, { flags: 'P.', seq: R, ack: 9, len: 50 });
      expectSent(ep, [{ flags: 'R', seq: 9 }]);
    });

    it('FIN,ACK is answered with a RST', () => {
      const ep = listening({ profile });
      arrive(ep, { flags: 'F.', seq: R, ack: 9 });
      expectSent(ep, [{ flags: 'R', seq: 9 }]);
    });
  });

  describe('third: SYN', () => {
    it('SYN → SYN_RECEIVED with <SEQ=ISS><ACK=RCV.NXT><CTL=SYN,ACK>', () => {
      const ep = listening({ profile });
      arrive(ep, { flags: 'S', seq: R });
      expectState(ep, 'SYN_RECEIVED');
      expectChanges(ep, ['rcv-syn']);
      expectSent(ep, [{ flags: 'S.', seq: L, ack: R + 1 }]);
      expectNotified(ep, []);
    });

    it('SYN sets IRS, RCV.NXT, SND.UNA and SND.NXT', () => {
      const ep = listening({ profile });
      arrive(ep, { flags: 'S', seq: R });
      expect(ep.irs).toBe(R);
      expect(ep.rcvNxt).toBe(R + 1);
      expect(ep.iss).toBe(L);
      expect(ep.sndUna).toBe(L);
      expect(ep.sndNxt).toBe(L + 1);
    });

    it('the ISS is chosen when the SYN arrives (clock-driven)', () => {
      const ep = listening({ profile });
      arrive(ep, { flags: 'S', seq: R }, 2);
      expect(ep.iss).toBe(L + 500);
      expectSent(ep, [{ flags: 'S.', seq: L + 500, ack: R + 1 }]);
    });

    it('the SYN,ACK advertises the receive buffer as window', () => {
      const ep = listening({ profile, rcvBuffer: 8192 });
      arrive(ep, { flags: 'S', seq: R });
      expectSent(ep, [{ flags: 'S.', seq: L, ack: R + 1, window: 8192 }]);
    });

    it("the peer's window is taken from the SYN", () => {
      const ep = listening({ profile });
      arrive(ep, { flags: 'S', seq: R, window: 1234 });
      expect(ep.sndWnd).toBe(1234);
    });

    it('the SYN,ACK retransmission timer starts at the initial RTO', () => {
      const ep = listening({ profile });
      arrive(ep, { flags: 'S', seq: R }, 0);
      expect(ep.rtxDeadline).toBe(1000);
    });

    it('RCV.NXT wraps when IRS is 2^32-1', () => {
      const ep = listening({ profile });
      arrive(ep, { flags: 'S', seq: 0xffff_ffff });
      expectSent(ep, [{ flags: 'S.', seq: L, ack: 0 }]);
      expect(ep.rcvNxt).toBe(0);
    });

    it('data on the SYN is not acknowledged (it may be dropped, §3.10.7.2)', () => {
      const ep = listening({ profile });
      arrive(ep, { flags: 'S', seq: R, len: 100 });
      expectSent(ep, [{ flags: 'S.', seq: L, ack: R + 1 }]);
      expectNotified(ep, []);
    });
  });

  describe('fourth: other text or control', () => {
    it('FIN without ACK is dropped', () => {
      const ep = listening({ profile });
      arrive(ep, { flags: 'F', seq: R });
      expectQuiet(ep, 'LISTEN');
    });

    it('data without ACK is dropped', () => {
      const ep = listening({ profile });
      arrive(ep, { flags: 'P', seq: R, len: 10 });
      expectQuiet(ep, 'LISTEN');
    });
  });

  describe('user calls', () => {
    it('listen → error "connection already exists"', () => {
      const ep = listening({ profile });
      expect(() => ep.listen(0)).toThrow(ConnectionCallError);
      expect(() => ep.listen(0)).toThrow('listen in LISTEN: connection already exists');
      expectQuiet(ep, 'LISTEN');
    });

    it('connect → SYN_SENT with a SYN (§3.10.1: a listener made active)', () => {
      const ep = listening({ profile });
      ep.connect(0);
      expectState(ep, 'SYN_SENT');
      expectChanges(ep, ['listen-send']);
      expectSent(ep, [{ flags: 'S', seq: L }]);
    });

    it('send → SYN_SENT with a SYN, the data queued until ESTABLISHED (§3.10.2)', () => {
      const ep = listening({ profile });
      ep.send(100, 0);
      expectState(ep, 'SYN_SENT');
      expectChanges(ep, ['listen-send']);
      expectSent(ep, [{ flags: 'S', seq: L }]);
      expect(ep.sendQueued).toBe(100);
      arrive(ep, { flags: 'S.', seq: R, ack: L + 1 });
      expectState(ep, 'ESTABLISHED');
      expectSent(ep, [
        { flags: '.', seq: L + 1, ack: R + 1 },
        { flags: 'P.', seq: L + 1, ack: R + 1, len: 100 },
      ]);
    });

    it('receive returns nothing (there is no data yet)', () => {
      const ep = listening({ profile });
      expect(ep.receive(100, 0)).toBe(0);
      expectQuiet(ep, 'LISTEN');
    });

    it('close → CLOSED, nothing sent', () => {
      const ep = listening({ profile });
      ep.close(0);
      expectState(ep, 'CLOSED');
      expectChanges(ep, ['close-listen']);
      expectNothingSent(ep);
    });

    it('shutdown → CLOSED, nothing sent', () => {
      const ep = listening({ profile });
      ep.shutdown(0);
      expectState(ep, 'CLOSED');
      expectChanges(ep, ['close-listen']);
      expectNothingSent(ep);
    });

    it('abort → CLOSED, nothing sent', () => {
      const ep = listening({ profile });
      ep.abort(0);
      expectState(ep, 'CLOSED');
      expectChanges(ep, ['abort-listen']);
      expectNothingSent(ep);
    });

    it('a closed listener answers a SYN with RST,ACK', () => {
      const ep = listening({ profile });
      ep.close(0);
      arrive(ep, { flags: 'S', seq: R });
      expectSent(ep, [{ flags: 'R.', seq: 0, ack: R + 1 }]);
    });
  });

  describe('timers', () => {
    it('a listener runs no timer', () => {
      const ep = listening({ profile });
      expect(ep.nextDeadline()).toBe(-1);
      ep.tick(1e9);
      expectQuiet(ep, 'LISTEN');
    });
  });
});

/** CLOSED (RFC 9293 §3.10.7.1 and the user calls of §3.10.1–§3.10.5 without a TCB). */
import { describe, expect, it } from 'vitest';
import { ConnectionCallError } from '../../src/core/errors.js';
import {
  advance,
  arrive,
  closed,
  closedAfterConnection,
  expectChanges,
  expectNothingSent,
  expectQuiet,
  expectSent,
  expectState,
  L,
  PROFILES,
  R,
} from './helpers.js';

describe.each(PROFILES)('CLOSED (%s)', (profile) => {
  describe('segment arrives (§3.10.7.1)', () => {
    it('RST is ignored', () => {
      const ep = closed({ profile });
      arrive(ep, { flags: 'R', seq: R });
      expectQuiet(ep, 'CLOSED');
    });

    it('RST,ACK is ignored', () => {
      const ep = closed({ profile });
      arrive(ep, { flags: 'R.', seq: R, ack: L });
      expectQuiet(ep, 'CLOSED');
    });

    it('ACK is answered <SEQ=SEG.ACK><CTL=RST>', () => {
      const ep = closed({ profile });
      arrive(ep, { flags: '.', seq: R, ack: L + 7 });
      expectSent(ep, [{ flags: 'R', seq: L + 7 }]);
      expectState(ep, 'CLOSED');
    });

    it('data with ACK is answered <SEQ=SEG.ACK><CTL=RST>', () => {
      const ep = closed({ profile });
      arrive(ep, { flags: 'P.', seq: R, ack: L, len: 100 });
      expectSent(ep, [{ flags: 'R', seq: L }]);
    });

    it('SYN,ACK is answered <SEQ=SEG.ACK><CTL=RST>', () => {
      const ep = closed({ profile });
      arrive(ep, { flags: 'S.', seq: R, ack: L + 1 });
      expectSent(ep, [{ flags: 'R', seq: L + 1 }]);
    });

    it('FIN,ACK is answered <SEQ=SEG.ACK><CTL=RST>', () => {
      const ep = closed({ profile });
      arrive(ep, { flags: 'F.', seq: R, ack: L + 3 });
      expectSent(ep, [{ flags: 'R', seq: L + 3 }]);
    });

    it('SYN is answered <SEQ=0><ACK=SEG.SEQ+1><CTL=RST,ACK>', () => {
      const ep = closed({ profile });
      arrive(ep, { flags: 'S', seq: R });
      expectSent(ep, [{ flags: 'R.', seq: 0, ack: R + 1 }]);
      expectState(ep, 'CLOSED');
      expectChanges(ep, []);
    });

    it('SYN with data: SEG.LEN counts the SYN and the data', () => {
      const ep = closed({ profile });
      arrive(ep, { flags: 'S', seq: R, len: 10 });
      expectSent(ep, [{ flags: 'R.', seq: 0, ack: R + 11 }]);
    });

    it('FIN without ACK: SEG.LEN counts the FIN', () => {
      const ep = closed({ profile });
      arrive(ep, { flags: 'F', seq: R });
      expectSent(ep, [{ flags: 'R.', seq: 0, ack: R + 1 }]);
    });

    it('data without ACK: <ACK=SEG.SEQ+SEG.LEN>', () => {
      const ep = closed({ profile });
      arrive(ep, { flags: 'P', seq: R, len: 40 });
      expectSent(ep, [{ flags: 'R.', seq: 0, ack: R + 40 }]);
    });

    it('the RST,ACK acknowledgment wraps modulo 2^32', () => {
      const ep = closed({ profile });
      arrive(ep, { flags: 'S', seq: 0xffff_ffff });
      expectSent(ep, [{ flags: 'R.', seq: 0, ack: 0 }]);
    });

    it('the reply RST advertises no window', () => {
      const ep = closed({ profile });
      arrive(ep, { flags: '.', seq: R, ack: L });
      expectSent(ep, [{ flags: 'R', seq: L, window: 0 }]);
    });

    it('after a connection has ended, segments get the same RST replies', () => {
      const ep = closedAfterConnection({ profile });
      arrive(ep, { flags: '.', seq: R + 2, ack: L + 2 });
      expectSent(ep, [{ flags: 'R', seq: L + 2 }]);
      arrive(ep, { flags: 'F', seq: R + 1 });
      expectSent(ep, [{ flags: 'R.', seq: 0, ack: R + 2 }]);
      expectState(ep, 'CLOSED');
    });
  });

  describe('user calls', () => {
    it('listen (passive OPEN) → LISTEN, nothing sent', () => {
      const ep = closed({ profile });
      ep.listen(0);
      expectState(ep, 'LISTEN');
      expectChanges(ep, ['passive-open']);
      expectNothingSent(ep);
    });

    it('connect (active OPEN) → SYN_SENT with <SEQ=ISS><CTL=SYN>', () => {
      const ep = closed({ profile });
      ep.connect(0);
      expectState(ep, 'SYN_SENT');
      expectChanges(ep, ['active-open']);
      expectSent(ep, [{ flags: 'S', seq: L }]);
      expect(ep.iss).toBe(L);
      expect(ep.sndUna).toBe(L);
      expect(ep.sndNxt).toBe(L + 1);
    });

    it('the ISS follows the 4 µs clock (§3.4.1): 250 per millisecond', () => {
      const ep = closed({ profile });
      ep.connect(1000);
      expect(ep.iss).toBe(L + 250_000);
      expectSent(ep, [{ flags: 'S', seq: L + 250_000 }]);
    });

    it('the ISS wraps modulo 2^32', () => {
      const ep = closed({ profile, iss: 0xffff_ffff });
      ep.connect(0);
      expect(ep.iss).toBe(0xffff_ffff);
      expect(ep.sndNxt).toBe(0);
    });

    it('connect arms the SYN retransmission timer at the initial RTO (1 s)', () => {
      const ep = closed({ profile });
      ep.connect(0);
      expect(ep.rtxDeadline).toBe(1000);
    });

    it.each(['send', 'receive', 'close', 'shutdown', 'abort'] as const)(
      '%s → error "connection does not exist"',
      (call) => {
        const ep = closed({ profile });
        const run = (): unknown => (call === 'send' || call === 'receive' ? ep[call](10, 0) : ep[call](0));
        expect(run).toThrow(ConnectionCallError);
        expect(run).toThrow(`${call} in CLOSED: connection does not exist`);
        expectQuiet(ep, 'CLOSED');
      },
    );

    it('the error carries the stable code E_CALL_REJECTED', () => {
      const ep = closed({ profile });
      try {
        ep.send(1, 0);
        expect.unreachable();
      } catch (e) {
        expect(e).toBeInstanceOf(ConnectionCallError);
        expect((e as ConnectionCallError).code).toBe('E_CALL_REJECTED');
      }
    });

    it('setReading is harmless', () => {
      const ep = closed({ profile });
      ep.setReading(false, 0);
      ep.setReading(true, 0);
      expectQuiet(ep, 'CLOSED');
    });
  });

  describe('timers', () => {
    it('no timer runs', () => {
      const ep = closed({ profile });
      expect(ep.nextDeadline()).toBe(-1);
      ep.tick(1e9);
      expectQuiet(ep, 'CLOSED');
    });

    it('no timer survives the end of a connection', () => {
      const ep = closedAfterConnection({ profile });
      expect(ep.nextDeadline()).toBe(-1);
      expect(advance(ep, 1e9)).toEqual([]);
    });
  });
});

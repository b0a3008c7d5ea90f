/** ESTABLISHED (RFC 9293 §3.10.7.4, RFC 5961, §3.10.2–§3.10.5 calls, RFC 6298 timers). */
import { describe, expect, it } from 'vitest';
import { ConnectionCallError } from '../../src/core/errors.js';
import {
  advance,
  arrive,
  established,
  expectChanges,
  expectNothingSent,
  expectNotified,
  expectQuiet,
  expectSent,
  expectState,
  L,
  PEER_WINDOW,
  PROFILES,
  R,
  synchronizedRules,
  takeSent,
} from './helpers.js';

synchronizedRules({
  state: 'ESTABLISHED',
  make: (profile) => established({ profile }),
  sndNxt: L + 1,
  rcvNxt: R + 1,
  resetRule: 'rst-reset',
  resetNotes: ['reset'],
});

describe.each(PROFILES)('ESTABLISHED (%s)', (profile) => {
  const ack = { flags: '.', seq: L + 1, ack: R + 1 } as const;

  describe('the factories', () => {
    it('active open: TCB after the handshake', () => {
      const ep = established({ profile });
      expect([ep.iss, ep.irs, ep.sndUna, ep.sndNxt, ep.rcvNxt]).toEqual([L, R, L + 1, L + 1, R + 1]);
      expect(ep.sndWnd).toBe(PEER_WINDOW);
      expect(ep.rcvWnd).toBe(65_535);
      expect(ep.nextDeadline()).toBe(-1);
    });

    it('passive open: same TCB', () => {
      const ep = established({ profile, passive: true });
      expect([ep.iss, ep.irs, ep.sndUna, ep.sndNxt, ep.rcvNxt]).toEqual([L, R, L + 1, L + 1, R + 1]);
      expect(ep.passiveOpen).toBe(true);
    });
  });

  describe('first: sequence acceptability (the four cases)', () => {
    it('length 0, window > 0: RCV.NXT =< SEG.SEQ < RCV.NXT+RCV.WND, left edge accepted', () => {
      const ep = established({ profile });
      arrive(ep, { flags: '.', seq: R + 1, ack: L + 1 });
      expectQuiet(ep, 'ESTABLISHED');
    });

    it('length 0, window > 0: last octet of the window accepted', () => {
      const ep = established({ profile });
      arrive(ep, { flags: '.', seq: R + 65_535, ack: L + 1, window: 100 });
      expectQuiet(ep, 'ESTABLISHED');
      expect(ep.sndWnd).toBe(100); // processed: the window update was taken
    });

    it('length 0, window > 0: right edge rejected with an ACK', () => {
      const ep = established({ profile });
      arrive(ep, { flags: '.', seq: R + 1 + 65_535, ack: L + 1, window: 100 });
      expectSent(ep, [ack]);
      expect(ep.sndWnd).toBe(PEER_WINDOW);
    });

    it('length 0, window 0: only SEG.SEQ = RCV.NXT is acceptable', () => {
      const ep = established({ profile, reading: false, rcvBuffer: 1000 });
      arrive(ep, { flags: 'P.', seq: R + 1, ack: L + 1, len: 1000 });
      expectSent(ep, [{ flags: '.', seq: L + 1, ack: R + 1001, window: 0 }]);
      expect(ep.rcvWnd).toBe(0);
      arrive(ep, { flags: '.', seq: R + 1001, ack: L + 1 });
      expectNothingSent(ep);
      arrive(ep, { flags: '.', seq: R + 1002, ack: L + 1 });
      expectSent(ep, [{ flags: '.', seq: L + 1, ack: R + 1001, window: 0 }]);
    });

    it('length > 0, window 0: not acceptable, ACK with the zero window, nothing delivered', () => {
      const ep = established({ profile, reading: false, rcvBuffer: 1000 });
      arrive(ep, { flags: 'P.', seq: R + 1, ack: L + 1, len: 1000 });
      takeSent(ep);
      arrive(ep, { flags: 'P.', seq: R + 1001, ack: L + 1, len: 1 });
      expectSent(ep, [{ flags: '.', seq: L + 1, ack: R + 1001, window: 0 }]);
      expect(ep.rcvNxt).toBe(R + 1001);
      expect(ep.rcvBuffered).toBe(1000);
    });

    it('zero window still processes a valid ACK carried by a data segment (§3.10.7.4)', () => {
      const ep = established({ profile, reading: false, rcvBuffer: 1000 });
      ep.send(100, 0);
      takeSent(ep);
      arrive(ep, { flags: 'P.', seq: R + 1, ack: L + 1, len: 1000 });
      takeSent(ep);
      arrive(ep, { flags: 'P.', seq: R + 1001, ack: L + 101, len: 10 });
      expect(ep.sndUna).toBe(L + 101);
      expect(ep.rtxDeadline).toBe(-1);
      expectSent(ep, [{ flags: '.', seq: L + 101, ack: R + 1001, window: 0 }]);
    });

    it('length > 0, window > 0: first octet in the window is acceptable', () => {
      const ep = established({ profile });
      arrive(ep, { flags: 'P.', seq: R + 1, ack: L + 1, len: 10 });
      expectNotified(ep, ['data:10']);
      expectSent(ep, [{ flags: '.', seq: L + 1, ack: R + 11 }]);
    });

    it('length > 0, window > 0: only the last octet in the window is acceptable, old part trimmed', () => {
      const ep = established({ profile });
      arrive(ep, { flags: 'P.', seq: R - 9, ack: L + 1, len: 20 });
      expectNotified(ep, ['data:10']);
      expectSent(ep, [{ flags: '.', seq: L + 1, ack: R + 11 }]);
      expect(ep.rcvNxt).toBe(R + 11);
    });

    it('length > 0 entirely before RCV.NXT → duplicate ACK, nothing delivered', () => {
      const ep = established({ profile });
      arrive(ep, { flags: 'P.', seq: R - 99, ack: L + 1, len: 100 });
      expectSent(ep, [ack]);
      expectNotified(ep, []);
    });

    it('length > 0 entirely beyond the window → ACK, nothing delivered', () => {
      const ep = established({ profile, rcvBuffer: 1000 });
      arrive(ep, { flags: 'P.', seq: R + 1001, ack: L + 1, len: 10 });
      expectSent(ep, [ack]);
      expectNotified(ep, []);
    });

    it('sequence numbers wrap: data across 2^32 is accepted', () => {
      const ep = established({ profile, peerIss: 0xffff_fff0 });
      arrive(ep, { flags: 'P.', seq: 0xffff_fff1, ack: L + 1, len: 100 });
      expectNotified(ep, ['data:100']);
      expectSent(ep, [{ flags: '.', seq: L + 1, ack: (0xffff_fff1 + 100) >>> 0 }]);
    });
  });

  describe('fifth: ACK', () => {
    it('the ACK of our data advances SND.UNA and stops the retransmission timer', () => {
      const ep = established({ profile });
      ep.send(100, 0);
      expectSent(ep, [{ flags: 'P.', seq: L + 1, ack: R + 1, len: 100 }]);
      expect(ep.rtxDeadline).toBeGreaterThan(0);
      arrive(ep, { flags: '.', seq: R + 1, ack: L + 101 }, 50);
      expect(ep.sndUna).toBe(L + 101);
      expect(ep.rtxDeadline).toBe(-1);
      expectQuiet(ep, 'ESTABLISHED');
    });

    it('a partial ACK restarts the retransmission timer', () => {
      const ep = established({ profile });
      ep.send(3000, 0);
      takeSent(ep);
      arrive(ep, { flags: '.', seq: R + 1, ack: L + 1461 }, 100);
      expect(ep.sndUna).toBe(L + 1461);
      expect(ep.rtxDeadline).toBe(100 + ep.rto.rto);
    });

    it('the lowest acceptable ACK (SND.UNA - MAX.SND.WND) is accepted with its data', () => {
      const ep = established({ profile });
      arrive(ep, { flags: 'P.', seq: R + 1, ack: L + 1 - PEER_WINDOW, len: 5 });
      expectNotified(ep, ['data:5']);
      expectSent(ep, [{ flags: '.', seq: L + 1, ack: R + 6 }]);
    });

    it('ACK > SND.NXT drops the data of the segment', () => {
      const ep = established({ profile });
      arrive(ep, { flags: 'P.', seq: R + 1, ack: L + 2, len: 50 });
      expectSent(ep, [ack]);
      expectNotified(ep, []);
      expect(ep.rcvNxt).toBe(R + 1);
    });

    it('a duplicate ACK (SEG.ACK = SND.UNA) with data: the data is taken', () => {
      const ep = established({ profile });
      arrive(ep, { flags: 'P.', seq: R + 1, ack: L + 1, len: 7 });
      expectNotified(ep, ['data:7']);
    });

    it('window update from a newer segment', () => {
      const ep = established({ profile });
      arrive(ep, { flags: '.', seq: R + 1, ack: L + 1, window: 5000 });
      expect(ep.sndWnd).toBe(5000);
    });

    it('no window update from an older segment (SND.WL2 > SEG.ACK)', () => {
      const ep = established({ profile });
      ep.send(100, 0);
      takeSent(ep);
      arrive(ep, { flags: '.', seq: R + 1, ack: L + 101, window: 5000 });
      arrive(ep, { flags: '.', seq: R + 1, ack: L + 51, window: 100 });
      expect(ep.sndWnd).toBe(5000);
      expect(ep.sndUna).toBe(L + 101);
    });

    it('a window opening releases queued data', () => {
      const ep = established({ profile, peerWindow: 1000 });
      ep.send(1500, 0);
      expectSent(ep, [{ flags: '.', seq: L + 1, ack: R + 1, len: 1000 }]);
      arrive(ep, { flags: '.', seq: R + 1, ack: L + 1001, window: 1000 });
      expectSent(ep, [{ flags: 'P.', seq: L + 1001, ack: R + 1, len: 500 }]);
    });

    it('RTT samples from data ACKs feed the estimator (RFC 6298 §2.3)', () => {
      const ep = established({ profile });
      ep.send(100, 1000);
      arrive(ep, { flags: '.', seq: R + 1, ack: L + 101 }, 1400);
      // first sample 0 ms (handshake at time 0), then 400 ms
      expect(ep.rto.rttvar).toBe(100);
      expect(ep.rto.srtt).toBe(50);
    });
  });

  describe('seventh: segment text', () => {
    it('in-order data is delivered and acknowledged', () => {
      const ep = established({ profile });
      arrive(ep, { flags: 'P.', seq: R + 1, ack: L + 1, len: 100 });
      expectNotified(ep, ['data:100']);
      expectSent(ep, [{ flags: '.', seq: L + 1, ack: R + 101, window: 65_535 }]);
      expect(ep.rcvNxt).toBe(R + 101);
      expectState(ep, 'ESTABLISHED');
    });

    it('consecutive segments are acknowledged cumulatively', () => {
      const ep = established({ profile });
      arrive(ep, { flags: '.', seq: R + 1, ack: L + 1, len: 100 });
      arrive(ep, { flags: 'P.', seq: R + 101, ack: L + 1, len: 50 });
      expectSent(ep, [
        { flags: '.', seq: L + 1, ack: R + 101 },
        { flags: '.', seq: L + 1, ack: R + 151 },
      ]);
    });

    it('unread data shrinks the advertised window', () => {
      const ep = established({ profile, reading: false });
      arrive(ep, { flags: 'P.', seq: R + 1, ack: L + 1, len: 100 });
      expectNotified(ep, []);
      expect(ep.rcvBuffered).toBe(100);
      expectSent(ep, [{ flags: '.', seq: L + 1, ack: R + 101, window: 65_435 }]);
    });

    it('receive() takes buffered data; a small read sends no window update', () => {
      const ep = established({ profile, reading: false });
      arrive(ep, { flags: 'P.', seq: R + 1, ack: L + 1, len: 100 });
      takeSent(ep);
      expect(ep.receive(60, 0)).toBe(60);
      expect(ep.receive(1000, 0)).toBe(40);
      expect(ep.receive(1000, 0)).toBe(0);
      expectNothingSent(ep);
    });

    it('a read that opens the window by an MSS sends a window update (§3.8.6.2.2)', () => {
      const ep = established({ profile, reading: false });
      arrive(ep, { flags: 'P.', seq: R + 1, ack: L + 1, len: 2000 });
      takeSent(ep);
      ep.receive(2000, 0);
      expectSent(ep, [{ flags: '.', seq: L + 1, ack: R + 2001, window: 65_535 }]);
    });

    it('setReading(true) hands over the buffered data', () => {
      const ep = established({ profile, reading: false });
      arrive(ep, { flags: 'P.', seq: R + 1, ack: L + 1, len: 30 });
      ep.setReading(true, 0);
      expectNotified(ep, ['data:30']);
      expect(ep.rcvBuffered).toBe(0);
    });

    it('out-of-order data → duplicate ACK for RCV.NXT, nothing delivered', () => {
      const ep = established({ profile });
      arrive(ep, { flags: 'P.', seq: R + 101, ack: L + 1, len: 100 });
      expectSent(ep, [ack]);
      expectNotified(ep, []);
      expect(ep.rcvNxt).toBe(R + 1);
    });

    it('data beyond the window is trimmed; only the in-window part is acknowledged', () => {
      const ep = established({ profile, rcvBuffer: 1000 });
      arrive(ep, { flags: 'P.', seq: R + 1, ack: L + 1, len: 1500 });
      expectNotified(ep, ['data:1000']);
      expectSent(ep, [{ flags: '.', seq: L + 1, ack: R + 1001 }]);
    });

    it('a FIN beyond the window is trimmed with the data', () => {
      const ep = established({ profile, rcvBuffer: 1000 });
      arrive(ep, { flags: 'FP.', seq: R + 1, ack: L + 1, len: 1500 });
      expectState(ep, 'ESTABLISHED');
      expectNotified(ep, ['data:1000']);
      expectSent(ep, [{ flags: '.', seq: L + 1, ack: R + 1001 }]);
    });
  });

  describe('eighth: FIN', () => {
    it('FIN → CLOSE_WAIT, "connection closing", <ACK=FIN+1>', () => {
      const ep = established({ profile });
      arrive(ep, { flags: 'F.', seq: R + 1, ack: L + 1 });
      expectState(ep, 'CLOSE_WAIT');
      expectChanges(ep, ['rcv-fin']);
      expectNotified(ep, ['closing']);
      expectSent(ep, [{ flags: '.', seq: L + 1, ack: R + 2 }]);
    });

    it('FIN with data: data then FIN, one ACK for both', () => {
      const ep = established({ profile });
      arrive(ep, { flags: 'FP.', seq: R + 1, ack: L + 1, len: 100 });
      expectState(ep, 'CLOSE_WAIT');
      expectNotified(ep, ['data:100', 'closing']);
      expectSent(ep, [{ flags: '.', seq: L + 1, ack: R + 102 }]);
    });

    it('FIN out of order → duplicate ACK, stay ESTABLISHED', () => {
      const ep = established({ profile });
      arrive(ep, { flags: 'F.', seq: R + 51, ack: L + 1 });
      expectSent(ep, [ack]);
      expectState(ep, 'ESTABLISHED');
      expectNotified(ep, []);
    });

    it('FIN without ACK is dropped', () => {
      const ep = established({ profile });
      arrive(ep, { flags: 'F', seq: R + 1 });
      expectQuiet(ep, 'ESTABLISHED');
    });

    it('FIN also acknowledging our data', () => {
      const ep = established({ profile });
      ep.send(10, 0);
      takeSent(ep);
      arrive(ep, { flags: 'F.', seq: R + 1, ack: L + 11 });
      expectState(ep, 'CLOSE_WAIT');
      expect(ep.sndUna).toBe(L + 11);
      expectSent(ep, [{ flags: '.', seq: L + 11, ack: R + 2 }]);
    });
  });

  describe('user calls', () => {
    it('send transmits at once, PSH on the last segment', () => {
      const ep = established({ profile });
      ep.send(100, 0);
      expectSent(ep, [{ flags: 'P.', seq: L + 1, ack: R + 1, len: 100 }]);
      expect(ep.sndNxt).toBe(L + 101);
    });

    it('send segments by the MSS', () => {
      const ep = established({ profile });
      ep.send(3000, 0);
      expectSent(ep, [
        { flags: '.', seq: L + 1, ack: R + 1, len: 1460 },
        { flags: '.', seq: L + 1461, ack: R + 1, len: 1460 },
        { flags: 'P.', seq: L + 2921, ack: R + 1, len: 80 },
      ]);
    });

    it('send stops at the edge of the send window', () => {
      const ep = established({ profile, peerWindow: 1000 });
      ep.send(3000, 0);
      expectSent(ep, [{ flags: '.', seq: L + 1, ack: R + 1, len: 1000 }]);
      expect(ep.sendQueued).toBe(2000);
    });

    it('close → FIN_WAIT_1 with <SEQ=SND.NXT><CTL=FIN,ACK>', () => {
      const ep = established({ profile });
      ep.close(0);
      expectState(ep, 'FIN_WAIT_1');
      expectChanges(ep, ['close-established']);
      expectSent(ep, [{ flags: 'F.', seq: L + 1, ack: R + 1 }]);
      expect(ep.sndNxt).toBe(L + 2);
      expect(ep.rtxDeadline).toBeGreaterThan(0);
    });

    it('shutdown → FIN_WAIT_1 with a FIN', () => {
      const ep = established({ profile });
      ep.shutdown(0);
      expectState(ep, 'FIN_WAIT_1');
      expectChanges(ep, ['close-established']);
      expectSent(ep, [{ flags: 'F.', seq: L + 1, ack: R + 1 }]);
      expect(ep.orphan).toBe(false);
    });

    it('close with data pending: the FIN rides on the last data segment', () => {
      const ep = established({ profile });
      ep.send(100, 0);
      takeSent(ep);
      ep.send(50, 0);
      takeSent(ep);
      ep.close(0);
      expectSent(ep, [{ flags: 'F.', seq: L + 151, ack: R + 1 }]);
    });

    it('close with data waiting for the window: the FIN waits behind it', () => {
      const ep = established({ profile, peerWindow: 1000 });
      ep.send(1500, 0);
      takeSent(ep);
      ep.close(0);
      expectState(ep, 'FIN_WAIT_1');
      expectNothingSent(ep);
      arrive(ep, { flags: '.', seq: R + 1, ack: L + 1001, window: 1000 });
      expectSent(ep, [{ flags: 'FP.', seq: L + 1001, ack: R + 1, len: 500 }]);
      expect(ep.finSent).toBe(true);
    });

    it('abort → <SEQ=SND.NXT><CTL=RST,ACK>, "connection reset", CLOSED', () => {
      const ep = established({ profile });
      ep.send(100, 0);
      takeSent(ep);
      ep.abort(0);
      expectSent(ep, [{ flags: 'R.', seq: L + 101, ack: R + 1 }]);
      expectState(ep, 'CLOSED');
      expectChanges(ep, ['abort']);
      expectNotified(ep, ['reset']);
      expect(ep.nextDeadline()).toBe(-1);
    });

    it('receive with nothing buffered returns 0', () => {
      const ep = established({ profile });
      expect(ep.receive(100, 0)).toBe(0);
    });
  });

  describe('timers', () => {
    it('no timer runs when idle', () => {
      const ep = established({ profile });
      expect(ep.nextDeadline()).toBe(-1);
      ep.tick(10_000_000);
      expectQuiet(ep, 'ESTABLISHED');
    });

    it('unacknowledged data is retransmitted after the RTO, which then doubles', () => {
      const ep = established({ profile });
      const rto = ep.rto.rto;
      expect(rto).toBe(profile === 'linux' ? 200 : 1000);
      ep.send(100, 0);
      takeSent(ep);
      expect(ep.rtxDeadline).toBe(rto);
      ep.tick(rto - 1);
      expectNothingSent(ep);
      ep.tick(rto);
      expectSent(ep, [{ flags: 'P.', seq: L + 1, ack: R + 1, len: 100 }]);
      expect(ep.rtxDeadline).toBe(rto + 2 * rto);
      ep.tick(3 * rto);
      expectSent(ep, [{ flags: 'P.', seq: L + 1, ack: R + 1, len: 100 }]);
      expect(ep.rtxDeadline).toBe(3 * rto + 4 * rto);
    });

    it('after a timeout, each ACK retransmits the next segment of the flight (go-back-N)', () => {
      const ep = established({ profile });
      ep.send(3000, 0);
      takeSent(ep);
      ep.tick(ep.rtxDeadline);
      // retransmissions carry PSH
      expectSent(ep, [{ flags: 'P.', seq: L + 1, ack: R + 1, len: 1460 }]);
      arrive(ep, { flags: '.', seq: R + 1, ack: L + 1461 }, 5000);
      expectSent(ep, [{ flags: 'P.', seq: L + 1461, ack: R + 1, len: 1460 }]);
      arrive(ep, { flags: '.', seq: R + 1, ack: L + 2921 }, 5100);
      expectSent(ep, [{ flags: 'P.', seq: L + 2921, ack: R + 1, len: 80 }]);
      arrive(ep, { flags: '.', seq: R + 1, ack: L + 3001 }, 5200);
      expectNothingSent(ep);
      expect(ep.rtxDeadline).toBe(-1);
    });

    it('zero window: the persist timer probes with <SEQ=SND.UNA-1><CTL=ACK> and backs off', () => {
      const ep = established({ profile, peerWindow: 0 });
      ep.send(100, 0);
      expectNothingSent(ep);
      const first = ep.persistDeadline;
      expect(first).toBe(ep.rto.rto);
      ep.tick(first);
      expectSent(ep, [{ flags: '.', seq: L, ack: R + 1, len: 0 }]);
      expect(ep.persistDeadline).toBe(first + 2 * first);
      ep.tick(ep.persistDeadline);
      expectSent(ep, [{ flags: '.', seq: L, ack: R + 1, len: 0 }]);
      expect(ep.persistDeadline).toBe(3 * first + 4 * first);
      expectState(ep, 'ESTABLISHED');
    });

    it('the probe answered with an open window lets the data go and stops persisting', () => {
      const ep = established({ profile, peerWindow: 0 });
      ep.send(100, 0);
      ep.tick(ep.persistDeadline);
      takeSent(ep);
      arrive(ep, { flags: '.', seq: R + 1, ack: L + 1, window: 5000 }, 2000);
      expectSent(ep, [{ flags: 'P.', seq: L + 1, ack: R + 1, len: 100 }]);
      expect(ep.persistDeadline).toBe(-1);
      expect(ep.rtxDeadline).toBeGreaterThan(2000);
    });

    it('probes answered with a zero window go on (RFC 1122 §4.2.2.17)', () => {
      const ep = established({ profile, peerWindow: 0 });
      ep.send(100, 0);
      for (let i = 0; i < 40; i++) {
        const t = ep.persistDeadline;
        ep.tick(t);
        arrive(ep, { flags: '.', seq: R + 1, ack: L + 1, window: 0 }, t);
      }
      expectState(ep, 'ESTABLISHED');
      expect(takeSent(ep)).toHaveLength(40);
      expect(ep.persistDeadline).toBeGreaterThan(0);
    });

    it('a peer that answers nothing: the persist back-off is capped at the maximum RTO', () => {
      const ep = established({ profile: 'rfc9293', peerWindow: 0 });
      ep.send(100, 0);
      advance(ep, 3_600_000);
      expectState(ep, 'ESTABLISHED');
      const t = ep.persistDeadline;
      ep.tick(t);
      expect(ep.persistDeadline - t).toBe(60_000);
    });
  });
});

describe('ESTABLISHED, linux profile specifics', () => {
  it('close() with unread data → <SEQ=SND.NXT><ACK=RCV.NXT><CTL=RST,ACK>, CLOSED (tcp_close)', () => {
    const ep = established({ profile: 'linux', reading: false });
    arrive(ep, { flags: 'P.', seq: R + 1, ack: L + 1, len: 10 });
    takeSent(ep);
    ep.close(0);
    expectSent(ep, [{ flags: 'R.', seq: L + 1, ack: R + 11 }]);
    expectState(ep, 'CLOSED');
    expectChanges(ep, ['close-unread-data']);
    expect(ep.nextDeadline()).toBe(-1);
  });

  it('shutdown() with unread data sends a FIN (a half-close reads on)', () => {
    const ep = established({ profile: 'linux', reading: false });
    arrive(ep, { flags: 'P.', seq: R + 1, ack: L + 1, len: 10 });
    takeSent(ep);
    ep.shutdown(0);
    expectSent(ep, [{ flags: 'F.', seq: L + 1, ack: R + 11 }]);
    expectState(ep, 'FIN_WAIT_1');
    expect(ep.receive(100, 0)).toBe(10);
  });

  it('close() with all data read sends a FIN and orphans the socket', () => {
    const ep = established({ profile: 'linux' });
    ep.close(0);
    expectSent(ep, [{ flags: 'F.', seq: L + 1, ack: R + 1 }]);
    expect(ep.orphan).toBe(true);
    expect(() => ep.receive(1, 0)).toThrow(ConnectionCallError);
  });

  it('tcp_retries2 = 15: CLOSED with "timeout" after 15 retransmissions', () => {
    const ep = established({ profile: 'linux' });
    ep.send(100, 0);
    takeSent(ep);
    advance(ep, 10_000_000);
    expect(takeSent(ep)).toHaveLength(15);
    expectState(ep, 'CLOSED');
    expectChanges(ep, ['user-timeout']);
    expectNotified(ep, ['timeout']);
  });

  it('RTO floor is 200 ms after a fast handshake', () => {
    const ep = established({ profile: 'linux' });
    expect(ep.rto.rto).toBe(200);
  });
});

describe('ESTABLISHED, rfc9293 profile specifics', () => {
  it('close() with unread data is a plain CLOSE: FIN, and the data stays readable', () => {
    const ep = established({ profile: 'rfc9293', reading: false });
    arrive(ep, { flags: 'P.', seq: R + 1, ack: L + 1, len: 10 });
    takeSent(ep);
    ep.close(0);
    expectSent(ep, [{ flags: 'F.', seq: L + 1, ack: R + 11 }]);
    expectState(ep, 'FIN_WAIT_1');
    expect(ep.receive(100, 0)).toBe(10);
  });

  it('user timeout: unacknowledged data for 5 minutes → CLOSED with "timeout"', () => {
    const ep = established({ profile: 'rfc9293' });
    ep.send(100, 0);
    takeSent(ep);
    expect(advance(ep, 1_000_000).at(-1)).toBe(300_000);
    expectState(ep, 'CLOSED');
    expectChanges(ep, ['user-timeout']);
    expectNotified(ep, ['timeout']);
  });

  it('the user timeout counts from the last progress', () => {
    const ep = established({ profile: 'rfc9293' });
    ep.send(3000, 0);
    takeSent(ep);
    arrive(ep, { flags: '.', seq: R + 1, ack: L + 1461 }, 100_000);
    advance(ep, 399_999);
    expectState(ep, 'ESTABLISHED');
    advance(ep, 400_000);
    expectState(ep, 'CLOSED');
  });
});

describe('ESTABLISHED: send errors are not raised', () => {
  it.each(PROFILES)('%s: send and receive are allowed', (profile) => {
    const ep = established({ profile });
    expect(() => ep.send(1, 0)).not.toThrow();
    expect(() => ep.receive(1, 0)).not.toThrow();
  });
});

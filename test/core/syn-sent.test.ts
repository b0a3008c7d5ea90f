/** SYN-SENT (RFC 9293 §3.10.7.3 with RFC 5961 §3.2; timers §3.10.8, RFC 6298 §5). */
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
  synSent,
  takeSent,
} from './helpers.js';

describe.each(PROFILES)('SYN_SENT (%s)', (profile) => {
  describe('first: check the ACK (ISS < SEG.ACK =< SND.NXT)', () => {
    it.each([
      ['SEG.ACK = ISS', L],
      ['SEG.ACK = SND.NXT + 1', L + 2],
      ['SEG.ACK far ahead', L + 100_000],
      ['SEG.ACK behind ISS', L - 5],
    ])('unacceptable ACK (%s) is answered <SEQ=SEG.ACK><CTL=RST>', (_name, ack) => {
      const ep = synSent({ profile });
      arrive(ep, { flags: '.', seq: R, ack });
      expectSent(ep, [{ flags: 'R', seq: ack }]);
      expectState(ep, 'SYN_SENT');
      expectChanges(ep, []);
    });

    it('SYN,ACK with an unacceptable ACK is answered with a RST and dropped', () => {
      const ep = synSent({ profile });
      arrive(ep, { flags: 'S.', seq: R, ack: L + 5 });
      expectSent(ep, [{ flags: 'R', seq: L + 5 }]);
      expectState(ep, 'SYN_SENT');
      expect(ep.rcvNxt).toBe(0);
    });

    it('RST with an unacceptable ACK is dropped silently', () => {
      const ep = synSent({ profile });
      arrive(ep, { flags: 'R.', seq: R, ack: L });
      expectQuiet(ep, 'SYN_SENT');
    });
  });

  describe('second: RST', () => {
    it('RST with an acceptable ACK → CLOSED, "connection refused", nothing sent', () => {
      const ep = synSent({ profile });
      arrive(ep, { flags: 'R.', seq: 0, ack: L + 1 });
      expectState(ep, 'CLOSED');
      expectChanges(ep, ['rst-refused']);
      expectNotified(ep, ['refused']);
      expectNothingSent(ep);
      expect(ep.nextDeadline()).toBe(-1);
    });

    it('RST without ACK is ignored (RFC 5961 §3.2: the ACK must acknowledge the SYN)', () => {
      const ep = synSent({ profile });
      arrive(ep, { flags: 'R', seq: R });
      expectQuiet(ep, 'SYN_SENT');
      expect(ep.rtxDeadline).toBe(1000);
    });
  });

  describe('fourth: SYN', () => {
    it('SYN,ACK → ESTABLISHED with <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>', () => {
      const ep = synSent({ profile });
      arrive(ep, { flags: 'S.', seq: R, ack: L + 1 });
      expectState(ep, 'ESTABLISHED');
      expectChanges(ep, ['rcv-syn-ack']);
      expectNotified(ep, ['established']);
      expectSent(ep, [{ flags: '.', seq: L + 1, ack: R + 1 }]);
    });

    it('SYN,ACK sets IRS, RCV.NXT, SND.UNA and the send window', () => {
      const ep = synSent({ profile });
      arrive(ep, { flags: 'S.', seq: R, ack: L + 1, window: 4321 });
      expect(ep.irs).toBe(R);
      expect(ep.rcvNxt).toBe(R + 1);
      expect(ep.sndUna).toBe(L + 1);
      expect(ep.sndNxt).toBe(L + 1);
      expect(ep.sndWnd).toBe(4321);
    });

    it('SYN,ACK stops the SYN retransmission timer', () => {
      const ep = synSent({ profile });
      arrive(ep, { flags: 'S.', seq: R, ack: L + 1 });
      expect(ep.rtxDeadline).toBe(-1);
      expect(ep.nextDeadline()).toBe(-1);
    });

    it('SYN,ACK with an RCV.NXT that wraps', () => {
      const ep = synSent({ profile });
      arrive(ep, { flags: 'S.', seq: 0xffff_ffff, ack: L + 1 });
      expectSent(ep, [{ flags: '.', seq: L + 1, ack: 0 }]);
      expect(ep.rcvNxt).toBe(0);
    });

    it('SYN,ACK acknowledging an ISS of 2^32-1 (SND.NXT wrapped to 0)', () => {
      const ep = synSent({ profile, iss: 0xffff_ffff });
      arrive(ep, { flags: 'S.', seq: R, ack: 0 });
      expectState(ep, 'ESTABLISHED');
      expectSent(ep, [{ flags: '.', seq: 0, ack: R + 1 }]);
    });

    it('the first RTT sample comes from the SYN (RFC 6298 §2.2)', () => {
      const ep = synSent({ profile });
      arrive(ep, { flags: 'S.', seq: R, ack: L + 1 }, 300);
      expect(ep.rto.srtt).toBe(300);
      expect(ep.rto.rttvar).toBe(150);
      expect(ep.rto.rto).toBe(profile === 'linux' ? 900 : 1000);
    });

    it('Karn: no RTT sample when the SYN was retransmitted', () => {
      const ep = synSent({ profile });
      ep.tick(1000);
      takeSent(ep);
      arrive(ep, { flags: 'S.', seq: R, ack: L + 1 }, 1200);
      expect(ep.rto.srtt).toBe(0);
      expect(ep.rto.rto).toBe(1000); // back-off dropped, no estimate: the initial RTO
    });

    it('data queued before the handshake goes out right after the ACK', () => {
      const ep = synSent({ profile });
      ep.send(300, 0);
      expectNothingSent(ep);
      arrive(ep, { flags: 'S.', seq: R, ack: L + 1 });
      expectSent(ep, [
        { flags: '.', seq: L + 1, ack: R + 1 },
        { flags: 'P.', seq: L + 1, ack: R + 1, len: 300 },
      ]);
      expect(ep.sndNxt).toBe(L + 301);
    });

    it('queued data waits when the SYN,ACK offers a zero window (persist timer)', () => {
      const ep = synSent({ profile });
      ep.send(300, 0);
      arrive(ep, { flags: 'S.', seq: R, ack: L + 1, window: 0 });
      expectSent(ep, [{ flags: '.', seq: L + 1, ack: R + 1 }]);
      expect(ep.sendQueued).toBe(300);
      expect(ep.persistDeadline).toBeGreaterThan(0);
    });

    it('data on the SYN,ACK is not acknowledged (dropped, see Limitations)', () => {
      const ep = synSent({ profile });
      arrive(ep, { flags: 'S.', seq: R, ack: L + 1, len: 20 });
      expectSent(ep, [{ flags: '.', seq: L + 1, ack: R + 1 }]);
    });

    it('SYN without ACK → SYN_RECEIVED (simultaneous open) with <SEQ=ISS><ACK=RCV.NXT><CTL=SYN,ACK>', () => {
      const ep = synSent({ profile });
      arrive(ep, { flags: 'S', seq: R });
      expectState(ep, 'SYN_RECEIVED');
      expectChanges(ep, ['simultaneous-open']);
      expectSent(ep, [{ flags: 'S.', seq: L, ack: R + 1 }]);
      expectNotified(ep, []);
      expect(ep.passiveOpen).toBe(false);
      expect(ep.sndUna).toBe(L);
    });
  });

  describe('fifth: neither SYN nor RST', () => {
    it('an acceptable ACK alone is dropped', () => {
      const ep = synSent({ profile });
      arrive(ep, { flags: '.', seq: R, ack: L + 1 });
      expectQuiet(ep, 'SYN_SENT');
    });

    it('FIN,ACK with an acceptable ACK is dropped (FIN not processed in SYN-SENT)', () => {
      const ep = synSent({ profile });
      arrive(ep, { flags: 'F.', seq: R, ack: L + 1 });
      expectQuiet(ep, 'SYN_SENT');
    });

    it('data without ACK is dropped', () => {
      const ep = synSent({ profile });
      arrive(ep, { flags: 'P', seq: R, len: 10 });
      expectQuiet(ep, 'SYN_SENT');
    });
  });

  describe('user calls', () => {
    it.each(['listen', 'connect'] as const)('%s → error "connection already exists"', (call) => {
      const ep = synSent({ profile });
      expect(() => ep[call](0)).toThrow(ConnectionCallError);
      expect(() => ep[call](0)).toThrow(`${call} in SYN_SENT: connection already exists`);
      expectQuiet(ep, 'SYN_SENT');
    });

    it('send queues the data (§3.10.2), nothing sent yet', () => {
      const ep = synSent({ profile });
      ep.send(50, 0);
      ep.send(25, 0);
      expect(ep.sendQueued).toBe(75);
      expectQuiet(ep, 'SYN_SENT');
    });

    it('receive returns nothing yet', () => {
      const ep = synSent({ profile });
      expect(ep.receive(10, 0)).toBe(0);
    });

    it.each(['close', 'shutdown'] as const)('%s → CLOSED, nothing sent (§3.10.4)', (call) => {
      const ep = synSent({ profile });
      ep[call](0);
      expectState(ep, 'CLOSED');
      expectChanges(ep, ['close-syn-sent']);
      expectNothingSent(ep);
      expect(ep.nextDeadline()).toBe(-1);
    });

    it('abort → CLOSED, nothing sent (§3.10.5)', () => {
      const ep = synSent({ profile });
      ep.abort(0);
      expectState(ep, 'CLOSED');
      expectChanges(ep, ['abort-listen']);
      expectNothingSent(ep);
      expect(ep.nextDeadline()).toBe(-1);
    });
  });

  describe('timers', () => {
    it('the SYN is retransmitted after 1 s, then after 2 s more (RFC 6298 §5.5 back-off)', () => {
      const ep = synSent({ profile });
      ep.tick(999);
      expectNothingSent(ep);
      ep.tick(1000);
      expectSent(ep, [{ flags: 'S', seq: L }]);
      expect(ep.rtxDeadline).toBe(3000);
      ep.tick(3000);
      expectSent(ep, [{ flags: 'S', seq: L }]);
      expect(ep.rtxDeadline).toBe(7000);
      expectState(ep, 'SYN_SENT');
    });

    it('nextDeadline reports the retransmission timer', () => {
      const ep = synSent({ profile });
      expect(ep.nextDeadline()).toBe(1000);
    });
  });
});

describe('SYN_SENT timers, linux profile: tcp_syn_retries = 6', () => {
  it('6 retransmissions at 1, 3, 7, 15, 31, 63 s, then CLOSED with "timeout" at 127 s', () => {
    const ep = synSent({ profile: 'linux' });
    const ticks = advance(ep, 200_000);
    expect(ticks).toEqual([1000, 3000, 7000, 15_000, 31_000, 63_000, 127_000]);
    const sent = takeSent(ep);
    expect(sent).toHaveLength(6);
    for (const s of sent) expect(s).toMatchObject({ seq: L, flags: 0x02 });
    expectState(ep, 'CLOSED');
    expectChanges(ep, ['user-timeout']);
    expectNotified(ep, ['timeout']);
    expect(ep.nextDeadline()).toBe(-1);
  });

  it('still SYN_SENT just before 127 s', () => {
    const ep = synSent({ profile: 'linux' });
    advance(ep, 126_999);
    expectState(ep, 'SYN_SENT');
  });
});

describe('SYN_SENT timers, rfc9293 profile: user timeout 5 min', () => {
  it('retransmits with the RTO capped at 60 s, then CLOSED with "timeout" at 300 s', () => {
    const ep = synSent({ profile: 'rfc9293' });
    const ticks = advance(ep, 1_000_000);
    expect(ticks).toEqual([1000, 3000, 7000, 15_000, 31_000, 63_000, 123_000, 183_000, 243_000, 300_000]);
    expect(takeSent(ep)).toHaveLength(9);
    expectState(ep, 'CLOSED');
    expectChanges(ep, ['user-timeout']);
    expectNotified(ep, ['timeout']);
  });

  it('still SYN_SENT at 299.999 s', () => {
    const ep = synSent({ profile: 'rfc9293' });
    advance(ep, 299_999);
    expectState(ep, 'SYN_SENT');
  });
});

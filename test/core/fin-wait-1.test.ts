/** FIN-WAIT-1 (RFC 9293 §3.10.7.4 fifth and eighth steps; Linux tcp_close orphans). */
import { describe, expect, it } from 'vitest';
import { ConnectionCallError } from '../../src/core/errors.js';
import {
  advance,
  arrive,
  drain,
  established,
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
  takeSent,
} from './helpers.js';

synchronizedRules({
  state: 'FIN_WAIT_1',
  make: (profile) => finWait1({ profile }),
  sndNxt: L + 2,
  rcvNxt: R + 1,
  resetRule: 'rst-reset',
  resetNotes: ['reset'],
});

const TIME_WAIT_MS = { rfc9293: 240_000, linux: 60_000 } as const;

describe.each(PROFILES)('FIN_WAIT_1 (%s)', (profile) => {
  describe('the factory', () => {
    it('our FIN is in flight: SND.UNA = FIN, SND.NXT = FIN + 1, retransmission timer on', () => {
      const ep = finWait1({ profile });
      expect(ep.sndUna).toBe(L + 1);
      expect(ep.sndNxt).toBe(L + 2);
      expect(ep.finSent).toBe(true);
      expect(ep.rtxDeadline).toBeGreaterThan(0);
    });
  });

  describe('fifth: ACK', () => {
    it.each(['close', 'shutdown'] as const)('ACK of our FIN → FIN_WAIT_2, nothing sent (via %s)', (via) => {
      const ep = finWait1({ profile, via });
      arrive(ep, { flags: '.', seq: R + 1, ack: L + 2 });
      expectState(ep, 'FIN_WAIT_2');
      expectChanges(ep, ['rcv-ack-of-fin']);
      expectNothingSent(ep);
      expectNotified(ep, []);
      expect(ep.rtxDeadline).toBe(-1);
    });

    it('an ACK below our FIN keeps FIN_WAIT_1', () => {
      const ep = established({ profile });
      ep.send(100, 0);
      ep.close(0);
      drain(ep);
      arrive(ep, { flags: '.', seq: R + 1, ack: L + 101 });
      expectQuiet(ep, 'FIN_WAIT_1');
      expect(ep.sndUna).toBe(L + 101);
      expect(ep.rtxDeadline).toBeGreaterThan(0);
    });

    it('a duplicate ACK keeps FIN_WAIT_1', () => {
      const ep = finWait1({ profile });
      arrive(ep, { flags: '.', seq: R + 1, ack: L + 1 });
      expectQuiet(ep, 'FIN_WAIT_1');
    });
  });

  describe('eighth: FIN', () => {
    it('FIN not acknowledging ours → CLOSING (simultaneous close), ACK of the FIN', () => {
      const ep = finWait1({ profile });
      arrive(ep, { flags: 'F.', seq: R + 1, ack: L + 1 });
      expectState(ep, 'CLOSING');
      expectChanges(ep, ['simultaneous-close']);
      expectNotified(ep, ['closing']);
      expectSent(ep, [{ flags: '.', seq: L + 2, ack: R + 2 }]);
    });

    it('FIN acknowledging ours → straight to TIME_WAIT, ACK of the FIN, 2MSL timer', () => {
      const ep = finWait1({ profile });
      arrive(ep, { flags: 'F.', seq: R + 1, ack: L + 2 }, 5);
      expectState(ep, 'TIME_WAIT');
      expectChanges(ep, ['rcv-fin-ack-of-fin']);
      expectNotified(ep, ['closing']);
      expectSent(ep, [{ flags: '.', seq: L + 2, ack: R + 2 }]);
      expect(ep.timeWaitDeadline).toBe(5 + TIME_WAIT_MS[profile]);
      expect(ep.rtxDeadline).toBe(-1);
    });

    it('FIN out of order → duplicate ACK, our FIN still acknowledged by it', () => {
      const ep = finWait1({ profile });
      arrive(ep, { flags: 'F.', seq: R + 11, ack: L + 2 });
      expectState(ep, 'FIN_WAIT_2');
      expectChanges(ep, ['rcv-ack-of-fin']);
      expectSent(ep, [{ flags: '.', seq: L + 2, ack: R + 1 }]);
    });

    it('FIN without ACK is dropped', () => {
      const ep = finWait1({ profile });
      arrive(ep, { flags: 'F', seq: R + 1 });
      expectQuiet(ep, 'FIN_WAIT_1');
    });
  });

  describe('half-close: data from the peer after shutdown()', () => {
    it('data is delivered and acknowledged', () => {
      const ep = finWait1({ profile, via: 'shutdown' });
      arrive(ep, { flags: 'P.', seq: R + 1, ack: L + 1, len: 100 });
      expectNotified(ep, ['data:100']);
      expectSent(ep, [{ flags: '.', seq: L + 2, ack: R + 101 }]);
      expectState(ep, 'FIN_WAIT_1');
    });

    it('data with a FIN that acknowledges ours → straight to TIME_WAIT', () => {
      const ep = finWait1({ profile, via: 'shutdown' });
      arrive(ep, { flags: 'FP.', seq: R + 1, ack: L + 2, len: 100 });
      expectNotified(ep, ['data:100', 'closing']);
      expectChanges(ep, ['rcv-fin-ack-of-fin']);
      expectSent(ep, [{ flags: '.', seq: L + 2, ack: R + 102 }]);
      expectState(ep, 'TIME_WAIT');
    });

    it('data with a FIN that does not acknowledge ours → CLOSING', () => {
      const ep = finWait1({ profile, via: 'shutdown' });
      arrive(ep, { flags: 'FP.', seq: R + 1, ack: L + 1, len: 100 });
      expectChanges(ep, ['simultaneous-close']);
      expectSent(ep, [{ flags: '.', seq: L + 2, ack: R + 102 }]);
    });

    it('receive() reads what arrived', () => {
      const ep = finWait1({ profile, via: 'shutdown', reading: false });
      arrive(ep, { flags: 'P.', seq: R + 1, ack: L + 1, len: 100 });
      expect(ep.receive(1000, 0)).toBe(100);
    });

    it('zero receive window: a data segment acknowledging our FIN still moves to FIN_WAIT_2', () => {
      const ep = finWait1({ profile, via: 'shutdown', reading: false, rcvBuffer: 1000 });
      arrive(ep, { flags: 'P.', seq: R + 1, ack: L + 1, len: 1000 });
      expect(ep.rcvWnd).toBe(0);
      drain(ep);
      // unacceptable text (window 0), but a valid ACK (§3.10.7.4 first: "special allowance")
      arrive(ep, { flags: 'P.', seq: R + 1001, ack: L + 2, len: 10 });
      expectSent(ep, [{ flags: '.', seq: L + 2, ack: R + 1001, window: 0 }]);
      expect(ep.sndUna).toBe(L + 2);
      expectState(ep, 'FIN_WAIT_2');
      expectChanges(ep, ['rcv-ack-of-fin']);
      expectNotified(ep, []);
    });
  });

  describe('user calls', () => {
    it('send → error "connection closing"', () => {
      const ep = finWait1({ profile });
      expect(() => ep.send(1, 0)).toThrow(ConnectionCallError);
      expect(() => ep.send(1, 0)).toThrow('send in FIN_WAIT_1: connection closing');
      expectQuiet(ep, 'FIN_WAIT_1');
    });

    it('shutdown again → error "connection closing"', () => {
      const ep = finWait1({ profile, via: 'shutdown' });
      expect(() => ep.shutdown(0)).toThrow('shutdown in FIN_WAIT_1: connection closing');
    });

    it('close after close → error "connection closing"', () => {
      const ep = finWait1({ profile, via: 'close' });
      expect(() => ep.close(0)).toThrow('close in FIN_WAIT_1: connection closing');
      expectQuiet(ep, 'FIN_WAIT_1');
    });

    it('abort → <SEQ=SND.NXT><CTL=RST,ACK>, "connection reset", CLOSED', () => {
      const ep = finWait1({ profile });
      ep.abort(0);
      expectSent(ep, [{ flags: 'R.', seq: L + 2, ack: R + 1 }]);
      expectState(ep, 'CLOSED');
      expectChanges(ep, ['abort']);
      expectNotified(ep, ['reset']);
    });
  });

  describe('timers', () => {
    it('the FIN is retransmitted after the RTO, then with back-off', () => {
      const ep = finWait1({ profile });
      const rto = ep.rto.rto;
      ep.tick(rto);
      expectSent(ep, [{ flags: 'F.', seq: L + 1, ack: R + 1 }]);
      expect(ep.rtxDeadline).toBe(3 * rto);
      ep.tick(3 * rto);
      expectSent(ep, [{ flags: 'F.', seq: L + 1, ack: R + 1 }]);
      expectState(ep, 'FIN_WAIT_1');
    });

    it('data and FIN together are retransmitted as one segment', () => {
      const ep = established({ profile });
      ep.send(100, 0);
      ep.close(0);
      takeSent(ep);
      ep.tick(ep.rtxDeadline);
      expectSent(ep, [{ flags: 'FP.', seq: L + 1, ack: R + 1, len: 100 }]);
      // the peer acknowledges only the data: the FIN alone follows
      arrive(ep, { flags: '.', seq: R + 1, ack: L + 101 }, 10_000);
      expectSent(ep, [{ flags: 'F.', seq: L + 101, ack: R + 1 }]);
    });

    it('a FIN waiting for a zero window is sent once the window opens', () => {
      const ep = established({ profile, peerWindow: 0 });
      ep.shutdown(0);
      expectState(ep, 'FIN_WAIT_1');
      expectNothingSent(ep);
      expect(ep.finSent).toBe(false);
      expect(ep.persistDeadline).toBeGreaterThan(0);
      arrive(ep, { flags: '.', seq: R + 1, ack: L + 1, window: 1000 });
      expectSent(ep, [{ flags: 'F.', seq: L + 1, ack: R + 1 }]);
      expect(ep.persistDeadline).toBe(-1);
    });
  });
});

describe('FIN_WAIT_1, linux profile: close() orphans the socket', () => {
  it('data arriving after close() → <SEQ=SEG.ACK><CTL=RST>, CLOSED "data-after-close"', () => {
    const ep = finWait1({ profile: 'linux' });
    arrive(ep, { flags: 'P.', seq: R + 1, ack: L + 1, len: 100 });
    expectSent(ep, [{ flags: 'R', seq: L + 1 }]);
    expectState(ep, 'CLOSED');
    expectChanges(ep, ['data-after-close']);
    expectNotified(ep, ['reset']);
    expect(ep.nextDeadline()).toBe(-1);
  });

  it('data acknowledging our FIN after close(): FIN_WAIT_2 first, then the RST', () => {
    const ep = finWait1({ profile: 'linux' });
    arrive(ep, { flags: 'P.', seq: R + 1, ack: L + 2, len: 100 });
    expectSent(ep, [{ flags: 'R', seq: L + 2 }]);
    expectChanges(ep, ['rcv-ack-of-fin', 'data-after-close']);
    expectState(ep, 'CLOSED');
  });

  it('out-of-order data after close() is new data too → RST (tcp_rcv_state_process)', () => {
    const ep = finWait1({ profile: 'linux' });
    arrive(ep, { flags: 'P.', seq: R + 101, ack: L + 1, len: 100 });
    expectSent(ep, [{ flags: 'R', seq: L + 1 }]);
    expectState(ep, 'CLOSED');
    expectChanges(ep, ['data-after-close']);
  });

  it('old (duplicate) data after close() only gets an ACK', () => {
    const ep = finWait1({ profile: 'linux' });
    arrive(ep, { flags: 'P.', seq: R - 99, ack: L + 1, len: 100 });
    expectSent(ep, [{ flags: '.', seq: L + 2, ack: R + 1 }]);
    expectState(ep, 'FIN_WAIT_1');
  });

  it('a bare FIN after close() is no data: CLOSING as usual', () => {
    const ep = finWait1({ profile: 'linux' });
    arrive(ep, { flags: 'F.', seq: R + 1, ack: L + 1 });
    expectState(ep, 'CLOSING');
    expectSent(ep, [{ flags: '.', seq: L + 2, ack: R + 2 }]);
  });

  it('data with FIN after close() → RST as well', () => {
    const ep = finWait1({ profile: 'linux' });
    arrive(ep, { flags: 'FP.', seq: R + 1, ack: L + 2, len: 10 });
    expectSent(ep, [{ flags: 'R', seq: L + 2 }]);
    expectState(ep, 'CLOSED');
  });

  it('receive after close() → error', () => {
    const ep = finWait1({ profile: 'linux' });
    expect(() => ep.receive(1, 0)).toThrow('receive in FIN_WAIT_1: socket closed by the application');
  });

  it('close() after shutdown() orphans without error; then data → RST', () => {
    const ep = finWait1({ profile: 'linux', via: 'shutdown' });
    ep.close(0);
    expectQuiet(ep, 'FIN_WAIT_1');
    expect(ep.orphan).toBe(true);
    arrive(ep, { flags: 'P.', seq: R + 1, ack: L + 1, len: 1 });
    expectSent(ep, [{ flags: 'R', seq: L + 1 }]);
    expectChanges(ep, ['data-after-close']);
  });

  it('ACK of the FIN after close() arms the FIN_WAIT_2 timer (tcp_fin_timeout 60 s)', () => {
    const ep = finWait1({ profile: 'linux' });
    arrive(ep, { flags: '.', seq: R + 1, ack: L + 2 }, 1000);
    expect(ep.finWait2Deadline).toBe(61_000);
  });

  it('ACK of the FIN after shutdown() arms no FIN_WAIT_2 timer', () => {
    const ep = finWait1({ profile: 'linux', via: 'shutdown' });
    arrive(ep, { flags: '.', seq: R + 1, ack: L + 2 }, 1000);
    expect(ep.finWait2Deadline).toBe(-1);
    expect(ep.nextDeadline()).toBe(-1);
  });

  it('orphan FIN retransmissions are bounded by tcp_orphan_retries (8) → CLOSED "timeout"', () => {
    const ep = finWait1({ profile: 'linux' });
    advance(ep, 10_000_000);
    expect(takeSent(ep)).toHaveLength(8);
    expectState(ep, 'CLOSED');
    expectChanges(ep, ['user-timeout']);
    expectNotified(ep, ['timeout']);
  });

  it('after shutdown() FIN retransmissions are bounded by tcp_retries2 (15)', () => {
    const ep = finWait1({ profile: 'linux', via: 'shutdown' });
    advance(ep, 100_000_000);
    expect(takeSent(ep)).toHaveLength(15);
    expectState(ep, 'CLOSED');
  });

  it('a peer that never reads: an orphan stuck behind a zero window gives up after 8 probes', () => {
    const ep = established({ profile: 'linux', peerWindow: 0 });
    ep.send(100, 0);
    ep.close(0);
    expectNothingSent(ep);
    let probes = 0;
    while (ep.state === 'FIN_WAIT_1' && probes < 50) {
      const t = ep.nextDeadline();
      ep.tick(t);
      if (ep.state !== 'FIN_WAIT_1') break;
      probes += takeSent(ep).length;
      arrive(ep, { flags: '.', seq: R + 1, ack: L + 1, window: 0 }, t); // answered, still closed
    }
    expect(probes).toBe(8);
    expectState(ep, 'CLOSED');
    expectNotified(ep, ['timeout']);
  });
});

describe('FIN_WAIT_1, rfc9293 profile', () => {
  it('CLOSE is a half-close: data after CLOSE is accepted', () => {
    const ep = finWait1({ profile: 'rfc9293', via: 'close' });
    arrive(ep, { flags: 'P.', seq: R + 1, ack: L + 1, len: 100 });
    expectNotified(ep, ['data:100']);
    expectSent(ep, [{ flags: '.', seq: L + 2, ack: R + 101 }]);
    expectState(ep, 'FIN_WAIT_1');
  });

  it('user timeout: FIN unacknowledged for 5 minutes → CLOSED', () => {
    const ep = finWait1({ profile: 'rfc9293' });
    expect(advance(ep, 1_000_000).at(-1)).toBe(300_000);
    expectState(ep, 'CLOSED');
    expectChanges(ep, ['user-timeout']);
  });

  it('a zero-window peer that keeps answering is probed for as long as it answers', () => {
    const ep = established({ profile: 'rfc9293', peerWindow: 0 });
    ep.send(100, 0);
    ep.close(0);
    for (let i = 0; i < 30; i++) {
      const t = ep.nextDeadline();
      ep.tick(t);
      arrive(ep, { flags: '.', seq: R + 1, ack: L + 1, window: 0 }, t);
    }
    expectState(ep, 'FIN_WAIT_1');
    expect(takeSent(ep)).toHaveLength(30);
  });
});

/** FIN-WAIT-2 (RFC 9293 §3.10.7.4 seventh and eighth steps; Linux tcp_fin_timeout). */
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
  finWait2,
  L,
  PROFILES,
  R,
  synchronizedRules,
} from './helpers.js';

synchronizedRules({
  state: 'FIN_WAIT_2',
  make: (profile) => finWait2({ profile }),
  sndNxt: L + 2,
  rcvNxt: R + 1,
  resetRule: 'rst-reset',
  resetNotes: ['reset'],
});

const TIME_WAIT_MS = { rfc9293: 240_000, linux: 60_000 } as const;

describe.each(PROFILES)('FIN_WAIT_2 (%s)', (profile) => {
  it('the factory: our FIN is acknowledged, no retransmission timer', () => {
    const ep = finWait2({ profile });
    expect(ep.sndUna).toBe(L + 2);
    expect(ep.sndNxt).toBe(L + 2);
    expect(ep.rtxDeadline).toBe(-1);
  });

  describe('eighth: FIN', () => {
    it.each(['close', 'shutdown'] as const)('FIN → TIME_WAIT, ACK of the FIN, 2MSL timer (via %s)', (via) => {
      const ep = finWait2({ profile, via });
      arrive(ep, { flags: 'F.', seq: R + 1, ack: L + 2 }, 7);
      expectState(ep, 'TIME_WAIT');
      expectChanges(ep, ['rcv-fin-fin-wait-2']);
      expectNotified(ep, ['closing']);
      expectSent(ep, [{ flags: '.', seq: L + 2, ack: R + 2 }]);
      expect(ep.timeWaitDeadline).toBe(7 + TIME_WAIT_MS[profile]);
      expect(ep.finWait2Deadline).toBe(-1);
      expect(ep.nextDeadline()).toBe(7 + TIME_WAIT_MS[profile]);
    });

    it('FIN out of order → duplicate ACK, stay', () => {
      const ep = finWait2({ profile });
      arrive(ep, { flags: 'F.', seq: R + 30, ack: L + 2 });
      expectSent(ep, [{ flags: '.', seq: L + 2, ack: R + 1 }]);
      expectState(ep, 'FIN_WAIT_2');
      expectNotified(ep, []);
    });

    it('FIN without ACK is dropped', () => {
      const ep = finWait2({ profile });
      arrive(ep, { flags: 'F', seq: R + 1 });
      expectQuiet(ep, 'FIN_WAIT_2');
    });
  });

  describe('half-close: data after shutdown()', () => {
    it('data is delivered and acknowledged', () => {
      const ep = finWait2({ profile, via: 'shutdown' });
      arrive(ep, { flags: 'P.', seq: R + 1, ack: L + 2, len: 500 });
      expectNotified(ep, ['data:500']);
      expectSent(ep, [{ flags: '.', seq: L + 2, ack: R + 501 }]);
      expectState(ep, 'FIN_WAIT_2');
    });

    it('data with FIN → TIME_WAIT with one ACK', () => {
      const ep = finWait2({ profile, via: 'shutdown' });
      arrive(ep, { flags: 'FP.', seq: R + 1, ack: L + 2, len: 500 });
      expectNotified(ep, ['data:500', 'closing']);
      expectSent(ep, [{ flags: '.', seq: L + 2, ack: R + 502 }]);
      expectChanges(ep, ['rcv-fin-fin-wait-2']);
    });

    it('out-of-order data → duplicate ACK', () => {
      const ep = finWait2({ profile, via: 'shutdown' });
      arrive(ep, { flags: 'P.', seq: R + 101, ack: L + 2, len: 500 });
      expectSent(ep, [{ flags: '.', seq: L + 2, ack: R + 1 }]);
      expectNotified(ep, []);
    });
  });

  describe('user calls', () => {
    it('send → error "connection closing"', () => {
      const ep = finWait2({ profile });
      expect(() => ep.send(1, 0)).toThrow('send in FIN_WAIT_2: connection closing');
      expectQuiet(ep, 'FIN_WAIT_2');
    });

    it('shutdown again → error "connection closing"', () => {
      const ep = finWait2({ profile, via: 'shutdown' });
      expect(() => ep.shutdown(0)).toThrow('shutdown in FIN_WAIT_2: connection closing');
    });

    it('close after close → error "connection closing"', () => {
      const ep = finWait2({ profile });
      expect(() => ep.close(0)).toThrow('close in FIN_WAIT_2: connection closing');
    });

    it('abort → <SEQ=SND.NXT><CTL=RST,ACK>, "connection reset", CLOSED', () => {
      const ep = finWait2({ profile });
      ep.abort(0);
      expectSent(ep, [{ flags: 'R.', seq: L + 2, ack: R + 1 }]);
      expectChanges(ep, ['abort']);
      expectNotified(ep, ['reset']);
      expectState(ep, 'CLOSED');
    });
  });

  describe('timers', () => {
    it('after shutdown() FIN_WAIT_2 waits for the peer for ever (no timer)', () => {
      const ep = finWait2({ profile, via: 'shutdown' });
      expect(ep.nextDeadline()).toBe(-1);
      advance(ep, 24 * 3600_000);
      expectQuiet(ep, 'FIN_WAIT_2');
    });
  });
});

describe('FIN_WAIT_2, linux profile: orphans and tcp_fin_timeout', () => {
  it('after close(): CLOSED at 60 s without sending anything', () => {
    const ep = finWait2({ profile: 'linux' });
    expect(ep.finWait2Deadline).toBe(60_000);
    advance(ep, 59_999);
    expectState(ep, 'FIN_WAIT_2');
    expect(advance(ep, 60_000)).toEqual([60_000]);
    expectState(ep, 'CLOSED');
    expectChanges(ep, ['fin-wait-2-timeout']);
    expectNothingSent(ep);
    expect(ep.nextDeadline()).toBe(-1);
  });

  it("the peer's FIN before the timeout cancels it: TIME_WAIT for 60 s", () => {
    const ep = finWait2({ profile: 'linux' });
    arrive(ep, { flags: 'F.', seq: R + 1, ack: L + 2 }, 59_000);
    expectState(ep, 'TIME_WAIT');
    expect(ep.finWait2Deadline).toBe(-1);
    expect(ep.timeWaitDeadline).toBe(119_000);
  });

  it('close() after shutdown() in FIN_WAIT_2 starts the timer then', () => {
    const ep = finWait2({ profile: 'linux', via: 'shutdown' });
    ep.close(5000);
    expectQuiet(ep, 'FIN_WAIT_2');
    expect(ep.finWait2Deadline).toBe(65_000);
    advance(ep, 65_000);
    expectState(ep, 'CLOSED');
    expectChanges(ep, ['fin-wait-2-timeout']);
  });

  it('data after close() → <SEQ=SEG.ACK><CTL=RST>, CLOSED "data-after-close"', () => {
    const ep = finWait2({ profile: 'linux' });
    arrive(ep, { flags: 'P.', seq: R + 1, ack: L + 2, len: 10 });
    expectSent(ep, [{ flags: 'R', seq: L + 2 }]);
    expectChanges(ep, ['data-after-close']);
    expectNotified(ep, ['reset']);
    expectState(ep, 'CLOSED');
    expect(ep.nextDeadline()).toBe(-1);
  });

  it('out-of-order data after close() → RST too', () => {
    const ep = finWait2({ profile: 'linux' });
    arrive(ep, { flags: 'P.', seq: R + 100, ack: L + 2, len: 10 });
    expectSent(ep, [{ flags: 'R', seq: L + 2 }]);
    expectState(ep, 'CLOSED');
  });

  it('a bare FIN after close() is not data: TIME_WAIT', () => {
    const ep = finWait2({ profile: 'linux' });
    arrive(ep, { flags: 'F.', seq: R + 1, ack: L + 2 });
    expectState(ep, 'TIME_WAIT');
  });
});

describe('FIN_WAIT_2, rfc9293 profile', () => {
  it('CLOSE leaves no FIN_WAIT_2 timer: the state lasts as long as the peer wants', () => {
    const ep = finWait2({ profile: 'rfc9293', via: 'close' });
    expect(ep.finWait2Deadline).toBe(-1);
    advance(ep, 10 * 3600_000);
    expectState(ep, 'FIN_WAIT_2');
  });

  it('data after CLOSE is accepted (CLOSE is a half-close)', () => {
    const ep = finWait2({ profile: 'rfc9293', via: 'close' });
    arrive(ep, { flags: 'P.', seq: R + 1, ack: L + 2, len: 10 });
    expectNotified(ep, ['data:10']);
    expectSent(ep, [{ flags: '.', seq: L + 2, ack: R + 11 }]);
  });
});

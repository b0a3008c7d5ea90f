/**
 * ZeekConn.fastPacket against `packet`: two Zeek states see the same random
 * conversations (../helpers/conversations.ts); one takes `fastPacket` first and `packet`
 * only when it declines. After every packet both must be equal in every field, and give
 * the same history, conn_state, sizes and duration.
 */
import { describe, expect, it } from 'vitest';
import { ACK, FIN, SYN } from '../../src/core/segment.js';
import { ZeekConn } from '../../src/capture/zeek.js';
import { conversation } from '../helpers/conversations.js';

describe('ZeekConn.fastPacket', () => {
  it('leaves the Zeek state exactly as `packet` would, over 2,000 random conversations', () => {
    let fast = 0;
    let packets = 0;
    for (let seed = 1; seed <= 2000; seed++) {
      const flipped = seed % 7 === 0;
      const a = new ZeekConn(flipped);
      const b = new ZeekConn(flipped);
      for (const { fromOrig, seg, now } of conversation(seed)) {
        packets++;
        const z = { flags: seg.flags, seq: seg.seq, ack: seg.ack, len: seg.len, win: seg.window, time: now / 1000 };
        a.packet(fromOrig, z);
        if (b.fastPacket(fromOrig, z)) fast++;
        else b.packet(fromOrig, z);
        expect(b, `seed ${seed}, packet ${packets}`).toEqual(a);
      }
      expect([b.history, b.connState(), b.orig.size(), b.resp.size(), b.duration()]).toEqual([a.history, a.connState(), a.orig.size(), a.resp.size(), a.duration()]);
    }
    // The comparison means something only if both paths were taken often.
    expect(fast).toBeGreaterThan(packets / 6);
    expect(packets - fast).toBeGreaterThan(packets / 3);
  });

  it('declines what it does not handle, changing nothing', () => {
    const z = new ZeekConn(false);
    expect(z.fastPacket(true, { flags: ACK, seq: 1, ack: 0, len: 10, win: 100, time: 1 })).toBe(false); // nothing seen yet
    z.packet(true, { flags: SYN, seq: 100, ack: 0, len: 0, win: 100, time: 1 });
    z.packet(false, { flags: SYN | ACK, seq: 500, ack: 101, len: 0, win: 100, time: 2 });
    z.packet(true, { flags: ACK, seq: 101, ack: 501, len: 0, win: 100, time: 3 });
    z.packet(true, { flags: ACK, seq: 101, ack: 501, len: 10, win: 100, time: 4 });
    const before = structuredClone(z);
    expect(z.fastPacket(true, { flags: ACK, seq: 101, ack: 0, len: 10, win: 100, time: 5 })).toBe(false); // a retransmission
    expect(z.fastPacket(true, { flags: ACK, seq: 111, ack: 0, len: 10, win: 0, time: 5 })).toBe(false); // a zero window
    expect(z.fastPacket(true, { flags: ACK | FIN, seq: 111, ack: 0, len: 0, win: 100, time: 5 })).toBe(false);
    expect(structuredClone(z)).toEqual(before);
    expect(z.fastPacket(false, { flags: ACK, seq: 501, ack: 0, len: 20, win: 100, time: 6 })).toBe(true);
    expect(z.history).toBe('ShADd');
    expect(z.resp.size()).toBe(20);
  });
});

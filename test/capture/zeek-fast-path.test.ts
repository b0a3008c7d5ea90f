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
        const t = now / 1000;
        a.packet(fromOrig, seg.flags, seg.seq, seg.ack, seg.len, seg.window, t);
        if (b.fastPacket(fromOrig, seg.flags, seg.seq, seg.len, seg.window, t)) fast++;
        else b.packet(fromOrig, seg.flags, seg.seq, seg.ack, seg.len, seg.window, t);
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
    expect(z.fastPacket(true, ACK, 1, 10, 100, 1)).toBe(false); // nothing seen yet
    z.packet(true, SYN, 100, 0, 0, 100, 1);
    z.packet(false, SYN | ACK, 500, 101, 0, 100, 2);
    z.packet(true, ACK, 101, 501, 0, 100, 3);
    z.packet(true, ACK, 101, 501, 10, 100, 4);
    const before = structuredClone(z);
    expect(z.fastPacket(true, ACK, 101, 10, 100, 5)).toBe(false); // a retransmission
    expect(z.fastPacket(true, ACK, 111, 10, 0, 5)).toBe(false); // a zero window
    expect(z.fastPacket(true, ACK | FIN, 111, 0, 100, 5)).toBe(false);
    expect(structuredClone(z)).toEqual(before);
    expect(z.fastPacket(false, ACK, 501, 20, 100, 6)).toBe(true);
    expect(z.history).toBe('ShADd');
    expect(z.resp.size()).toBe(20);
  });
});

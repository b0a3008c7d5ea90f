/**
 * PassiveObserver.fastSegment against `segment`: two observers see the same random
 * conversations (../helpers/conversations.ts); one takes `fastSegment` first and
 * `segment` only when it declines. After every segment both must be equal in every
 * field, and their recorded transitions too.
 */
import { describe, expect, it } from 'vitest';
import { PassiveObserver, type ObservedTransition, type ObserverSink } from '../../src/core/observer.js';
import { LINUX_PROFILE } from '../../src/core/profile.js';
import { ACK, FIN, SYN } from '../../src/core/segment.js';
import { conversation } from '../helpers/conversations.js';

class Recorder implements ObserverSink {
  readonly recording = true;
  readonly seen: ObservedTransition[] = [];
  transition(t: ObservedTransition): void {
    this.seen.push(t);
  }
}

describe('PassiveObserver.fastSegment', () => {
  it('leaves every observer exactly as `segment` would, over 2,000 random conversations', () => {
    let fast = 0;
    let segments = 0;
    for (let seed = 1; seed <= 2000; seed++) {
      const sa = new Recorder();
      const sb = new Recorder();
      const a = new PassiveObserver(LINUX_PROFILE, sa);
      const b = new PassiveObserver(LINUX_PROFILE, sb);
      for (const { fromOrig, seg, now } of conversation(seed)) {
        segments++;
        a.segment(fromOrig, seg, now);
        if (b.fastSegment(fromOrig, seg)) fast++;
        else b.segment(fromOrig, seg, now);
        expect(b, `seed ${seed}, segment ${segments}`).toEqual(a);
      }
      a.advance(Number.MAX_SAFE_INTEGER);
      b.advance(Number.MAX_SAFE_INTEGER);
      expect(b).toEqual(a);
      expect(sb.seen).toEqual(sa.seen);
    }
    // The comparison means something only if both paths were taken often.
    expect(fast).toBeGreaterThan(segments / 6);
    expect(segments - fast).toBeGreaterThan(segments / 3);
  });

  it('declines what it does not handle, changing nothing', () => {
    const o = new PassiveObserver(LINUX_PROFILE, new Recorder());
    expect(o.fastSegment(true, { flags: ACK, seq: 1, ack: 1, len: 10, window: 100 })).toBe(false); // nothing seen yet
    o.segment(true, { seq: 100, ack: 0, flags: SYN, window: 100, len: 0 }, 1);
    o.segment(false, { seq: 500, ack: 101, flags: SYN | ACK, window: 100, len: 0 }, 2);
    o.segment(true, { seq: 101, ack: 501, flags: ACK, window: 100, len: 0 }, 3);
    const before = structuredClone({ orig: o.orig, resp: o.resp });
    expect(o.fastSegment(true, { flags: ACK | FIN, seq: 101, ack: 501, len: 0, window: 100 })).toBe(false);
    expect(o.fastSegment(true, { flags: ACK, seq: 99, ack: 501, len: 10, window: 100 })).toBe(false); // a retransmission
    expect(o.fastSegment(true, { flags: ACK, seq: 101, ack: 600, len: 0, window: 100 })).toBe(false); // acknowledges unseen data
    expect(o.fastSegment(true, { flags: 0, seq: 101, ack: 501, len: 10, window: 100 })).toBe(false); // no ACK flag
    expect(structuredClone({ orig: o.orig, resp: o.resp })).toEqual(before);
    expect(o.fastSegment(true, { flags: ACK, seq: 101, ack: 501, len: 10, window: 0 })).toBe(true);
    expect(o.orig.nxt).toBe(111);
    expect(o.orig.zeroWindows).toBe(1);
  });
});

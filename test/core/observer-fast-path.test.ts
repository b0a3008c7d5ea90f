/**
 * PassiveObserver.fastSegment against `segment`: two observers see the same random
 * conversations (handshakes or mid-stream starts, in-order data, bare ACKs, ACKs of
 * unseen data, retransmissions, jumps ahead and the fills of their holes, keep-alives,
 * zero windows, FINs, RSTs, retransmitted SYNs, long pauses that end TIME_WAIT, sequence
 * numbers wrapping past 2^32); one takes `fastSegment` first and `segment` only when it
 * declines. After every segment both must be equal in every field, and their recorded
 * transitions too.
 */
import { describe, expect, it } from 'vitest';
import { PassiveObserver, type ObservedTransition, type ObserverSink } from '../../src/core/observer.js';
import { LINUX_PROFILE } from '../../src/core/profile.js';
import { ACK, FIN, RST, SYN, type Segment } from '../../src/core/segment.js';
import { seqAdd } from '../../src/core/seq.js';

class Recorder implements ObserverSink {
  readonly recording = true;
  readonly seen: ObservedTransition[] = [];
  transition(t: ObservedTransition): void {
    this.seen.push(t);
  }
}

/** A small deterministic generator (mulberry32). */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Side {
  next: number;
}

function conversation(seed: number): { fromOrig: boolean; seg: Segment; now: number }[] {
  const r = rng(seed);
  const pick = (n: number): number => Math.floor(r() * n);
  // ISNs anywhere, often near the wrap.
  const isn = (): number => (r() < 0.3 ? 0xffffffff - pick(5000) : pick(0x100000000)) >>> 0;
  const o: Side = { next: isn() };
  const p: Side = { next: isn() };
  const out: { fromOrig: boolean; seg: Segment; now: number }[] = [];
  let now = 1_700_000_000_000 + pick(1000);
  const send = (fromOrig: boolean, flags: number, seq: number, ack: number, len: number, window = 64000): void => {
    now += r() < 0.02 ? 70_000 : pick(50); // now and then past the end of TIME_WAIT
    out.push({ fromOrig, seg: { seq: seq >>> 0, ack: ack >>> 0, flags, window, len }, now });
  };
  if (r() < 0.8) {
    send(true, SYN, o.next, 0, 0);
    o.next = seqAdd(o.next, 1);
    send(false, SYN | ACK, p.next, o.next, 0);
    p.next = seqAdd(p.next, 1);
    send(true, ACK, o.next, p.next, 0);
  }
  const steps = 5 + pick(60);
  for (let i = 0; i < steps; i++) {
    const fromOrig = r() < 0.5;
    const x = fromOrig ? o : p;
    const y = fromOrig ? p : o;
    const k = r();
    if (k < 0.55) {
      const len = pick(3) === 0 ? 0 : 1 + pick(1500);
      send(fromOrig, ACK, x.next, y.next, len, r() < 0.05 ? 0 : 64000);
      x.next = seqAdd(x.next, len);
    } else if (k < 0.62) {
      send(fromOrig, ACK, x.next, seqAdd(y.next, -pick(3000)), 0); // an old acknowledgement
    } else if (k < 0.66) {
      send(fromOrig, ACK, x.next, seqAdd(y.next, 1 + pick(3000)), 0); // acknowledges data never seen
    } else if (k < 0.72) {
      send(fromOrig, ACK, seqAdd(x.next, -1 - pick(2000)), y.next, 1 + pick(1000)); // retransmission
    } else if (k < 0.78) {
      const skip = 1 + pick(3000);
      const len = 1 + pick(1000);
      send(fromOrig, ACK, seqAdd(x.next, skip), y.next, len); // a jump ahead: a hole...
      if (r() < 0.6) send(fromOrig, ACK, x.next, y.next, skip); // ...filled
      x.next = seqAdd(x.next, skip + len);
    } else if (k < 0.81) {
      send(fromOrig, ACK, seqAdd(x.next, -1), y.next, pick(2)); // keep-alive
    } else if (k < 0.85) {
      send(fromOrig, FIN | ACK, x.next, y.next, pick(2) * pick(500));
      if (r() < 0.7) x.next = seqAdd(x.next, 1);
    } else if (k < 0.87) {
      send(fromOrig, RST | (r() < 0.5 ? ACK : 0), x.next, y.next, 0);
    } else if (k < 0.89) {
      send(fromOrig, SYN | (r() < 0.5 ? ACK : 0), seqAdd(x.next, -1), y.next, 0);
    } else {
      send(fromOrig, ACK | (r() < 0.3 ? 0x08 : 0), x.next, y.next, 0, r() < 0.3 ? 0 : 29200); // PSH now and then
    }
  }
  return out;
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
        if (b.fastSegment(fromOrig, seg.flags, seg.seq, seg.ack, seg.len, seg.window)) fast++;
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
    expect(o.fastSegment(true, ACK, 1, 1, 10, 100)).toBe(false); // nothing seen yet
    o.segment(true, { seq: 100, ack: 0, flags: SYN, window: 100, len: 0 }, 1);
    o.segment(false, { seq: 500, ack: 101, flags: SYN | ACK, window: 100, len: 0 }, 2);
    o.segment(true, { seq: 101, ack: 501, flags: ACK, window: 100, len: 0 }, 3);
    const before = structuredClone({ orig: o.orig, resp: o.resp });
    expect(o.fastSegment(true, ACK | FIN, 101, 501, 0, 100)).toBe(false);
    expect(o.fastSegment(true, ACK, 99, 501, 10, 100)).toBe(false); // a retransmission
    expect(o.fastSegment(true, ACK, 101, 600, 0, 100)).toBe(false); // acknowledges unseen data
    expect(o.fastSegment(true, 0, 101, 501, 10, 100)).toBe(false); // no ACK flag
    expect(structuredClone({ orig: o.orig, resp: o.resp })).toEqual(before);
    expect(o.fastSegment(true, ACK, 101, 501, 10, 0)).toBe(true);
    expect(o.orig.nxt).toBe(111);
    expect(o.orig.zeroWindows).toBe(1);
  });
});

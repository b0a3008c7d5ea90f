/**
 * Random TCP conversations for checking a fast path against the full one: handshakes or
 * mid-stream starts, in-order data, bare ACKs, old ACKs, ACKs of unseen data,
 * retransmissions, jumps ahead and the fills of their holes, keep-alives, zero windows,
 * FINs, RSTs, retransmitted SYNs, PSH, long pauses that end TIME_WAIT, and sequence
 * numbers wrapping past 2^32. Deterministic per seed.
 */
import { ACK, FIN, RST, SYN, type Segment } from '../../src/core/segment.js';
import { seqAdd } from '../../src/core/seq.js';
import { rng } from './rng.js';

export interface ConversationSegment {
  readonly fromOrig: boolean;
  readonly seg: Segment;
  /** Capture time, ms. */
  readonly now: number;
}

interface Side {
  next: number;
}

export function conversation(seed: number): ConversationSegment[] {
  const r = rng(seed);
  const pick = (n: number): number => Math.floor(r() * n);
  // ISNs anywhere, often near the wrap.
  const isn = (): number => (r() < 0.3 ? 0xffffffff - pick(5000) : pick(0x100000000)) >>> 0;
  const o: Side = { next: isn() };
  const p: Side = { next: isn() };
  const out: ConversationSegment[] = [];
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


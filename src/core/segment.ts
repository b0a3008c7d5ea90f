/**
 * The TCP segment as the model sees it (RFC 9293 §3.1 header, minus what the state
 * machine does not need). Payload is a length, not bytes: the model tracks sequence
 * space, so a capture analyser can feed it headers only.
 */

/** Control bits as in the TCP header (RFC 9293 §3.1). */
export const FIN = 0x01;
export const SYN = 0x02;
export const RST = 0x04;
export const PSH = 0x08;
export const ACK = 0x10;
export const URG = 0x20;

export interface Segment {
  seq: number;
  ack: number;
  /** Bitmask of FIN SYN RST PSH ACK URG. */
  flags: number;
  /** Advertised window in octets (already scaled). */
  window: number;
  /** Payload length in octets. */
  len: number;
}

export function newSegment(): Segment {
  return { seq: 0, ack: 0, flags: 0, window: 0, len: 0 };
}

export function copySegment(from: Readonly<Segment>, to: Segment = newSegment()): Segment {
  to.seq = from.seq;
  to.ack = from.ack;
  to.flags = from.flags;
  to.window = from.window;
  to.len = from.len;
  return to;
}

/** SEG.LEN of the RFC: payload plus one for SYN and one for FIN. */
export function segLen(seg: Readonly<Segment>): number {
  return seg.len + (seg.flags & SYN ? 1 : 0) + (seg.flags & FIN ? 1 : 0);
}

/**
 * Flags in tcpdump notation: `S`, `S.`, `.`, `P.`, `F.`, `R`, `R.`, `FP.` ...
 * (letters in tcpdump's order F S R P U, then `.` for ACK).
 */
export function flagsToTcpdump(flags: number): string {
  let s = '';
  if (flags & FIN) s += 'F';
  if (flags & SYN) s += 'S';
  if (flags & RST) s += 'R';
  if (flags & PSH) s += 'P';
  if (flags & URG) s += 'U';
  if (flags & ACK) s += '.';
  return s === '' ? 'none' : s;
}

/** Parses tcpdump notation back into a bitmask; returns undefined on an unknown letter. */
export function flagsFromTcpdump(text: string): number | undefined {
  if (text.length === 0) return undefined;
  let flags = 0;
  for (const ch of text) {
    switch (ch) {
      case 'F':
        flags |= FIN;
        break;
      case 'S':
        flags |= SYN;
        break;
      case 'R':
        flags |= RST;
        break;
      case 'P':
        flags |= PSH;
        break;
      case 'U':
        flags |= URG;
        break;
      case '.':
        flags |= ACK;
        break;
      default:
        return undefined;
    }
  }
  return flags;
}

/** Human-readable `SYN,ACK` style (RFC figures). */
export function flagsToNames(flags: number): string {
  const names: string[] = [];
  if (flags & SYN) names.push('SYN');
  if (flags & FIN) names.push('FIN');
  if (flags & RST) names.push('RST');
  if (flags & PSH) names.push('PSH');
  if (flags & URG) names.push('URG');
  if (flags & ACK) names.push('ACK');
  return names.join(',');
}

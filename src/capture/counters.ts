/**
 * What a capture held besides TCP segments, and its clock: counted by the decoder and the
 * analyzer. On its own so that the thread that only decodes (./pipeline.ts) does not load
 * the analyzer.
 */
import { settleMutableFields } from '../core/object-layout.js';

export interface CaptureCounters {
  packets: number;
  tcpPackets: number;
  nonIp: number;
  nonTcp: number;
  fragments: number;
  truncated: number;
  unsupportedLink: number;
  malformed: number;
  connections: number;
  firstTime: number;
  lastTime: number;
  linkTypes: Record<string, number>;
}

/** Counters at zero. */
export function newCaptureCounters(): CaptureCounters {
  const c = {
    packets: 0, tcpPackets: 0, nonIp: 0, nonTcp: 0, fragments: 0, truncated: 0, unsupportedLink: 0, malformed: 0,
    connections: 0, firstTime: Number.NaN, lastTime: Number.NaN, linkTypes: {},
  };
  // Counted per packet: mutable from now on (src/core/object-layout.ts).
  settleMutableFields(c);
  return c;
}

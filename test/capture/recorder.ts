/** A DecodedSink that keeps copies of what it is handed, to compare two ways of producing the same packets. */
import type { DecodedSegment, DecodedSink } from '../../src/capture/decoder.js';

export type Seen = ['tick', number] | ['segment', Record<string, unknown>];

export class Recorder implements DecodedSink {
  readonly seen: Seen[] = [];
  tick(time: number): void {
    this.seen.push(['tick', time]);
  }
  segment(s: DecodedSegment): void {
    this.seen.push(['segment', { ...s, src: [...s.src], dst: [...s.dst] }]);
  }
}

/**
 * PacketRingWriter.writeCommon (src/capture/packet-ring.ts): the common packet written
 * into the ring straight from its octets gives exactly the slots that PacketDecoder.decode
 * then `tick` and `segment` give, and any packet it does not take is left to the decoder.
 * Checked on crafted packets of every kind it takes or refuses, each cut at every length
 * and with its header octets mutated, and on the packets of the real-traffic fixtures.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { newCaptureCounters } from '../../src/capture/counters.js';
import { DecodedSegment, PacketDecoder } from '../../src/capture/decoder.js';
import { newPacketRing, PacketRingReader, PacketRingWriter } from '../../src/capture/packet-ring.js';
import { CaptureReader } from '../../src/capture/reader.js';
import type { PacketRecord } from '../../src/wire/pcap.js';
import { rng } from '../helpers/rng.js';
import { frame, ipPacket, LINK, type TcpSpec } from './craft.js';
import { Recorder, type Seen } from './recorder.js';

/** What the worker reads from the ring after each packet went in by `write`; and how many writeCommon took. */
function throughRing(packets: readonly PacketRecord[], common: boolean): { seen: Seen[]; taken: number } {
  const memory = newPacketRing(2 * packets.length + 16);
  const writer = new PacketRingWriter(memory);
  const decoder = new PacketDecoder(newCaptureCounters());
  let taken = 0;
  for (const p of packets) {
    if (common && writer.writeCommon(p)) {
      decoder.clock(p);
      taken++;
    } else decoder.decode(p, writer);
  }
  writer.finish();
  const out = new Recorder();
  new PacketRingReader(memory).run(out, new DecodedSegment(), () => undefined, () => undefined);
  return { seen: out.seen, taken };
}

function record(linkType: number, bytes: Uint8Array, time: number, caplen = bytes.length): PacketRecord {
  // Some slack before and after, as in the reader's buffer.
  const data = new Uint8Array(bytes.length + 8);
  data.set(bytes, 4);
  return { data, offset: 4, caplen, wireLen: bytes.length, time, linkType, fileOffset: 0 };
}

const base: TcpSpec = { src: '192.168.1.10', dst: '10.0.0.2', sport: 40000, dport: 443, flags: 'P.', seq: 0xfffffff0, ack: 0x80000001, win: 502, len: 30 };
const specs: TcpSpec[] = [
  base,
  { ...base, flags: 'S', len: 0, mss: 1460, sackOk: true, ts: [1, 0], wscale: 7 }, // a SYN's options: its window scale
  { ...base, flags: 'S.', len: 0, wscale: 14 },
  { ...base, flags: 'S', len: 0 }, // a SYN without options
  { ...base, flags: '.', len: 0, ts: [5, 6] }, // options, not a SYN
  { ...base, flags: 'F.', len: 0 },
  { ...base, flags: 'R', len: 0 },
  { ...base, ipOptions: [1, 1, 1, 0] }, // IP options
  { ...base, moreFragments: true }, // a first fragment: the decoder's
  { ...base, fragOffset: 8 }, // a later fragment: the decoder's
  { ...base, protocol: 17 }, // UDP
  { ...base, src: '2001:db8::1', dst: '2001:db8::2' }, // IPv6: the decoder's
];

describe('the ring written from the octets (writeCommon)', () => {
  it('gives the decoder\'s slots for every crafted kind, link, cut and mutation, and takes the common ones', () => {
    const rnd = rng(7);
    const packets: PacketRecord[] = [];
    let time = 1_700_000_000;
    for (const spec of specs) {
      const ip = ipPacket(spec);
      for (const link of [LINK.EN10MB, LINK.RAW, LINK.IPV4, LINK.SLL, LINK.NULL]) {
        const bytes = link === LINK.EN10MB || link === LINK.SLL || link === LINK.NULL ? frame(link, ip) : ip;
        // Whole, cut at every length (the snap length), and with one header octet changed at random, 40 times.
        for (let caplen = 0; caplen <= bytes.length; caplen++) packets.push(record(link, bytes, (time += 0.001), caplen));
        for (let i = 0; i < 40; i++) {
          const mutated = bytes.slice();
          mutated[Math.floor(rnd() * Math.min(mutated.length, 80))] = Math.floor(rnd() * 256);
          packets.push(record(link, mutated, (time += 0.001)));
        }
      }
      // VLAN-tagged Ethernet: the decoder's.
      packets.push(record(LINK.EN10MB, frame(LINK.EN10MB, ip, { vlans: [100] }), (time += 0.001)));
    }
    // A packet without a time (a pcapng simple packet block) between timed ones: its time comes from the decoder's clock.
    packets.push({ ...record(LINK.RAW, ipPacket(base), Number.NaN) });
    packets.push(record(LINK.RAW, ipPacket(base), (time += 0.001)));
    const common = throughRing(packets, true);
    const decoded = throughRing(packets, false);
    expect(packets.length).toBeGreaterThan(5_000);
    expect(common.seen).toEqual(decoded.seen);
    expect(common.taken).toBeGreaterThan(1_000);
    expect(common.taken).toBeLessThan(packets.length / 2);
  });

  for (const name of ['real-lo-ns.pcap', 'real-lo.pcapng', 'real-any.pcap', 'crafted-corners.pcapng', 'crafted-simultaneous.pcap']) {
    it(`${name}: the decoder's slots`, () => {
      const packets: PacketRecord[] = [];
      const reader = new CaptureReader((p) => packets.push({ ...p, data: p.data.slice() }));
      reader.push(readFileSync(fileURLToPath(new URL(`../fixtures/pcap/${name}`, import.meta.url))));
      reader.finish();
      expect(packets.length).toBeGreaterThan(0);
      const common = throughRing(packets, true);
      expect(common.seen).toEqual(throughRing(packets, false).seen);
    });
  }
});

/**
 * The capture readers on handcrafted files: pcap in both magics and byte orders, pcapng
 * with several sections of either byte order, if_tsresol / if_tsoffset, EPB, SPB, the
 * obsolete PB and unknown blocks, and every supported link type.
 */
import { describe, expect, it } from 'vitest';
import { concat, frame, ipPacket, LINK, pcapFile, pcapngSection, type CraftedPacket } from '../capture/craft.js';
import { analyze } from '../capture/helpers.js';

const T0 = 1_700_000_000.123456;
const syn = (src = '10.0.0.1', dst = '10.0.0.2', sport = 40000, dport = 80): Uint8Array =>
  ipPacket({ src, dst, sport, dport, flags: 'S', seq: 1000, mss: 1460, sackOk: true, ts: [1, 0], wscale: 7 });

describe('pcap', () => {
  for (const little of [true, false]) {
    for (const nanos of [false, true]) {
      it(`reads ${little ? 'little' : 'big'}-endian ${nanos ? 'nanosecond' : 'microsecond'} files`, () => {
        const file = pcapFile({ little, nanos, linkType: LINK.RAW }, [{ t: T0, bytes: syn() }, { t: T0 + 0.5, bytes: syn('10.0.0.3') }]);
        const a = analyze(file);
        expect(a.error).toBeNull();
        expect(a.counters.packets).toBe(2);
        expect(a.records).toHaveLength(2);
        expect(a.records[0]?.start).toBeCloseTo(T0, 5);
        expect(a.records[0]?.originator).toEqual({ address: '10.0.0.1', port: 40000 });
        expect(a.records[0]?.states.orig).toBe('SYN_SENT');
      });
    }
  }

  it('reads a file delivered one byte at a time (a pipe)', () => {
    const file = pcapFile({ little: true, nanos: false, linkType: LINK.RAW }, [{ t: T0, bytes: syn() }]);
    expect(analyze(file, { chunk: 1 }).records).toHaveLength(1);
  });

  it('flags a packet cut by the snap length and still uses its header', () => {
    const p = ipPacket({ src: '10.0.0.1', dst: '10.0.0.2', sport: 40001, dport: 80, flags: 'P.', seq: 5, ack: 7, len: 500 });
    const a = analyze(pcapFile({ little: true, nanos: false, linkType: LINK.RAW, snaplen: 60 }, [{ t: T0, bytes: p, caplen: 60 }]));
    expect(a.counters.truncated).toBe(1);
    expect(a.records[0]?.bytes.orig).toBe(500);
    expect(a.records[0]?.anomalies.truncatedPackets).toBe(1);
  });

  it('names the byte offset and record of a file cut inside a packet, after analysing the earlier ones', () => {
    const file = pcapFile({ little: true, nanos: false, linkType: LINK.RAW }, [{ t: T0, bytes: syn() }, { t: T0 + 1, bytes: syn('10.0.0.3') }]);
    const cut = file.subarray(0, file.length - 10);
    const a = analyze(cut);
    expect(a.records).toHaveLength(1);
    const second = 24 + 16 + syn().length;
    expect(a.error?.offset).toBe(second);
    expect(a.error?.message).toContain(`byte offset ${second}`);
    expect(a.error?.message).toContain('pcap record 2');
  });

  it('rejects an impossible record length with its offset', () => {
    const file = pcapFile({ little: true, nanos: false, linkType: LINK.RAW }, [{ t: T0, bytes: syn() }, { t: T0, bytes: syn() }]);
    const bad = file.slice();
    const second = 24 + 16 + syn().length;
    bad[second + 8] = 0xff;
    bad[second + 11] = 0x7f;
    const a = analyze(bad);
    expect(a.records).toHaveLength(1);
    expect(a.error?.code).toBe('E_CAPTURE_FORMAT');
    expect(a.error?.offset).toBe(second);
  });

  it('rejects what is not a capture', () => {
    expect(analyze(new TextEncoder().encode('hello world, not a pcap')).error?.message).toMatch(/not a pcap or pcapng file/);
    expect(analyze(new Uint8Array(0)).error?.message).toMatch(/empty/);
  });
});

describe('pcapng', () => {
  it('reads sections of both byte orders with their own interfaces, resolutions and offsets', () => {
    const s1 = pcapngSection({ little: true, interfaces: [{ linkType: LINK.RAW }, { linkType: LINK.EN10MB, tsresol: 9 }], unknownBlock: true }, [
      { t: T0, bytes: syn(), ifc: 0 },
      { t: T0 + 1, bytes: frame(LINK.EN10MB, syn('10.0.0.3')), ifc: 1 },
    ]);
    const s2 = pcapngSection({ little: false, interfaces: [{ linkType: LINK.SLL2, tsresol: 0x80 | 10, tsoffset: 1_600_000_000 }] }, [
      { t: 1_600_000_100.5, bytes: frame(LINK.SLL2, syn('10.0.0.4')) },
      { t: 1_600_000_101, bytes: frame(LINK.SLL2, syn('10.0.0.5')), kind: 'pb' },
    ]);
    const a = analyze(concat(s1, s2));
    expect(a.error).toBeNull();
    expect(a.records.map((r) => r.originator.address)).toEqual(['10.0.0.1', '10.0.0.3', '10.0.0.4', '10.0.0.5']);
    expect(a.records[0]?.start).toBeCloseTo(T0, 5);
    expect(a.records[1]?.start).toBeCloseTo(T0 + 1, 5);
    expect(a.records[2]?.start).toBeCloseTo(1_600_000_100.5, 3);
    expect(a.records[3]?.start).toBeCloseTo(1_600_000_101, 3);
  });

  it('reads simple packet blocks (no timestamp: the previous packet time)', () => {
    const s = pcapngSection({ little: true, interfaces: [{ linkType: LINK.RAW }] }, [
      { t: T0, bytes: syn() },
      { t: 0, bytes: syn('10.0.0.9'), kind: 'spb' },
    ]);
    const a = analyze(s);
    expect(a.records).toHaveLength(2);
    expect(a.records[1]?.start).toBeCloseTo(T0, 5);
  });

  it('names the block of a damaged length and analyses the packets before it', () => {
    const s = pcapngSection({ little: true, interfaces: [{ linkType: LINK.RAW }] }, [{ t: T0, bytes: syn() }, { t: T0, bytes: syn('10.0.0.7') }]);
    const bad = s.slice();
    const epb2 = 28 + 20 + (12 + 20 + syn().length);
    bad[bad.length - 4] = 0x99; // trailing length of the second EPB
    const a = analyze(bad);
    expect(a.records).toHaveLength(1);
    expect(a.error?.offset).toBe(epb2);
    expect(a.error?.message).toMatch(/block 4, enhanced packet block/);
  });

  it('refuses a packet on an interface that was never described', () => {
    const s = pcapngSection({ little: false, interfaces: [{ linkType: LINK.RAW }] }, [{ t: T0, bytes: syn(), ifc: 0 }]);
    const bad = s.slice();
    bad[28 + 20 + 8 + 3] = 5; // interface id 5
    expect(analyze(bad).error?.message).toMatch(/interface 5 was not described/);
  });
});

describe('link types', () => {
  const cases: [string, number, (ip: Uint8Array) => Uint8Array][] = [
    ['NULL little-endian', LINK.NULL, (ip) => frame(LINK.NULL, ip)],
    ['NULL big-endian', LINK.NULL, (ip) => frame(LINK.NULL, ip, { littleNull: false })],
    ['LOOP', LINK.LOOP, (ip) => frame(LINK.LOOP, ip)],
    ['EN10MB', LINK.EN10MB, (ip) => frame(LINK.EN10MB, ip)],
    ['EN10MB 802.1Q', LINK.EN10MB, (ip) => frame(LINK.EN10MB, ip, { vlans: [0x8100] })],
    ['EN10MB QinQ', LINK.EN10MB, (ip) => frame(LINK.EN10MB, ip, { vlans: [0x88a8, 0x8100] })],
    ['RAW', LINK.RAW, (ip) => ip],
    ['LINUX_SLL', LINK.SLL, (ip) => frame(LINK.SLL, ip)],
    ['LINUX_SLL2', LINK.SLL2, (ip) => frame(LINK.SLL2, ip)],
  ];
  for (const [name, lt, wrap] of cases) {
    it(`${name}: IPv4 and IPv6`, () => {
      const p4 = syn();
      const p6 = ipPacket({ src: '2001:db8::1', dst: '2001:db8::2', sport: 5, dport: 443, flags: 'S', seq: 1 });
      const a = analyze(pcapFile({ little: true, nanos: false, linkType: lt }, [{ t: T0, bytes: wrap(p4) }, { t: T0, bytes: wrap(p6) }]));
      expect(a.records.map((r) => `${r.family} ${r.originator.address}`)).toEqual(['ipv4 10.0.0.1', 'ipv6 2001:db8::1']);
    });
  }
  it('IPV4 (228) and IPV6 (229)', () => {
    const a = analyze(concat(
      pcapFile({ little: true, nanos: false, linkType: LINK.IPV4 }, [{ t: T0, bytes: syn() }]),
    ));
    expect(a.records).toHaveLength(1);
    const b = analyze(pcapFile({ little: false, nanos: true, linkType: LINK.IPV6 }, [{ t: T0, bytes: ipPacket({ src: '::1', dst: '::1', sport: 1, dport: 2, flags: 'S', seq: 1 }) }]));
    expect(b.records[0]?.originator.address).toBe('::1');
  });
  it('counts an unknown link type, non-IP and non-TCP traffic, and skips them', () => {
    const arp = frame(LINK.EN10MB, new Uint8Array(28), { etherType: 0x0806 });
    const udp = frame(LINK.EN10MB, ipPacket({ src: '10.0.0.1', dst: '10.0.0.2', sport: 53, dport: 53, flags: '', seq: 0, protocol: 17 }));
    const a = analyze(pcapFile({ little: true, nanos: false, linkType: LINK.EN10MB }, [{ t: T0, bytes: arp }, { t: T0, bytes: udp }, { t: T0, bytes: frame(LINK.EN10MB, syn()) }]));
    expect(a.counters).toMatchObject({ packets: 3, nonIp: 1, nonTcp: 1, tcpPackets: 1 });
    const b = analyze(pcapFile({ little: true, nanos: false, linkType: 147 }, [{ t: T0, bytes: syn() }]));
    expect(b.counters.unsupportedLink).toBe(1);
  });
});

describe('IP layer', () => {
  it('IPv4 options are skipped; non-first fragments are counted and skipped', () => {
    const withOpts = ipPacket({ src: '10.0.0.1', dst: '10.0.0.2', sport: 1, dport: 2, flags: 'S', seq: 1, ipOptions: [1, 1, 1, 0] });
    const first = ipPacket({ src: '10.0.0.3', dst: '10.0.0.2', sport: 40001, dport: 80, flags: 'P.', seq: 1, ack: 1, len: 100, moreFragments: true });
    const later = ipPacket({ src: '10.0.0.3', dst: '10.0.0.2', sport: 40001, dport: 80, flags: 'P.', seq: 1, ack: 1, len: 100, fragOffset: 1480 });
    const pkts: CraftedPacket[] = [{ t: T0, bytes: withOpts }, { t: T0, bytes: first }, { t: T0, bytes: later }];
    const a = analyze(pcapFile({ little: true, nanos: false, linkType: LINK.RAW }, pkts));
    expect(a.records.map((r) => r.originator.address)).toEqual(['10.0.0.1', '10.0.0.3']);
    expect(a.counters.fragments).toBe(2);
    expect(a.records[1]?.packets.orig).toBe(1);
  });
  it('IPv6 extension headers are walked to TCP; a non-first fragment is skipped', () => {
    const p = ipPacket({ src: '2001:db8::1', dst: '2001:db8::2', sport: 9, dport: 80, flags: 'S', seq: 1, v6ext: ['hop', 'dst'] });
    const f = ipPacket({ src: '2001:db8::1', dst: '2001:db8::2', sport: 9, dport: 80, flags: '.', seq: 2, ack: 1, v6ext: ['frag'], fragOffset: 1448 });
    const a = analyze(pcapFile({ little: true, nanos: false, linkType: LINK.RAW }, [{ t: T0, bytes: p }, { t: T0, bytes: f }]));
    expect(a.records).toHaveLength(1);
    expect(a.records[0]?.states.orig).toBe('SYN_SENT');
    expect(a.counters.fragments).toBe(1);
  });
});

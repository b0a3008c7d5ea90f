/** The crafted fixture files in test/fixtures/pcap/ (regenerate: UPDATE_FIXTURES=1 npx vitest run test/capture/crafted.test.ts). */
import { concat, exchange, frame, ipPacket, LINK, pcapFile, pcapngSection, type Step } from './craft.js';

const I = 1000;
const J = 5000;

/** Simultaneous open and close on 802.1Q Ethernet, big-endian nanosecond pcap. */
export function simultaneous(): Uint8Array {
  const steps: Step[] = [
    ['>', 'S', I, 0, 0, 0.001, { mss: 1460, wscale: 7, sackOk: true }],
    ['<', 'S', J, 0, 0, 0.0001, { mss: 1460, wscale: 7, sackOk: true }],
    ['>', 'S.', I, J + 1, 0, 0.01],
    ['<', 'S.', J, I + 1, 0, 0.0001],
    ['>', 'P.', I + 1, J + 1, 20, 0.005],
    ['<', '.', J + 1, I + 21, 0, 0.01],
    ['>', 'F.', I + 21, J + 1, 0, 0.1],
    ['<', 'F.', J + 1, I + 21, 0, 0.0001],
    ['>', '.', I + 22, J + 2, 0, 0.01],
    ['<', '.', J + 2, I + 22, 0, 0.0001],
  ];
  const pk = exchange(['192.168.1.10', 7010], ['192.168.1.11', 7011], steps).map((p) => ({ ...p, bytes: frame(LINK.EN10MB, p.bytes, { vlans: [0x8100] }) }));
  return pcapFile({ little: false, nanos: true, linkType: LINK.EN10MB }, pk);
}

/** Corner cases: two pcapng sections (little, then big-endian), several link types, noise. */
export function corners(): Uint8Array {
  const t0 = 1_700_000_000;
  const a: [string, number] = ['10.1.0.1', 50000];
  const b: [string, number] = ['10.1.0.2', 443];
  const hs: Step[] = [['>', 'S', I, 0], ['<', 'S.', J, I + 1], ['>', '.', I + 1, J + 1], ['>', 'P.', I + 1, J + 1, 300], ['<', '.', J + 1, I + 301, 0, 0.001, { win: 0 }], ['<', 'R.', J + 1, I + 301]];
  const c1 = exchange(a, b, hs, t0);
  const udp = ipPacket({ src: '10.1.0.1', dst: '10.1.0.53', sport: 5353, dport: 53, flags: '', seq: 0, protocol: 17 });
  const frag = ipPacket({ src: '10.1.0.1', dst: '10.1.0.2', sport: 50000, dport: 443, flags: '.', seq: I + 301, ack: J + 1, fragOffset: 1480 });
  const s1 = pcapngSection({ little: true, interfaces: [{ linkType: LINK.EN10MB }, { linkType: LINK.RAW, tsresol: 9 }], unknownBlock: true }, [
    ...c1.slice(0, 3).map((p) => ({ ...p, bytes: frame(LINK.EN10MB, p.bytes, { vlans: [0x88a8, 0x8100] }) })),
    { t: t0 + 0.01, bytes: frame(LINK.EN10MB, udp) },
    { t: t0 + 0.011, bytes: frag, ifc: 1 },
    ...c1.slice(3).map((p) => ({ ...p, ifc: 1 })),
  ]);
  const v6: Step[] = [['>', 'S', I, 0], ['<', 'S.', J, I + 1], ['>', '.', I + 1, J + 1], ['>', 'P.', I + 1, J + 1, 1000]];
  const c2 = exchange(['2001:db8::1', 40000], ['2001:db8::2', 22], v6, t0 + 5).map((p, i) => ({ ...p, bytes: i === 0 ? ipPacket({ src: '2001:db8::1', dst: '2001:db8::2', sport: 40000, dport: 22, flags: 'S', seq: I, v6ext: ['hop', 'dst'] }) : p.bytes }));
  const s2 = pcapngSection({ little: false, interfaces: [{ linkType: LINK.SLL2, tsresol: 0x80 | 20, tsoffset: 1_000_000_000 }, { linkType: LINK.NULL }] }, [
    ...c2.slice(0, 3).map((p) => ({ ...p, bytes: frame(LINK.SLL2, p.bytes) })),
    // the data packet, cut by the snap length inside the payload
    ...c2.slice(3).map((p) => ({ ...p, bytes: frame(LINK.NULL, p.bytes), ifc: 1, caplen: 4 + 40 + 20 + 10 })),
  ]);
  return concat(s1, s2);
}

export const CRAFTED: Record<string, () => Uint8Array> = {
  'crafted-simultaneous.pcap': simultaneous,
  'crafted-corners.pcapng': corners,
};

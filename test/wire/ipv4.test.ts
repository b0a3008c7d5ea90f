/**
 * IPv4 header decode/encode and the Internet checksum. The fixture is a real SYN the
 * kernel (Linux 6.18) routed into the lab's TUN: 10.200.0.1:38826 → 10.201.0.2:9000.
 */
import { describe, expect, it } from 'vitest';
import {
  decodeIpv4,
  encodeIpv4,
  foldChecksum,
  internetChecksum,
  IPPROTO_TCP,
  IPV4_DF,
  ipv4ToString,
  newIpv4Header,
  onesSum,
  parseIpv4,
  pseudoHeaderSum,
} from '../../src/wire/ipv4.js';

export const KERNEL_SYN_HEX =
  '4500003c2e0b40004006f71d0ac800010ac9000297aa232806ccf2f000000000a002faf082e90000020405b40402080ac0d83f27000000000103030a';

function bytes(hex: string): Uint8Array {
  return Uint8Array.from(Buffer.from(hex, 'hex'));
}

describe('decodeIpv4', () => {
  it('reads every field of a real kernel packet and verifies its checksum', () => {
    const buf = bytes(KERNEL_SYN_HEX);
    const h = newIpv4Header();
    expect(decodeIpv4(buf, 0, buf.length, h)).toBe(true);
    expect(h).toMatchObject({
      valid: true,
      truncated: false,
      version: 4,
      headerLength: 20,
      totalLength: 60,
      id: 0x2e0b,
      flags: IPV4_DF,
      fragmentOffset: 0,
      ttl: 64,
      protocol: IPPROTO_TCP,
      checksum: 0xf71d,
      checksumOk: true,
      payloadOffset: 20,
      payloadLength: 40,
    });
    expect(ipv4ToString(h.src)).toBe('10.200.0.1');
    expect(ipv4ToString(h.dst)).toBe('10.201.0.2');
  });

  it('flags a corrupted header checksum without failing the decode', () => {
    const buf = bytes(KERNEL_SYN_HEX);
    buf[8] = 63; // TTL changed, checksum not
    const h = newIpv4Header();
    expect(decodeIpv4(buf, 0, buf.length, h)).toBe(true);
    expect(h.checksumOk).toBe(false);
  });

  it('reports truncation as a flag: header cut, payload cut, empty buffer', () => {
    const buf = bytes(KERNEL_SYN_HEX);
    const h = newIpv4Header();
    expect(decodeIpv4(buf, 0, 10, h)).toBe(false);
    expect(h.truncated).toBe(true);
    expect(h.version).toBe(4);
    expect(decodeIpv4(buf, 0, 30, h)).toBe(true);
    expect(h.truncated).toBe(true);
    expect(h.payloadLength).toBe(10);
    expect(decodeIpv4(new Uint8Array(0), 0, 0, h)).toBe(false);
    expect(h.truncated).toBe(true);
  });

  it('rejects non-IPv4 and impossible lengths as invalid, not as exceptions', () => {
    const h = newIpv4Header();
    const v6 = new Uint8Array(40);
    v6[0] = 0x60;
    expect(decodeIpv4(v6, 0, 40, h)).toBe(false);
    expect(h.version).toBe(6);
    const badIhl = bytes(KERNEL_SYN_HEX);
    badIhl[0] = 0x44;
    expect(decodeIpv4(badIhl, 0, badIhl.length, h)).toBe(false);
    const short = bytes(KERNEL_SYN_HEX);
    short[2] = 0;
    short[3] = 10; // total length below the header
    expect(decodeIpv4(short, 0, short.length, h)).toBe(false);
  });

  it('decodes at an offset and ignores bytes past the total length', () => {
    const inner = bytes(KERNEL_SYN_HEX);
    const buf = new Uint8Array(inner.length + 14 + 6);
    buf.set(inner, 14);
    const h = newIpv4Header();
    expect(decodeIpv4(buf, 14, buf.length - 14, h)).toBe(true);
    expect(h.payloadOffset).toBe(34);
    expect(h.payloadLength).toBe(40); // the 6 trailing octets (link padding) are not payload
    expect(h.truncated).toBe(false);
  });

  it('reuses the caller-owned object: no stale fields survive a shorter packet', () => {
    const h = newIpv4Header();
    decodeIpv4(bytes(KERNEL_SYN_HEX), 0, 60, h);
    decodeIpv4(new Uint8Array(4), 0, 4, h);
    expect(h.valid).toBe(false);
    expect(h.payloadLength).toBe(0);
    expect(h.checksumOk).toBe(false);
  });
});

describe('encodeIpv4', () => {
  it('writes a header the decoder reads back with a valid checksum', () => {
    const buf = new Uint8Array(40);
    const src = parseIpv4('10.201.0.2') as number;
    const dst = parseIpv4('10.200.0.1') as number;
    expect(encodeIpv4(buf, 0, { src, dst, protocol: IPPROTO_TCP, payloadLength: 20, id: 7 })).toBe(20);
    const h = newIpv4Header();
    expect(decodeIpv4(buf, 0, 40, h)).toBe(true);
    expect(h).toMatchObject({ checksumOk: true, totalLength: 40, id: 7, ttl: 64, flags: IPV4_DF, src, dst });
  });

  it("reproduces the kernel's own header byte for byte", () => {
    const k = bytes(KERNEL_SYN_HEX);
    const buf = new Uint8Array(20);
    encodeIpv4(buf, 0, {
      src: parseIpv4('10.200.0.1') as number,
      dst: parseIpv4('10.201.0.2') as number,
      protocol: IPPROTO_TCP,
      payloadLength: 40,
      id: 0x2e0b,
    });
    expect(Buffer.from(buf).toString('hex')).toBe(Buffer.from(k.subarray(0, 20)).toString('hex'));
  });
});

describe('checksum helpers', () => {
  it('RFC 1071 example: the sum of 0001 f203 f4f5 f6f7 is ddf2, checksum 220d', () => {
    const buf = bytes('0001f203f4f5f6f7');
    const sum = onesSum(buf, 0, buf.length);
    expect(foldChecksum(sum)).toBe(~0xddf2 & 0xffff);
    expect(internetChecksum(buf, 0, buf.length)).toBe(0x220d);
  });

  it('pads an odd final octet with zero', () => {
    expect(internetChecksum(bytes('0102ff'), 0, 3)).toBe(internetChecksum(bytes('0102ff00'), 0, 4));
  });

  it('pseudo-header sum adds addresses, protocol and length', () => {
    expect(pseudoHeaderSum(0x0a000001, 0x0a000002, 6, 20)).toBe(0x0a00 + 1 + 0x0a00 + 2 + 6 + 20);
  });

  it('parses and prints dotted quads, refusing anything else', () => {
    expect(parseIpv4('255.255.255.255')).toBe(0xffffffff);
    expect(ipv4ToString(0xc0a80001)).toBe('192.168.0.1');
    expect(parseIpv4('256.0.0.1')).toBeUndefined();
    expect(parseIpv4('1.2.3')).toBeUndefined();
    expect(parseIpv4('a.b.c.d')).toBeUndefined();
  });
});

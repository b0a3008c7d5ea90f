/**
 * TCP header decode/encode with options and the pseudo-header checksum, on a real SYN
 * the kernel sent into the lab's TUN (options: MSS, SACK-permitted, timestamps, window scale).
 */
import { describe, expect, it } from 'vitest';
import { ACK, FIN, SYN } from '../../src/core/segment.js';
import { decodeIpv4, newIpv4Header, parseIpv4 } from '../../src/wire/ipv4.js';
import { decodeTcp, describeOptions, encodeTcp, newTcpHeader, tcpChecksum } from '../../src/wire/tcp.js';
import { KERNEL_SYN_HEX } from './ipv4.test.js';

function bytes(hex: string): Uint8Array {
  return Uint8Array.from(Buffer.from(hex, 'hex'));
}

const SRC = parseIpv4('10.201.0.2') as number;
const DST = parseIpv4('10.200.0.1') as number;

describe('decodeTcp', () => {
  it("reads the kernel's SYN with all four options and verifies the checksum", () => {
    const buf = bytes(KERNEL_SYN_HEX);
    const ip = newIpv4Header();
    decodeIpv4(buf, 0, buf.length, ip);
    const t = newTcpHeader();
    expect(decodeTcp(buf, ip.payloadOffset, ip.payloadLength, t)).toBe(true);
    expect(t).toMatchObject({
      valid: true,
      truncated: false,
      badOptions: false,
      srcPort: 38826,
      dstPort: 9000,
      seq: 0x06ccf2f0,
      ack: 0,
      headerLength: 40,
      flags: SYN,
      window: 64240,
      mss: 1460,
      wscale: 10,
      sackPermitted: true,
      hasTimestamps: true,
      tsVal: 0xc0d83f27,
      tsEcr: 0,
      payloadLength: 0,
    });
    expect(tcpChecksum(buf, ip.payloadOffset, ip.payloadLength, ip.src, ip.dst)).toBe(0);
    expect(describeOptions(t)).toBe(`mss 1460,sackOK,TS val ${0xc0d83f27} ecr 0,wscale 10`);
  });

  it('detects a corrupted segment through the pseudo-header checksum', () => {
    const buf = bytes(KERNEL_SYN_HEX);
    buf[25] = (buf[25] as number) ^ 0x01; // one bit of the sequence number
    expect(tcpChecksum(buf, 20, 40, parseIpv4('10.200.0.1') as number, parseIpv4('10.201.0.2') as number)).not.toBe(0);
    const good = bytes(KERNEL_SYN_HEX);
    // The right bytes with another address fail too: the pseudo-header is covered
    // (swapping source and destination would not show: the sum commutes).
    expect(tcpChecksum(good, 20, 40, parseIpv4('10.200.0.1') as number, parseIpv4('10.201.0.3') as number)).not.toBe(0);
  });

  it('flags truncation: fixed header cut, options cut', () => {
    const buf = bytes(KERNEL_SYN_HEX);
    const t = newTcpHeader();
    expect(decodeTcp(buf, 20, 12, t)).toBe(false);
    expect(t.truncated).toBe(true);
    expect(decodeTcp(buf, 20, 26, t)).toBe(true); // 20 fixed + 6 of 20 option octets
    expect(t.truncated).toBe(true);
    expect(t.mss).toBe(1460); // what fits is still read
    expect(t.hasTimestamps).toBe(false);
  });

  it('marks malformed options without losing the header', () => {
    const buf = bytes(KERNEL_SYN_HEX);
    buf[20 + 21] = 7; // MSS option claims 7 octets
    const t = newTcpHeader();
    expect(decodeTcp(buf, 20, 40, t)).toBe(true);
    expect(t.badOptions).toBe(true);
    expect(t.window).toBe(64240);
    const zeroLen = bytes(KERNEL_SYN_HEX);
    zeroLen[20 + 21] = 0;
    expect(decodeTcp(zeroLen, 20, 40, t)).toBe(true);
    expect(t.badOptions).toBe(true);
  });

  it('rejects a data offset below 5 words', () => {
    const buf = bytes(KERNEL_SYN_HEX);
    buf[20 + 12] = 0x40;
    const t = newTcpHeader();
    expect(decodeTcp(buf, 20, 40, t)).toBe(false);
    expect(t.valid).toBe(false);
  });

  it('clears options of the previous packet when reusing the object', () => {
    const t = newTcpHeader();
    decodeTcp(bytes(KERNEL_SYN_HEX), 20, 40, t);
    const plain = new Uint8Array(20);
    encodeTcp(plain, 0, { srcPort: 1, dstPort: 2, seq: 3, ack: 4, flags: ACK, window: 5 }, 0, SRC, DST);
    decodeTcp(plain, 0, 20, t);
    expect(t).toMatchObject({ mss: -1, wscale: -1, sackPermitted: false, hasTimestamps: false, headerLength: 20 });
  });
});

describe('encodeTcp', () => {
  it('round-trips every field, with payload, and checksums to zero', () => {
    const buf = new Uint8Array(20 + 5);
    buf.set([1, 2, 3, 4, 5], 20);
    const n = encodeTcp(
      buf,
      0,
      { srcPort: 40000, dstPort: 7000, seq: 0xfffffff0, ack: 0x12345678, flags: FIN | ACK, window: 65535 },
      5,
      SRC,
      DST,
    );
    expect(n).toBe(20);
    expect(tcpChecksum(buf, 0, 25, SRC, DST)).toBe(0);
    const t = newTcpHeader();
    decodeTcp(buf, 0, 25, t);
    expect(t).toMatchObject({
      srcPort: 40000,
      dstPort: 7000,
      seq: 0xfffffff0,
      ack: 0x12345678,
      flags: FIN | ACK,
      window: 65535,
      payloadLength: 5,
      payloadOffset: 20,
    });
  });

  it('writes an MSS option when asked (SYN) and an odd-length payload checksums right', () => {
    const buf = new Uint8Array(24 + 3);
    buf.set([9, 9, 9], 24);
    expect(encodeTcp(buf, 0, { srcPort: 1, dstPort: 2, seq: 0, ack: 0, flags: SYN, window: 1000, mss: 1400 }, 3, SRC, DST)).toBe(24);
    const t = newTcpHeader();
    decodeTcp(buf, 0, 27, t);
    expect(t.mss).toBe(1400);
    expect(tcpChecksum(buf, 0, 27, SRC, DST)).toBe(0);
  });
});

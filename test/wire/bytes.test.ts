/**
 * The big-endian readers of src/wire/bytes.ts: `u32` as an unsigned number, `i32` as the
 * same 32 bits signed (what the packet ring copies into its Uint32Array slots).
 */
import { describe, expect, it } from 'vitest';
import { i32, u16, u32 } from '../../src/wire/bytes.js';
import { rng } from '../helpers/rng.js';

describe('big-endian reads', () => {
  it('u16, u32 and i32 read network order; i32 is u32 as a signed 32-bit integer', () => {
    const b = Uint8Array.of(0x80, 0x00, 0x00, 0x01, 0x7f, 0xff, 0xff, 0xff);
    expect(u16(b, 0)).toBe(0x8000);
    expect(u32(b, 0)).toBe(0x80000001);
    expect(i32(b, 0)).toBe(-0x7fffffff);
    expect(u32(b, 4)).toBe(0x7fffffff);
    expect(i32(b, 4)).toBe(0x7fffffff);
  });

  it('i32 stores the same bits as u32 into a Uint32Array, for any 4 octets', () => {
    const r = rng(5);
    const b = new Uint8Array(4);
    const slots = new Uint32Array(2);
    for (let n = 0; n < 10_000; n++) {
      for (let i = 0; i < 4; i++) b[i] = Math.floor(r() * 256);
      slots[0] = i32(b, 0);
      slots[1] = u32(b, 0);
      expect(slots[0]).toBe(slots[1]);
      expect(Number.isInteger(i32(b, 0)) && i32(b, 0) >= -(2 ** 31) && i32(b, 0) < 2 ** 31).toBe(true);
    }
  });
});

/** RFC 9293 §3.4: sequence arithmetic modulo 2^32. */
import { describe, expect, it } from 'vitest';
import {
  seqAdd,
  seqBetweenInclusive,
  seqDiff,
  seqGe,
  seqGt,
  seqInWindow,
  seqLe,
  seqLt,
} from '../../src/core/seq.js';

const MAX = 0xffff_ffff;

describe('seqAdd', () => {
  it('adds without wrapping', () => expect(seqAdd(10, 5)).toBe(15));
  it('wraps at 2^32', () => expect(seqAdd(MAX, 1)).toBe(0));
  it('wraps past 2^32', () => expect(seqAdd(MAX - 4, 10)).toBe(5));
  it('accepts a negative addend as a step back', () => expect(seqAdd(0, -1)).toBe(MAX));
  it('always returns an unsigned 32-bit value', () => {
    for (const [a, b] of [
      [0x8000_0000, 0x8000_0000],
      [MAX, MAX],
      [123, 0],
    ] as const) {
      const r = seqAdd(a, b);
      expect(r).toBeGreaterThanOrEqual(0);
      expect(r).toBeLessThanOrEqual(MAX);
    }
  });
});

describe('seqDiff', () => {
  it('is the plain difference for close numbers', () => expect(seqDiff(15, 10)).toBe(5));
  it('is negative when a is behind b', () => expect(seqDiff(10, 15)).toBe(-5));
  it('measures across the wrap forwards', () => expect(seqDiff(5, MAX - 4)).toBe(10));
  it('measures across the wrap backwards', () => expect(seqDiff(MAX - 4, 5)).toBe(-10));
  it('is zero for equal numbers', () => expect(seqDiff(42, 42)).toBe(0));
});

describe('comparisons on the circle', () => {
  it('lt/gt for ordinary numbers', () => {
    expect(seqLt(1, 2)).toBe(true);
    expect(seqLt(2, 1)).toBe(false);
    expect(seqGt(2, 1)).toBe(true);
    expect(seqGt(1, 2)).toBe(false);
  });
  it('le/ge include equality, lt/gt do not', () => {
    expect(seqLe(7, 7)).toBe(true);
    expect(seqGe(7, 7)).toBe(true);
    expect(seqLt(7, 7)).toBe(false);
    expect(seqGt(7, 7)).toBe(false);
  });
  it('MAX is before 0 (wrap)', () => {
    expect(seqLt(MAX, 0)).toBe(true);
    expect(seqGt(0, MAX)).toBe(true);
    expect(seqLe(MAX, 0)).toBe(true);
    expect(seqGe(0, MAX)).toBe(true);
  });
  it('a number 2^31-1 ahead is greater', () => {
    expect(seqGt(0x7fff_ffff, 0)).toBe(true);
    expect(seqLt(0, 0x7fff_ffff)).toBe(true);
  });
  it('a number 2^31+1 ahead counts as behind', () => {
    expect(seqLt(0x8000_0001, 0)).toBe(true);
    expect(seqGt(0, 0x8000_0001)).toBe(true);
  });
});

describe('seqInWindow (lo =< x < lo + size)', () => {
  it('includes the left edge', () => expect(seqInWindow(100, 100, 10)).toBe(true));
  it('includes the last octet', () => expect(seqInWindow(109, 100, 10)).toBe(true));
  it('excludes the right edge', () => expect(seqInWindow(110, 100, 10)).toBe(false));
  it('excludes what is before the window', () => expect(seqInWindow(99, 100, 10)).toBe(false));
  it('is empty for size 0', () => expect(seqInWindow(100, 100, 0)).toBe(false));
  it('works across the wrap', () => {
    expect(seqInWindow(2, MAX - 2, 10)).toBe(true);
    expect(seqInWindow(7, MAX - 2, 10)).toBe(false);
    expect(seqInWindow(MAX - 3, MAX - 2, 10)).toBe(false);
  });
});

describe('seqBetweenInclusive (lo =< x =< hi)', () => {
  it('includes both ends', () => {
    expect(seqBetweenInclusive(10, 10, 20)).toBe(true);
    expect(seqBetweenInclusive(10, 20, 20)).toBe(true);
  });
  it('excludes outside', () => {
    expect(seqBetweenInclusive(10, 9, 20)).toBe(false);
    expect(seqBetweenInclusive(10, 21, 20)).toBe(false);
  });
  it('works across the wrap', () => {
    expect(seqBetweenInclusive(MAX - 1, 0, 3)).toBe(true);
    expect(seqBetweenInclusive(MAX - 1, 4, 3)).toBe(false);
  });
});

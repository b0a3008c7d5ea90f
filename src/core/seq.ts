/**
 * Sequence number arithmetic modulo 2^32 (RFC 9293 §3.4 "Sequence Numbers").
 *
 * Comparisons follow the RFC's "=<" on a circle: a < b when the signed 32-bit
 * difference a - b is negative, which is meaningful while the two numbers are less
 * than 2^31 apart. All values are plain numbers in [0, 2^32).
 */

/** (a + b) mod 2^32. */
export function seqAdd(a: number, b: number): number {
  return (a + b) >>> 0;
}

/** The signed distance a - b, in (-2^31, 2^31]. */
export function seqDiff(a: number, b: number): number {
  return (a - b) | 0;
}

export function seqLt(a: number, b: number): boolean {
  return ((a - b) | 0) < 0;
}

export function seqLe(a: number, b: number): boolean {
  return ((a - b) | 0) <= 0;
}

export function seqGt(a: number, b: number): boolean {
  return ((a - b) | 0) > 0;
}

export function seqGe(a: number, b: number): boolean {
  return ((a - b) | 0) >= 0;
}

/** lo =< x < lo + size (a window of `size` octets starting at lo). */
export function seqInWindow(x: number, lo: number, size: number): boolean {
  const d = (x - lo) >>> 0;
  return d < size;
}

/** lo =< x =< hi on the circle. */
export function seqBetweenInclusive(lo: number, x: number, hi: number): boolean {
  return ((x - lo) >>> 0) <= ((hi - lo) >>> 0);
}

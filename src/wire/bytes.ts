/**
 * Big-endian (network order) reads and writes on byte arrays, shared by the packet codecs.
 */
export function u16(buf: Uint8Array, at: number): number {
  return ((buf[at] as number) << 8) | (buf[at + 1] as number);
}

export function u32(buf: Uint8Array, at: number): number {
  return (((buf[at] as number) << 24) | ((buf[at + 1] as number) << 16) | ((buf[at + 2] as number) << 8) | (buf[at + 3] as number)) >>> 0;
}

/**
 * The same 32 bits as `u32`, as a signed integer: for copying into a Uint32Array, which
 * stores the same bits either way. V8 keeps it a small integer where `u32` makes a double
 * from 2^31 up (sequence numbers, addresses from 128.0.0.0), and compiled code that saw
 * only small integers is thrown away at the first such value.
 */
export function i32(buf: Uint8Array, at: number): number {
  return ((buf[at] as number) << 24) | ((buf[at + 1] as number) << 16) | ((buf[at + 2] as number) << 8) | (buf[at + 3] as number);
}

export function put16(buf: Uint8Array, at: number, v: number): void {
  buf[at] = (v >>> 8) & 0xff;
  buf[at + 1] = v & 0xff;
}

export function put32(buf: Uint8Array, at: number, v: number): void {
  buf[at] = (v >>> 24) & 0xff;
  buf[at + 1] = (v >>> 16) & 0xff;
  buf[at + 2] = (v >>> 8) & 0xff;
  buf[at + 3] = v & 0xff;
}

/**
 * Fuzzing the capture pipeline: 12,000 mutations of valid files (byte flips, length
 * fields, truncations, duplicated ranges), fed whole and in random chunks. Nothing may
 * crash or hang, and the only error allowed is the typed CaptureFormatError.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { CaptureFormatError } from '../../src/wire/pcap.js';
import { analyze } from './helpers.js';

const dir = fileURLToPath(new URL('../fixtures/pcap/', import.meta.url));

/** xorshift32: reproducible cases. */
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x / 4294967296;
  };
}

function mutate(base: Uint8Array, r: () => number): Uint8Array {
  const kind = Math.floor(r() * 5);
  let b = base.slice();
  const at = () => Math.floor(r() * b.length);
  switch (kind) {
    case 0: // flip a few bytes
      for (let i = 0, n = 1 + Math.floor(r() * 8); i < n; i++) b[at()] = Math.floor(r() * 256);
      break;
    case 1: {
      // write an extreme 32-bit value (lengths, timestamps) at a random aligned spot
      const p = at() & ~3;
      const v = [0, 0xffffffff, 0x7fffffff, 12, 13, 0x10000][Math.floor(r() * 6)] as number;
      for (let i = 0; i < 4 && p + i < b.length; i++) b[p + i] = (v >>> (8 * i)) & 0xff;
      break;
    }
    case 2: // truncate
      b = b.subarray(0, at());
      break;
    case 3: {
      // duplicate a range in place (repeated blocks, shifted alignment)
      const s = at();
      const e = Math.min(b.length, s + Math.floor(r() * 200));
      const out = new Uint8Array(b.length + (e - s));
      out.set(b.subarray(0, e));
      out.set(b.subarray(s), e);
      b = out;
      break;
    }
    default: // zero a range
      b.fill(0, at(), at());
  }
  return b;
}

describe('fuzz', () => {
  const bases = ['crafted-simultaneous.pcap', 'crafted-corners.pcapng', 'real-lo-ns.pcap', 'real-lo.pcapng'].map((f) => new Uint8Array(readFileSync(dir + f)));
  it('12,000 mutated files: no crash, no hang, only typed errors', () => {
    const r = rng(0x7c9);
    let errors = 0;
    const started = Date.now();
    for (let i = 0; i < 12_000; i++) {
      const base = bases[i % bases.length] as Uint8Array;
      const bytes = mutate(base, r);
      const chunk = r() < 0.2 ? 1 + Math.floor(r() * 300) : bytes.length || 1;
      let a;
      try {
        a = analyze(bytes, { chunk });
      } catch (e) {
        throw new Error(`case ${i}: ${e instanceof Error ? e.stack : String(e)}`);
      }
      if (a.error !== null) {
        errors++;
        expect(a.error).toBeInstanceOf(CaptureFormatError);
        expect(a.error.message).toMatch(/byte offset \d+/);
      }
      for (const rec of a.records) expect(rec.packets.orig + rec.packets.resp).toBeGreaterThan(0);
    }
    expect(errors).toBeGreaterThan(1000); // the mutations do damage
    expect(Date.now() - started).toBeLessThan(120_000);
  }, 180_000);
});

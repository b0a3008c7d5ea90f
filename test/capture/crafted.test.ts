/** Crafted fixtures: byte-identical to what craft.ts makes, and analysed as intended. */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { CRAFTED } from './fixtures.js';
import { analyze } from './helpers.js';

const dir = fileURLToPath(new URL('../fixtures/pcap/', import.meta.url));

describe('crafted fixtures', () => {
  for (const [name, make] of Object.entries(CRAFTED)) {
    it(`${name} is what craft.ts makes`, () => {
      const bytes = make();
      if (process.env['UPDATE_FIXTURES'] === '1' || !existsSync(dir + name)) writeFileSync(dir + name, bytes);
      expect(Buffer.compare(readFileSync(dir + name), Buffer.from(bytes))).toBe(0);
    });
  }

  it('simultaneous open and close: both endpoints pass through SYN_RECEIVED and CLOSING to TIME_WAIT', () => {
    const { records } = analyze(readFileSync(dir + 'crafted-simultaneous.pcap'));
    expect(records).toHaveLength(1);
    const r = records[0];
    expect(r?.states).toEqual({ orig: 'TIME_WAIT', resp: 'TIME_WAIT' });
    for (const side of ['orig', 'resp'] as const) {
      const path = (r?.timeline ?? []).filter((t) => t.side === side).map((t) => t.to);
      expect(path).toEqual(['SYN_SENT', 'SYN_RECEIVED', 'ESTABLISHED', 'FIN_WAIT_1', 'CLOSING', 'TIME_WAIT']);
    }
    expect(r?.anomalies).toMatchObject({ simultaneousOpen: true, simultaneousClose: true });
  });

  it('corner cases: QinQ, raw, SLL2 and NULL interfaces in two sections; noise counted', () => {
    const { records, counters, error } = analyze(readFileSync(dir + 'crafted-corners.pcapng'));
    expect(error).toBeNull();
    expect(counters).toMatchObject({ nonTcp: 1, fragments: 1, truncated: 1 });
    expect(records).toHaveLength(2);
    const [v4, v6] = records;
    expect(v4?.states).toEqual({ orig: 'CLOSED', resp: 'CLOSED' });
    expect(v4?.anomalies.resp.zeroWindow).toBe(1);
    expect(v4?.anomalies.resets).toEqual([expect.objectContaining({ by: 'resp', state: 'ESTABLISHED' })]);
    expect(v4?.zeek.connState).toBe('RSTR');
    expect(v6?.family).toBe('ipv6');
    expect(v6?.bytes.orig).toBe(1000);
    expect(v6?.anomalies.truncatedPackets).toBe(1);
    expect(v6?.start).toBeCloseTo(1_700_000_005.001, 3);
  });
});

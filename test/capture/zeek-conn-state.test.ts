/**
 * Zeek's conn_state is looked up per pair of endpoint states (src/capture/zeek.ts): the
 * same answer as the rules written out (Zeek's Conn::ConnState as we read it, below) for
 * every pair, with and without data, with every kind of history that matters.
 */
import { describe, expect, it } from 'vitest';
import {
  ZEEK_CLOSED, ZEEK_CONN_STATES, ZEEK_ESTABLISHED, ZEEK_INACTIVE, ZEEK_PARTIAL, ZEEK_RESET, ZEEK_SYN_ACK_SENT, ZEEK_SYN_SENT, ZeekConn,
} from '../../src/capture/zeek.js';

/** The rules, written out as before the table: states, sizes and history in, conn_state out. */
function expected(os: number, rs: number, origSize: number, respSize: number, history: string): string {
  const oInactive = os === ZEEK_INACTIVE || os === ZEEK_PARTIAL;
  const rInactive = rs === ZEEK_INACTIVE || rs === ZEEK_PARTIAL;
  if (rs === ZEEK_RESET) {
    if (os === ZEEK_SYN_SENT || os === ZEEK_SYN_ACK_SENT || (os === ZEEK_RESET && origSize === 0 && respSize === 0)) return 'REJ';
    return oInactive ? 'RSTRH' : 'RSTR';
  }
  if (os === ZEEK_RESET) {
    if (rInactive) return /^\^?S[^HAFGIQ]*R/.test(history) ? 'RSTOS0' : 'OTH';
    return 'RSTO';
  }
  if (rs === ZEEK_CLOSED && os === ZEEK_CLOSED) return 'SF';
  if (os === ZEEK_CLOSED) return rInactive ? 'SH' : 'S2';
  if (rs === ZEEK_CLOSED) return oInactive ? 'SHR' : 'S3';
  if (os === ZEEK_SYN_SENT && rs === ZEEK_INACTIVE) return 'S0';
  if (os === ZEEK_ESTABLISHED && rs === ZEEK_ESTABLISHED) return 'S1';
  return 'OTH';
}

/** A ZeekConn in states `os`, `rs`, with `origSize` and `respSize` payload octets and the history `letters`. */
function conn(os: number, rs: number, origSize: number, respSize: number, letters: string): ZeekConn {
  const z = new ZeekConn(false);
  for (const [e, size] of [[z.orig, origSize], [z.resp, respSize]] as const) {
    e.seqInit = true;
    e.startSeq = 1000;
    e.dataEnd = 1001 + size;
  }
  z.orig.state = os;
  z.resp.state = rs;
  for (let i = 0; i < letters.length; i++) z.historyBytes[i] = letters.charCodeAt(i);
  z.historyLength = letters.length;
  return z;
}

describe('Zeek conn_state', () => {
  it('is what the rules say for every pair of states, sizes and history', () => {
    const states = [ZEEK_INACTIVE, ZEEK_SYN_SENT, ZEEK_SYN_ACK_SENT, ZEEK_PARTIAL, ZEEK_ESTABLISHED, ZEEK_CLOSED, ZEEK_RESET];
    const seen = new Set<string>();
    let cases = 0;
    for (const os of states) {
      for (const rs of states) {
        for (const [origSize, respSize] of [[0, 0], [10, 0], [0, 10]] as const) {
          for (const history of ['SR', '^SR', 'ShR', 'SaR', 'Sr', 'D', '']) {
            const z = conn(os, rs, origSize, respSize, history);
            expect([z.orig.size(), z.resp.size(), z.history]).toEqual([origSize, respSize, history]);
            const want = expected(os, rs, origSize, respSize, history);
            expect(z.connState(), `orig ${os}, resp ${rs}, sizes ${origSize}/${respSize}, history ${history}`).toBe(want);
            seen.add(want);
            cases++;
          }
        }
      }
    }
    expect(cases).toBe(7 * 7 * 3 * 7);
    // Every conn_state comes up, the two that look past the states included.
    expect([...seen].sort()).toEqual([...ZEEK_CONN_STATES].sort());
  });
});

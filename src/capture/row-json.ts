/**
 * NDJSON lines from record rows (./record-row.ts): what `recordToJson(record) + '\n'`
 * gives for each record, written straight into a byte buffer. A record with a side in
 * TIME_WAIT waits until a sweep's capture time passes its deadline or the capture ends
 * (./record-states.ts), so the states printed are those at that time.
 */
import { TCP_STATES } from '../core/states.js';
import { asciiBytes, type AsciiText, type ByteSink } from './bytes-out.js';
import {
  R_BYTES, R_COMPLETENESS, R_CONN_STATE, R_DURATION, R_FAMILY, R_FLAGS, R_HISTORY_AT, R_HISTORY_LENGTH, R_ID, R_INFERRED, R_IP, R_KIND, R_O0,
  R_OPORT, R_ORIG_DEADLINE, R_ORIG_SIDE, R_ORIG_STATE, R_PACKETS, R_R0, R_RESETS, R_RESETS_AT, R_RESP_DEADLINE, R_RESP_SIDE, R_RESP_STATE, R_RPORT,
  R_RTT, R_START, R_TRUNCATED, R_WIRE, R_ZEEK_DURATION, R_ZEEK_ORIG_BYTES, R_ZEEK_RESP_BYTES, ROW, ROW_END, ROW_RECORD, ROW_SWEEP, type RowBatch,
} from './record-row.js';
import { WaitingLines } from './record-states.js';
import { ZEEK_CONN_STATES } from './zeek.js';

/** Constant fragments of the record's JSON text, as bytes. */
const J_ID = asciiBytes('{"id":');
const J_DURATION = asciiBytes(',"duration":');
const J_ORIG_ADDRESS = asciiBytes(',"originator":{"address":"');
const J_PORT = asciiBytes('","port":');
const J_RESP_ADDRESS = asciiBytes('},"responder":{"address":"');
const J_RESP = asciiBytes(',"resp":');
const J_BYTES = asciiBytes('},"bytes":{"orig":');
const J_WIRE_BYTES = asciiBytes('},"wireBytes":{"orig":');
const J_IP_BYTES = asciiBytes('},"ipBytes":{"orig":');
const J_STATES = asciiBytes('},"states":');
const J_ZEEK = asciiBytes(',"zeek":{"connState":"');
const J_ORIG_BYTES = asciiBytes('","origBytes":');
const J_RESP_BYTES = asciiBytes(',"respBytes":');
const J_COMPLETENESS = asciiBytes('},"completeness":');
const J_RESETS = asciiBytes(',"anomalies":{"resets":[');
const J_QUOTE_BRACE = asciiBytes('"}');
const J_SIDE_ORIG = asciiBytes('],"orig":');
const J_RTT = asciiBytes(',"handshakeRttMs":');
const J_RTT_NULL = asciiBytes(',"handshakeRttMs":null');
/** The record's last two braces and the line's end. */
const J_END = asciiBytes('}}\n');
const J_INFERRED_PACKETS = asciiBytes('},"originatorInferred":true,"packets":{"orig":');
const J_OBSERVED_PACKETS = asciiBytes('},"originatorInferred":false,"packets":{"orig":');
const J_NEXT_AT = asciiBytes(',{"at":');
const J_FIRST_AT = asciiBytes('{"at":');
const J_FAMILY4 = asciiBytes(',"family":"ipv4","start":');
const J_FAMILY6 = asciiBytes(',"family":"ipv6","start":');
const J_BY_ORIG = asciiBytes(',"by":"orig","state":"');
const J_BY_RESP = asciiBytes(',"by":"resp","state":"');

const SIDE_KEYS = ['synRetransmissions', 'finRetransmissions', 'retransmissions', 'outOfOrder', 'keepAlives', 'zeroWindow', 'missedBytes', 'dataAfterFin'] as const;
/** Per mask of the side counters that are not 0: the constant text around them, zeros written in. */
const SIDE_PIECES: (AsciiText[] | undefined)[] = new Array<AsciiText[] | undefined>(256);

/*
 * The texts below are made when first needed, each by a function of its own: called
 * rarely, V8 does not compile it into the formatter, whose compiled code then makes no
 * objects. (Objects made at a literal inside it, and kept, lead V8 to make later ones
 * in the old generation, and to throw away the compiled code that makes them.)
 */

function sidePieces(mask: number): AsciiText[] {
  return SIDE_PIECES[mask] ?? newSidePieces(mask);
}

function newSidePieces(mask: number): AsciiText[] {
  const p: AsciiText[] = [];
  let text = '{';
  for (let i = 0; i < SIDE_KEYS.length; i++) {
    text += `${i > 0 ? ',' : ''}"${SIDE_KEYS[i] as string}":`;
    if (mask & (1 << i)) {
      p.push(asciiBytes(text));
      text = '';
    } else {
      text += '0';
    }
  }
  p.push(asciiBytes(`${text}}`));
  SIDE_PIECES[mask] = p;
  return p;
}

/** Which of a side's eight counters at `at` are not 0, as bits. */
function sideMask(r: Float64Array, at: number): number {
  let mask = 0;
  for (let i = 0; i < 8; i++) if (r[at + i] !== 0) mask |= 1 << i;
  return mask;
}

/** A side's anomalies object from its eight counters at `at` (`mask`: those not 0): one call per counter that is not 0, and one more. */
function side(out: ByteSink, r: Float64Array, at: number, mask: number): void {
  const p = sidePieces(mask);
  let j = 0;
  for (let i = 0; i < 8; i++) if (mask & (1 << i)) out.field(p[j++] as AsciiText, r[at + i] as number);
  out.lit(p[j] as AsciiText);
}

/** Per combination of the five connection flags: their text, up to `"truncatedPackets":`. */
const FLAG_TEXT: (AsciiText | undefined)[] = new Array<AsciiText | undefined>(32);

function flagText(bits: number): AsciiText {
  return FLAG_TEXT[bits] ?? newFlagText(bits);
}

function newFlagText(bits: number): AsciiText {
  const t = asciiBytes(flagString(bits));
  FLAG_TEXT[bits] = t;
  return t;
}

function flagString(bits: number): string {
  const on = (i: number): boolean => (bits & (1 << i)) !== 0;
  return `,"unansweredSyn":${on(0)},"simultaneousOpen":${on(1)},"simultaneousClose":${on(2)},"halfClose":${on(3)},"midStream":${on(4)},"truncatedPackets":`;
}

/**
 * Most records have no reset and every anomaly counter at 0: for them, the anomalies up to
 * `"truncatedPackets":` are one piece of text per combination of the five flags (one copy
 * instead of seven pieces).
 */
const QUIET_ANOMALIES: (AsciiText | undefined)[] = new Array<AsciiText | undefined>(32);

function quietAnomalies(bits: number): AsciiText {
  return QUIET_ANOMALIES[bits] ?? newQuietAnomalies(bits);
}

function newQuietAnomalies(bits: number): AsciiText {
  const zeros = `{${SIDE_KEYS.map((k) => `"${k}":0`).join(',')}}`;
  const t = asciiBytes(`,"anomalies":{"resets":[],"orig":${zeros},"resp":${zeros}${flagString(bits)}`);
  QUIET_ANOMALIES[bits] = t;
  return t;
}

/** Per conn_state: its text and what follows up to the history, `SF","history":"`. */
const CONN_STATE_TEXT: (AsciiText | undefined)[] = new Array<AsciiText | undefined>(ZEEK_CONN_STATES.length);

function connStateText(code: number): AsciiText {
  return CONN_STATE_TEXT[code] ?? newConnStateText(code);
}

function newConnStateText(code: number): AsciiText {
  const t = asciiBytes(`${ZEEK_CONN_STATES[code] as string}","history":"`);
  CONN_STATE_TEXT[code] = t;
  return t;
}

/**
 * Per pair of state codes (orig × 16 + resp), a record that does not wait for a TIME_WAIT:
 * `},"states":{…},"zeek":{"connState":"` in one piece. (A waiting line has its states
 * written on their own: they may be written again when it goes.)
 */
const STATES_ZEEK_TEXT: (AsciiText | undefined)[] = new Array<AsciiText | undefined>(256);

function statesZeekText(o: number, r: number): AsciiText {
  return STATES_ZEEK_TEXT[o * 16 + r] ?? newStatesZeekText(o, r);
}

function newStatesZeekText(o: number, r: number): AsciiText {
  const t = asciiBytes(`},"states":{"orig":"${TCP_STATES[o] as string}","resp":"${TCP_STATES[r] as string}"},"zeek":{"connState":"`);
  STATES_ZEEK_TEXT[o * 16 + r] = t;
  return t;
}

/** The record's text up to its IP octets (before `},"states":`). */
function writeHead(out: ByteSink, r: Float64Array, at: number): void {
  out.ensure(1024);
  out.field(J_ID, r[at + R_ID] as number);
  const v6 = r[at + R_FAMILY] === 6;
  out.field(v6 ? J_FAMILY6 : J_FAMILY4, r[at + R_START] as number);
  out.field(J_DURATION, r[at + R_DURATION] as number);
  out.lit(J_ORIG_ADDRESS);
  out.address(r[at + R_O0] as number, r[at + R_O0 + 1] as number, r[at + R_O0 + 2] as number, r[at + R_O0 + 3] as number, v6 ? 'ipv6' : 'ipv4');
  out.field(J_PORT, r[at + R_OPORT] as number);
  out.lit(J_RESP_ADDRESS);
  out.address(r[at + R_R0] as number, r[at + R_R0 + 1] as number, r[at + R_R0 + 2] as number, r[at + R_R0 + 3] as number, v6 ? 'ipv6' : 'ipv4');
  out.field(J_PORT, r[at + R_RPORT] as number);
  out.field(r[at + R_INFERRED] === 1 ? J_INFERRED_PACKETS : J_OBSERVED_PACKETS, r[at + R_PACKETS] as number);
  out.field(J_RESP, r[at + R_PACKETS + 1] as number);
  out.field(J_BYTES, r[at + R_BYTES] as number);
  out.field(J_RESP, r[at + R_BYTES + 1] as number);
  out.field(J_WIRE_BYTES, r[at + R_WIRE] as number);
  out.field(J_RESP, r[at + R_WIRE + 1] as number);
  out.field(J_IP_BYTES, r[at + R_IP] as number);
  out.field(J_RESP, r[at + R_IP + 1] as number);
}

/** The record's text from its conn_state (after `,"zeek":{"connState":"`) to the end of its line. */
function writeTail(out: ByteSink, b: RowBatch, at: number): void {
  const r = b.rows;
  const historyLength = r[at + R_HISTORY_LENGTH] as number;
  out.ensure(1536 + historyLength);
  out.lit(connStateText(r[at + R_CONN_STATE] as number));
  out.octets(b.letters, r[at + R_HISTORY_AT] as number, historyLength);
  out.field(J_ORIG_BYTES, r[at + R_ZEEK_ORIG_BYTES] as number);
  out.field(J_RESP_BYTES, r[at + R_ZEEK_RESP_BYTES] as number);
  out.field(J_DURATION, r[at + R_ZEEK_DURATION] as number);
  out.field(J_COMPLETENESS, r[at + R_COMPLETENESS] as number);
  const resets = r[at + R_RESETS] as number;
  const origMask = sideMask(r, at + R_ORIG_SIDE);
  const respMask = sideMask(r, at + R_RESP_SIDE);
  if (resets === 0 && origMask === 0 && respMask === 0) {
    // The common case: no reset, every counter 0. One piece of text up to the truncated packets.
    out.field(quietAnomalies(r[at + R_FLAGS] as number), r[at + R_TRUNCATED] as number);
  } else {
    out.lit(J_RESETS);
    const x = b.resets;
    for (let i = 0, o = r[at + R_RESETS_AT] as number; i < resets; i++, o += 3) {
      out.ensure(128);
      out.field(i > 0 ? J_NEXT_AT : J_FIRST_AT, x[o] as number);
      out.lit(x[o + 1] === 1 ? J_BY_RESP : J_BY_ORIG);
      out.ascii(TCP_STATES[x[o + 2] as number] as string);
      out.lit(J_QUOTE_BRACE);
    }
    out.ensure(1024);
    out.lit(J_SIDE_ORIG);
    side(out, r, at + R_ORIG_SIDE, origMask);
    out.lit(J_RESP);
    side(out, r, at + R_RESP_SIDE, respMask);
    out.field(flagText(r[at + R_FLAGS] as number), r[at + R_TRUNCATED] as number);
  }
  const rtt = r[at + R_RTT] as number;
  if (rtt >= 0) out.field(J_RTT, rtt);
  else out.lit(J_RTT_NULL);
  out.lit(J_END);
}

/** Turns rows into lines on `out`, in row order; records with a side in TIME_WAIT wait. */
export class RowFormatter {
  private readonly out: ByteSink;
  private readonly waiting: WaitingLines;

  constructor(out: ByteSink) {
    this.out = out;
    this.waiting = new WaitingLines(out);
  }

  /** Formats every row of the batch. */
  consume(b: RowBatch): void {
    for (let at = 0; at < b.used; at += ROW) this.row(b, at);
  }

  /** Formats the row at `at`: a record's line (or its wait), or a sweep's or the end's release. */
  row(b: RowBatch, at: number): void {
    const kind = b.rows[at + R_KIND];
    if (kind === ROW_RECORD) this.record(b, at);
    else if (kind === ROW_SWEEP) this.waiting.release(b.rows[at + R_START] as number, false);
    else if (kind === ROW_END) this.waiting.release(b.rows[at + R_START] as number, true);
  }

  private record(b: RowBatch, at: number): void {
    const r = b.rows;
    const o = r[at + R_ORIG_DEADLINE] as number;
    const d = r[at + R_RESP_DEADLINE] as number;
    const os = r[at + R_ORIG_STATE] as number;
    const rs = r[at + R_RESP_STATE] as number;
    const out = this.out;
    if (o < 0 && d < 0) {
      writeHead(out, r, at);
      out.lit(statesZeekText(os, rs));
      writeTail(out, b, at);
      return;
    }
    const w = this.waiting;
    const q = w.begin();
    writeHead(q, r, at);
    q.lit(J_STATES);
    w.writeStates(os, rs, o, d);
    q.lit(J_ZEEK);
    writeTail(q, b, at);
    w.commit();
  }
}

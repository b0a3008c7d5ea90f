/**
 * The `"states"` member of a capture record's NDJSON line, and the line of a record that
 * waited for its TIME_WAIT to end: a side whose TIME_WAIT deadline passed by the time the
 * record goes out is CLOSED there, as the capture clock says. Shared by the
 * single-threaded analyzer and the assembler of shard output.
 */
import type { TcpState } from '../core/states.js';
import { asciiBytes, type ByteSink } from './bytes-out.js';

const STATE_BY_CODE: readonly TcpState[] = [
  'CLOSED', 'LISTEN', 'SYN_SENT', 'SYN_RECEIVED', 'ESTABLISHED', 'FIN_WAIT_1', 'FIN_WAIT_2', 'CLOSE_WAIT', 'CLOSING', 'LAST_ACK', 'TIME_WAIT',
];

/** A state as a small number (what fits in 4 bits of an event row). */
export function stateCode(s: TcpState): number {
  return STATE_BY_CODE.indexOf(s);
}

export function stateOfCode(code: number): TcpState {
  return STATE_BY_CODE[code] as TcpState;
}

const STATES_ORIG = asciiBytes('{"orig":"');
const STATES_RESP = asciiBytes('","resp":"');
const STATES_END = asciiBytes('"}');
export const NEWLINE = asciiBytes('\n');

export function writeStates(out: ByteSink, o: TcpState, r: TcpState): void {
  out.lit(STATES_ORIG);
  out.ascii(o);
  out.lit(STATES_RESP);
  out.ascii(r);
  out.lit(STATES_END);
}

/**
 * A record's line from its text in two parts (`text[start, headEnd)` before the states,
 * `[headEnd, end)` after), its states at finishing (`codes`: orig × 16 + resp) and the
 * sides' TIME_WAIT deadlines (-1: none), released at capture time `now`.
 */
export function writeWaitingLine(out: ByteSink, text: Uint8Array, start: number, headEnd: number, end: number, o: number, r: number, codes: number, now: number): void {
  const os = o >= 0 && o <= now ? 'CLOSED' : stateOfCode(codes >> 4);
  const rs = r >= 0 && r <= now ? 'CLOSED' : stateOfCode(codes & 15);
  out.copy(text, start, headEnd);
  out.ensure(64);
  writeStates(out, os, rs);
  out.copy(text, headEnd, end);
  out.ensure(1);
  out.lit(NEWLINE);
}

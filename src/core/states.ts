/**
 * The one state vocabulary (RFC 9293 §3.3.2 "The TCP connection states").
 *
 * Canonical ids are used everywhere (JSON, API, metric labels in lower case). Each state
 * maps to its RFC display text, the Linux number from include/net/tcp_states.h, the
 * spellings `ss` and `netstat` print, and the aliases accepted as input.
 */
import { UnknownStateError } from './errors.js';

/** The 11 states in the order of the RFC's diagram (open, then close). */
export const TCP_STATES = [
  'CLOSED',
  'LISTEN',
  'SYN_SENT',
  'SYN_RECEIVED',
  'ESTABLISHED',
  'FIN_WAIT_1',
  'FIN_WAIT_2',
  'CLOSE_WAIT',
  'CLOSING',
  'LAST_ACK',
  'TIME_WAIT',
] as const;

export type TcpState = (typeof TCP_STATES)[number];

export interface StateInfo {
  readonly id: TcpState;
  /** The RFC's spelling, e.g. `SYN-RECEIVED`. */
  readonly display: string;
  /** The number Linux uses in /proc/net/tcp, inet_diag and tracepoints. */
  readonly linux: number;
  /** What `ss` prints in its State column. */
  readonly ss: string;
  /** What `netstat -nat` prints. */
  readonly netstat: string;
  /** Synchronized states (RFC 9293 §3.10.7.4): the handshake has completed in both directions. */
  readonly synchronized: boolean;
}

export const STATE_INFO: { readonly [S in TcpState]: StateInfo } = {
  CLOSED: { id: 'CLOSED', display: 'CLOSED', linux: 7, ss: 'UNCONN', netstat: 'CLOSE', synchronized: false },
  LISTEN: { id: 'LISTEN', display: 'LISTEN', linux: 10, ss: 'LISTEN', netstat: 'LISTEN', synchronized: false },
  SYN_SENT: { id: 'SYN_SENT', display: 'SYN-SENT', linux: 2, ss: 'SYN-SENT', netstat: 'SYN_SENT', synchronized: false },
  SYN_RECEIVED: {
    id: 'SYN_RECEIVED',
    display: 'SYN-RECEIVED',
    linux: 3,
    ss: 'SYN-RECV',
    netstat: 'SYN_RECV',
    synchronized: false,
  },
  ESTABLISHED: {
    id: 'ESTABLISHED',
    display: 'ESTABLISHED',
    linux: 1,
    ss: 'ESTAB',
    netstat: 'ESTABLISHED',
    synchronized: true,
  },
  FIN_WAIT_1: {
    id: 'FIN_WAIT_1',
    display: 'FIN-WAIT-1',
    linux: 4,
    ss: 'FIN-WAIT-1',
    netstat: 'FIN_WAIT1',
    synchronized: true,
  },
  FIN_WAIT_2: {
    id: 'FIN_WAIT_2',
    display: 'FIN-WAIT-2',
    linux: 5,
    ss: 'FIN-WAIT-2',
    netstat: 'FIN_WAIT2',
    synchronized: true,
  },
  CLOSE_WAIT: {
    id: 'CLOSE_WAIT',
    display: 'CLOSE-WAIT',
    linux: 8,
    ss: 'CLOSE-WAIT',
    netstat: 'CLOSE_WAIT',
    synchronized: true,
  },
  CLOSING: { id: 'CLOSING', display: 'CLOSING', linux: 11, ss: 'CLOSING', netstat: 'CLOSING', synchronized: true },
  LAST_ACK: { id: 'LAST_ACK', display: 'LAST-ACK', linux: 9, ss: 'LAST-ACK', netstat: 'LAST_ACK', synchronized: true },
  TIME_WAIT: {
    id: 'TIME_WAIT',
    display: 'TIME-WAIT',
    linux: 6,
    ss: 'TIME-WAIT',
    netstat: 'TIME_WAIT',
    synchronized: true,
  },
};

/**
 * Linux-only states beyond the RFC's 11 (include/net/tcp_states.h):
 * TCP_NEW_SYN_RECV = 12 is a request socket (mini-socket) of a listener, reported by ss
 * as SYN-RECV; TCP_BOUND_INACTIVE = 13 is a bound socket that never listened or connected,
 * shown as CLOSED.
 */
export const LINUX_NEW_SYN_RECV = 12;
export const LINUX_BOUND_INACTIVE = 13;

const BY_LINUX_NUMBER: ReadonlyMap<number, TcpState> = new Map<number, TcpState>([
  ...TCP_STATES.map((s) => [STATE_INFO[s].linux, s] as const),
  [LINUX_NEW_SYN_RECV, 'SYN_RECEIVED'],
  [LINUX_BOUND_INACTIVE, 'CLOSED'],
]);

/** Maps a Linux state number (1..13) to a canonical id, or undefined if unknown. */
export function stateFromLinux(n: number): TcpState | undefined {
  return BY_LINUX_NUMBER.get(n);
}

/** Lower case, every run of `-`, `_`, space removed: `Fin-Wait_1` → `finwait1`. */
function normalise(input: string): string {
  return input.trim().toLowerCase().replace(/[-_\s]+/g, '');
}

/** Extra input spellings beyond ids, displays, ss and netstat names. */
const EXTRA_ALIASES: ReadonlyArray<readonly [string, TcpState]> = [
  ['estab', 'ESTABLISHED'],
  ['est', 'ESTABLISHED'],
  ['synrecv', 'SYN_RECEIVED'],
  ['synrcvd', 'SYN_RECEIVED'],
  ['newsynrecv', 'SYN_RECEIVED'],
  ['close', 'CLOSED'],
  ['unconn', 'CLOSED'],
  ['boundinactive', 'CLOSED'],
  ['listening', 'LISTEN'],
  ['timewait', 'TIME_WAIT'],
  ['tw', 'TIME_WAIT'],
  ['cw', 'CLOSE_WAIT'],
];

const BY_ALIAS: ReadonlyMap<string, TcpState> = (() => {
  const m = new Map<string, TcpState>();
  for (const s of TCP_STATES) {
    const info = STATE_INFO[s];
    for (const spelling of [info.id, info.display, info.ss, info.netstat]) m.set(normalise(spelling), s);
  }
  for (const [alias, s] of EXTRA_ALIASES) m.set(alias, s);
  return m;
})();

/** Every spelling `parseState` accepts, normalised (for help texts and completion). */
export function stateAliases(): readonly string[] {
  return [...BY_ALIAS.keys()].sort();
}

/** Returns the canonical id for any accepted spelling, or undefined. */
export function tryParseState(input: string): TcpState | undefined {
  return BY_ALIAS.get(normalise(input));
}

/** Returns the canonical id for any accepted spelling; throws UnknownStateError otherwise. */
export function parseState(input: string): TcpState {
  const s = tryParseState(input);
  if (s === undefined) throw new UnknownStateError(input, TCP_STATES);
  return s;
}

export function isTcpState(value: unknown): value is TcpState {
  return typeof value === 'string' && (TCP_STATES as readonly string[]).includes(value);
}

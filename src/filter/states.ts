/**
 * State names and groups of ss's `state` / `exclude` clauses (iproute2 misc/ss.c,
 * scan_state) as Linux state bitmasks (bit n = Linux state number n, as in
 * `DumpQuery.stateMask` and inet_diag's idiag_states).
 *
 * Linux numbers (include/net/tcp_states.h): ESTABLISHED 1, SYN_SENT 2, SYN_RECV 3,
 * FIN_WAIT1 4, FIN_WAIT2 5, TIME_WAIT 6, CLOSE 7, CLOSE_WAIT 8, LAST_ACK 9, LISTEN 10,
 * CLOSING 11, NEW_SYN_RECV 12 (a request socket, shown as SYN-RECV), BOUND_INACTIVE 13.
 *
 * Wherever SYN_RECV (3) is named we also name NEW_SYN_RECV (12), in `state` *and*
 * `exclude`: every socket ss shows as SYN-RECV is a request socket (12) unless TCP Fast
 * Open made a full one (3). ss sends only bit 3 and the kernel adds 12
 * (inet_diag_dump_icsk); the oracle test checks that `exclude syn-recv`, `state big` and
 * `state bucket` select request sockets the way ss does.
 */
import { ALL_STATES_MASK } from '../records/socket.js';
import { LINUX_BOUND_INACTIVE, LINUX_NEW_SYN_RECV, tryParseState, STATE_INFO } from '../core/states.js';

export const LINUX_STATE = {
  ESTABLISHED: 1,
  SYN_SENT: 2,
  SYN_RECV: 3,
  FIN_WAIT1: 4,
  FIN_WAIT2: 5,
  TIME_WAIT: 6,
  CLOSE: 7,
  CLOSE_WAIT: 8,
  LAST_ACK: 9,
  LISTEN: 10,
  CLOSING: 11,
  NEW_SYN_RECV: LINUX_NEW_SYN_RECV,
  BOUND_INACTIVE: LINUX_BOUND_INACTIVE,
} as const;

const bit = (n: number): number => 1 << n;

/** SYN_RECV and NEW_SYN_RECV together: every socket ss shows as SYN-RECV. */
export const SYN_RECV_MASK = bit(LINUX_STATE.SYN_RECV) | bit(LINUX_STATE.NEW_SYN_RECV);

/** `all`: Linux states 1..12 (BOUND_INACTIVE only when asked by name, as ss 6.1 does). */
export const ALL_MASK = ALL_STATES_MASK;
/** `connected`: all but LISTEN and CLOSE. */
export const CONNECTED_MASK = ALL_MASK & ~(bit(LINUX_STATE.LISTEN) | bit(LINUX_STATE.CLOSE));
/** `synchronized`: connected but SYN-SENT (SYN-RECV stays in, as in ss). */
export const SYNCHRONIZED_MASK = CONNECTED_MASK & ~bit(LINUX_STATE.SYN_SENT);
/** `bucket`: the minisockets, SYN-RECV (request sockets) and TIME-WAIT. */
export const BUCKET_MASK = SYN_RECV_MASK | bit(LINUX_STATE.TIME_WAIT);
/** `big`: all but the minisockets (request sockets excluded, as ss shows it). */
export const BIG_MASK = ALL_MASK & ~BUCKET_MASK;
/**
 * What ss shows when given no state clause and no `-a`/`-l` (SS_CONN): all but LISTEN,
 * CLOSE, TIME-WAIT and SYN-RECV. Callers that mimic plain `ss` pass it as the default.
 */
export const SS_DEFAULT_MASK =
  ALL_MASK & ~(bit(LINUX_STATE.LISTEN) | bit(LINUX_STATE.CLOSE) | bit(LINUX_STATE.TIME_WAIT) | SYN_RECV_MASK);

/** The groups ss knows, by name. */
export const STATE_GROUPS: Readonly<Record<'all' | 'connected' | 'synchronized' | 'bucket' | 'big', number>> = {
  all: ALL_MASK,
  connected: CONNECTED_MASK,
  synchronized: SYNCHRONIZED_MASK,
  bucket: BUCKET_MASK,
  big: BIG_MASK,
};

/** ss's own spellings (scan_state), compared case-insensitively. */
const SS_NAMES: ReadonlyMap<string, number> = new Map([
  ['established', bit(LINUX_STATE.ESTABLISHED)],
  ['syn-sent', bit(LINUX_STATE.SYN_SENT)],
  ['syn-recv', SYN_RECV_MASK],
  ['syn-rcv', SYN_RECV_MASK],
  ['fin-wait-1', bit(LINUX_STATE.FIN_WAIT1)],
  ['fin-wait-2', bit(LINUX_STATE.FIN_WAIT2)],
  ['time-wait', bit(LINUX_STATE.TIME_WAIT)],
  ['unconnected', bit(LINUX_STATE.CLOSE)],
  ['close', bit(LINUX_STATE.CLOSE)],
  ['closed', bit(LINUX_STATE.CLOSE)],
  ['close-wait', bit(LINUX_STATE.CLOSE_WAIT)],
  ['last-ack', bit(LINUX_STATE.LAST_ACK)],
  ['listening', bit(LINUX_STATE.LISTEN)],
  ['closing', bit(LINUX_STATE.CLOSING)],
  ['bound-inactive', bit(LINUX_STATE.BOUND_INACTIVE)],
  ...Object.entries(STATE_GROUPS),
]);

/**
 * The Linux state mask a `state`/`exclude` name stands for, or undefined. Accepts ss's
 * names and groups (case-insensitive) and, beyond ss, every spelling of the core state
 * table (`listen`, `estab`, `SYN_RECEIVED`, `fin-wait1`, ...). ss rejects `new-syn-recv`
 * (a kernel detail); so do we.
 */
export function stateNameMask(name: string): number | undefined {
  const lower = name.toLowerCase();
  const ss = SS_NAMES.get(lower);
  if (ss !== undefined) return ss;
  if (lower.replace(/[-_\s]/g, '') === 'newsynrecv') return undefined;
  const id = tryParseState(name);
  if (id === undefined) return undefined;
  if (id === 'SYN_RECEIVED') return SYN_RECV_MASK;
  return bit(STATE_INFO[id].linux);
}

/** Names for help texts and "expected ..." messages. */
export const STATE_NAMES_FOR_HELP: readonly string[] = [
  'established',
  'syn-sent',
  'syn-recv',
  'fin-wait-1',
  'fin-wait-2',
  'time-wait',
  'closed',
  'close-wait',
  'last-ack',
  'listening',
  'closing',
  'all',
  'connected',
  'synchronized',
  'bucket',
  'big',
];

/** True when Linux state number `linuxState` is in `mask`. */
export function maskHas(mask: number, linuxState: number): boolean {
  return linuxState >= 0 && linuxState < 31 && (mask & (1 << linuxState)) !== 0;
}

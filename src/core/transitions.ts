/**
 * The transition table: every edge the endpoint model can take, with the rule that
 * causes it (RFC 9293 §3.3.2 Figure 5 and §3.10 Event Processing, RFC 5961, and the
 * Linux behaviours of the `linux` profile).
 *
 * The endpoint moves between states only through `Endpoint.transition(ruleId)`, which
 * refuses an edge that is not in this table; `diagram` draws this table. So the model
 * and the diagram cannot disagree.
 */
import type { TcpState } from './states.js';

export type TriggerKind = 'call' | 'segment' | 'timer';

export interface TransitionRule {
  /** Stable id, used as the `cause` of every state change. */
  readonly id: string;
  readonly from: readonly TcpState[];
  readonly to: TcpState;
  readonly trigger: TriggerKind;
  /** What causes it, in the RFC figure's words (`rcv SYN`, `CLOSE`, `timeout=2MSL`). */
  readonly event: string;
  /** What the endpoint sends on the way, or '' (`SYN,ACK`, `FIN`, `RST`). */
  readonly sends: string;
  /** Where the rule comes from. */
  readonly source: string;
  /** Part of the classic connection diagram (RFC 9293 Figure 5); the rest are resets, aborts, timeouts. */
  readonly main: boolean;
  /** Only under this profile; absent = every profile. */
  readonly profile?: 'linux';
}

const SYNCHRONIZED_ABORTABLE: readonly TcpState[] = [
  'SYN_RECEIVED',
  'ESTABLISHED',
  'FIN_WAIT_1',
  'FIN_WAIT_2',
  'CLOSE_WAIT',
];

export const TRANSITIONS = [
  // --- opening (RFC 9293 §3.10.1 OPEN, §3.10.7.2 LISTEN, §3.10.7.3 SYN-SENT) ---
  { id: 'passive-open', from: ['CLOSED'], to: 'LISTEN', trigger: 'call', event: 'passive OPEN', sends: '', source: 'RFC 9293 §3.10.1', main: true },
  { id: 'active-open', from: ['CLOSED'], to: 'SYN_SENT', trigger: 'call', event: 'active OPEN', sends: 'SYN', source: 'RFC 9293 §3.10.1', main: true },
  { id: 'listen-send', from: ['LISTEN'], to: 'SYN_SENT', trigger: 'call', event: 'SEND / active OPEN', sends: 'SYN', source: 'RFC 9293 §3.10.1, §3.10.2', main: true },
  { id: 'rcv-syn', from: ['LISTEN'], to: 'SYN_RECEIVED', trigger: 'segment', event: 'rcv SYN', sends: 'SYN,ACK', source: 'RFC 9293 §3.10.7.2', main: true },
  { id: 'rcv-syn-ack', from: ['SYN_SENT'], to: 'ESTABLISHED', trigger: 'segment', event: 'rcv SYN,ACK', sends: 'ACK', source: 'RFC 9293 §3.10.7.3', main: true },
  { id: 'simultaneous-open', from: ['SYN_SENT'], to: 'SYN_RECEIVED', trigger: 'segment', event: 'rcv SYN', sends: 'SYN,ACK', source: 'RFC 9293 §3.10.7.3', main: true },
  { id: 'rcv-ack-of-syn', from: ['SYN_RECEIVED'], to: 'ESTABLISHED', trigger: 'segment', event: 'rcv ACK of SYN', sends: '', source: 'RFC 9293 §3.10.7.4 fifth', main: true },
  { id: 'close-listen', from: ['LISTEN'], to: 'CLOSED', trigger: 'call', event: 'CLOSE', sends: '', source: 'RFC 9293 §3.10.4', main: true },
  { id: 'close-syn-sent', from: ['SYN_SENT'], to: 'CLOSED', trigger: 'call', event: 'CLOSE', sends: '', source: 'RFC 9293 §3.10.4', main: true },
  // --- closing (RFC 9293 §3.10.4 CLOSE, §3.10.7.4 fifth and eighth) ---
  { id: 'close-syn-received', from: ['SYN_RECEIVED'], to: 'FIN_WAIT_1', trigger: 'call', event: 'CLOSE', sends: 'FIN', source: 'RFC 9293 §3.10.4', main: true },
  { id: 'close-established', from: ['ESTABLISHED'], to: 'FIN_WAIT_1', trigger: 'call', event: 'CLOSE', sends: 'FIN', source: 'RFC 9293 §3.10.4', main: true },
  // The RFC's eighth step also lists SYN-RECEIVED, but a FIN passes the fifth step only
  // with an acceptable ACK, which has already entered ESTABLISHED: the edge cannot be taken.
  { id: 'rcv-fin', from: ['ESTABLISHED'], to: 'CLOSE_WAIT', trigger: 'segment', event: 'rcv FIN', sends: 'ACK', source: 'RFC 9293 §3.10.7.4 eighth', main: true },
  { id: 'close-close-wait', from: ['CLOSE_WAIT'], to: 'LAST_ACK', trigger: 'call', event: 'CLOSE', sends: 'FIN', source: 'RFC 9293 §3.10.4', main: true },
  { id: 'rcv-ack-of-fin', from: ['FIN_WAIT_1'], to: 'FIN_WAIT_2', trigger: 'segment', event: 'rcv ACK of FIN', sends: '', source: 'RFC 9293 §3.10.7.4 fifth', main: true },
  { id: 'simultaneous-close', from: ['FIN_WAIT_1'], to: 'CLOSING', trigger: 'segment', event: 'rcv FIN', sends: 'ACK', source: 'RFC 9293 §3.10.7.4 eighth', main: true },
  { id: 'rcv-fin-ack-of-fin', from: ['FIN_WAIT_1'], to: 'TIME_WAIT', trigger: 'segment', event: 'rcv FIN,ACK of FIN', sends: 'ACK', source: 'RFC 9293 §3.10.7.4 eighth', main: true },
  { id: 'rcv-fin-fin-wait-2', from: ['FIN_WAIT_2'], to: 'TIME_WAIT', trigger: 'segment', event: 'rcv FIN', sends: 'ACK', source: 'RFC 9293 §3.10.7.4 eighth', main: true },
  { id: 'closing-ack-of-fin', from: ['CLOSING'], to: 'TIME_WAIT', trigger: 'segment', event: 'rcv ACK of FIN', sends: '', source: 'RFC 9293 §3.10.7.4 fifth', main: true },
  { id: 'last-ack-ack-of-fin', from: ['LAST_ACK'], to: 'CLOSED', trigger: 'segment', event: 'rcv ACK of FIN', sends: '', source: 'RFC 9293 §3.10.7.4 fifth', main: true },
  { id: 'time-wait-timeout', from: ['TIME_WAIT'], to: 'CLOSED', trigger: 'timer', event: 'timeout=2MSL', sends: '', source: 'RFC 9293 §3.10.8', main: true },
  // --- resets (RFC 9293 §3.10.7.3 second, §3.10.7.4 second and fourth, RFC 5961 §3) ---
  { id: 'rst-refused', from: ['SYN_SENT'], to: 'CLOSED', trigger: 'segment', event: 'rcv RST,ACK (connection refused)', sends: '', source: 'RFC 9293 §3.10.7.3 second', main: false },
  { id: 'rst-to-listen', from: ['SYN_RECEIVED'], to: 'LISTEN', trigger: 'segment', event: 'rcv RST (passive open)', sends: '', source: 'RFC 9293 §3.10.7.4 second', main: false },
  { id: 'rst-refused-syn-received', from: ['SYN_RECEIVED'], to: 'CLOSED', trigger: 'segment', event: 'rcv RST (active open)', sends: '', source: 'RFC 9293 §3.10.7.4 second', main: false },
  { id: 'rst-reset', from: ['ESTABLISHED', 'FIN_WAIT_1', 'FIN_WAIT_2', 'CLOSE_WAIT'], to: 'CLOSED', trigger: 'segment', event: 'rcv RST (connection reset)', sends: '', source: 'RFC 9293 §3.10.7.4 second', main: false },
  { id: 'rst-closing', from: ['CLOSING', 'LAST_ACK', 'TIME_WAIT'], to: 'CLOSED', trigger: 'segment', event: 'rcv RST', sends: '', source: 'RFC 9293 §3.10.7.4 second', main: false },
  { id: 'syn-to-listen', from: ['SYN_RECEIVED'], to: 'LISTEN', trigger: 'segment', event: 'rcv SYN (passive open)', sends: '', source: 'RFC 9293 §3.10.7.4 fourth', main: false },
  // --- user ABORT (RFC 9293 §3.10.5) ---
  { id: 'abort-listen', from: ['LISTEN', 'SYN_SENT'], to: 'CLOSED', trigger: 'call', event: 'ABORT', sends: '', source: 'RFC 9293 §3.10.5', main: false },
  { id: 'abort', from: SYNCHRONIZED_ABORTABLE, to: 'CLOSED', trigger: 'call', event: 'ABORT', sends: 'RST', source: 'RFC 9293 §3.10.5', main: false },
  { id: 'abort-closing', from: ['CLOSING', 'LAST_ACK', 'TIME_WAIT'], to: 'CLOSED', trigger: 'call', event: 'ABORT', sends: '', source: 'RFC 9293 §3.10.5', main: false },
  // --- timeouts (RFC 9293 §3.10.8, RFC 6298) ---
  // Not FIN-WAIT-2: nothing of ours is outstanding there, so no retransmission timer runs.
  { id: 'user-timeout', from: ['SYN_SENT', 'SYN_RECEIVED', 'ESTABLISHED', 'FIN_WAIT_1', 'CLOSE_WAIT', 'CLOSING', 'LAST_ACK'], to: 'CLOSED', trigger: 'timer', event: 'user timeout / retransmissions exhausted', sends: '', source: 'RFC 9293 §3.10.8, RFC 1122 §4.2.3.5', main: false },
  { id: 'syn-received-timeout', from: ['SYN_RECEIVED'], to: 'LISTEN', trigger: 'timer', event: 'SYN,ACK retransmissions exhausted (passive open)', sends: '', source: 'RFC 1122 §4.2.3.5; Linux drops the request socket', main: false },
  // --- Linux behaviours (net/ipv4/tcp.c tcp_close, tcp_input.c, tcp_timer.c) ---
  { id: 'fin-wait-2-timeout', from: ['FIN_WAIT_2'], to: 'CLOSED', trigger: 'timer', event: 'tcp_fin_timeout (orphan)', sends: '', source: 'Linux tcp_timer.c / tcp_minisocks.c', main: false, profile: 'linux' },
  { id: 'close-unread-data', from: ['ESTABLISHED', 'CLOSE_WAIT'], to: 'CLOSED', trigger: 'call', event: 'close() with unread data', sends: 'RST', source: 'Linux tcp.c tcp_close (RFC 2525 §2.17)', main: false, profile: 'linux' },
  { id: 'data-after-close', from: ['FIN_WAIT_1', 'FIN_WAIT_2'], to: 'CLOSED', trigger: 'segment', event: 'rcv data after close()', sends: 'RST', source: 'Linux tcp_input.c tcp_rcv_state_process', main: false, profile: 'linux' },
] as const satisfies readonly TransitionRule[];

export type TransitionId = (typeof TRANSITIONS)[number]['id'];

export const TRANSITION_BY_ID: { readonly [K in TransitionId]: TransitionRule } = Object.fromEntries(
  TRANSITIONS.map((t) => [t.id, t]),
) as { readonly [K in TransitionId]: TransitionRule };

/** True when the table has an edge `from → to` labelled `id`. */
export function isAllowedTransition(id: TransitionId, from: TcpState): boolean {
  return (TRANSITION_BY_ID[id].from as readonly TcpState[]).includes(from);
}

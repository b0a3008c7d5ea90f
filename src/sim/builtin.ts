/**
 * Built-in named scenarios: the classic exchanges of RFC 9293 and the cases worth
 * seeing once (lost final ACK, RFC 5961 resets, zero window). Each is written in the
 * scenario format and validated by the same parser as a user's file.
 */
import { parseScenario, type Scenario } from './scenario.js';

/** A 1 s head start lets the handshake finish before the interesting part. */
const HANDSHAKE = [
  { at: 0, endpoint: 'b', call: 'listen' },
  { at: 10, endpoint: 'a', call: 'connect' },
] as const;

const RAW: readonly object[] = [
  {
    name: 'handshake',
    description: 'The three-way handshake: SYN, SYN-ACK, ACK (RFC 9293 §3.5 Figure 6).',
    steps: [...HANDSHAKE],
  },
  {
    name: 'active-close',
    description: 'a sends data and closes first: a goes FIN-WAIT-1, FIN-WAIT-2, TIME-WAIT; b CLOSE-WAIT, LAST-ACK.',
    steps: [
      ...HANDSHAKE,
      { at: 100, endpoint: 'a', call: 'send', bytes: 1000 },
      { at: 200, endpoint: 'a', call: 'close' },
      { at: 300, endpoint: 'b', call: 'close' },
    ],
  },
  {
    name: 'passive-close',
    description: 'The peer closes first: b (the server here) is the passive closer, CLOSE-WAIT then LAST-ACK.',
    steps: [
      ...HANDSHAKE,
      { at: 100, endpoint: 'b', call: 'send', bytes: 2000 },
      { at: 200, endpoint: 'a', call: 'close' },
      { at: 400, endpoint: 'b', call: 'close' },
    ],
  },
  {
    name: 'simultaneous-open',
    description: 'Both sides connect at once: SYN-SENT → SYN-RECEIVED → ESTABLISHED on both (RFC 9293 Figure 7).',
    steps: [
      { at: 0, endpoint: 'a', call: 'connect' },
      { at: 0, endpoint: 'b', call: 'connect' },
      { at: 500, endpoint: 'a', call: 'close' },
      { at: 600, endpoint: 'b', call: 'close' },
    ],
  },
  {
    name: 'simultaneous-close',
    description: 'Both sides close at once: FIN-WAIT-1 → CLOSING → TIME-WAIT on both (RFC 9293 Figure 13).',
    steps: [...HANDSHAKE, { at: 200, endpoint: 'a', call: 'close' }, { at: 200, endpoint: 'b', call: 'close' }],
  },
  {
    name: 'half-close',
    description: 'a shuts down its sending side; b keeps sending data after the FIN, then closes (shutdown(SHUT_WR)).',
    steps: [
      ...HANDSHAKE,
      { at: 100, endpoint: 'a', call: 'send', bytes: 500 },
      { at: 200, endpoint: 'a', call: 'shutdown' },
      { at: 300, endpoint: 'b', call: 'send', bytes: 3000 },
      { at: 500, endpoint: 'b', call: 'send', bytes: 1000 },
      { at: 700, endpoint: 'b', call: 'close' },
    ],
  },
  {
    name: 'lost-final-ack',
    description:
      'The last ACK of the close is lost: b in LAST-ACK retransmits its FIN and a, still in TIME-WAIT, acknowledges it again — the reason TIME-WAIT exists.',
    network: { delayMs: 10 },
    steps: [
      ...HANDSHAKE,
      { at: 100, endpoint: 'a', call: 'send', bytes: 1000 },
      { at: 200, endpoint: 'a', call: 'close' },
      { at: 300, endpoint: 'b', call: 'close' },
      { drop: { from: 'a', kind: 'ack', nth: 2 } },
    ],
  },
  {
    name: 'fin-ack-to-time-wait',
    description:
      "b acknowledges a's FIN and sends its own in one segment (its pure ACK is lost here): a goes from FIN-WAIT-1 straight to TIME-WAIT.",
    steps: [
      ...HANDSHAKE,
      { at: 200, endpoint: 'a', call: 'close' },
      { at: 215, endpoint: 'b', call: 'close' },
      { drop: { from: 'b', kind: 'ack', nth: 1 } },
    ],
  },
  {
    name: 'closed-port',
    description: 'a connects to a port nobody listens on: the RFC answers the SYN with RST,ACK (connection refused).',
    steps: [{ at: 10, endpoint: 'a', call: 'connect' }],
  },
  {
    name: 'abort',
    description: 'a aborts an established connection (SO_LINGER 0): it sends RST and both sides are CLOSED at once.',
    steps: [...HANDSHAKE, { at: 100, endpoint: 'b', call: 'send', bytes: 800 }, { at: 200, endpoint: 'a', call: 'abort' }],
  },
  {
    name: 'rst-in-syn-received',
    description:
      "a's handshake ACK is lost and a RST with the exact sequence number reaches b in SYN-RECEIVED: b returns to LISTEN; a's data then meets a listener and is reset.",
    steps: [
      ...HANDSHAKE,
      { drop: { from: 'a', kind: 'ack', nth: 1 } },
      { at: 25, inject: { to: 'b', flags: 'R', seqOffset: 0 } },
      { at: 100, endpoint: 'a', call: 'send', bytes: 100 },
      { at: 300, endpoint: 'b', call: 'close' },
    ],
  },
  {
    name: 'rst-in-window',
    description:
      'RFC 5961 §3: a RST inside the window but not at RCV.NXT gets a challenge ACK and changes nothing; only the exact one resets.',
    steps: [
      ...HANDSHAKE,
      { at: 100, inject: { to: 'b', flags: 'R', seqOffset: 1000 } },
      { at: 200, inject: { to: 'b', flags: 'R', seqOffset: 0 } },
      { at: 300, endpoint: 'a', call: 'abort' },
    ],
  },
  {
    name: 'rst-out-of-window',
    description: 'A RST outside the receive window is dropped silently (RFC 5961 §3.2): the connection carries on and closes normally.',
    steps: [
      ...HANDSHAKE,
      { at: 100, inject: { to: 'b', flags: 'R', seqOffset: 100000 } },
      { at: 200, endpoint: 'a', call: 'close' },
      { at: 300, endpoint: 'b', call: 'close' },
    ],
  },
  {
    name: 'syn-in-established',
    description: 'A SYN arriving on an established connection gets a challenge ACK (RFC 5961 §4) and is otherwise ignored.',
    steps: [
      ...HANDSHAKE,
      { at: 100, inject: { to: 'b', flags: 'S', seqOffset: 0 } },
      { at: 200, endpoint: 'a', call: 'close' },
      { at: 300, endpoint: 'b', call: 'close' },
    ],
  },
  {
    name: 'zero-window',
    description:
      "b stops reading: its buffer fills, it advertises a zero window and a probes it; when b reads again the window opens and a finishes.",
    endpoints: { b: { rcvBuffer: 4000 } },
    steps: [
      ...HANDSHAKE,
      { at: 50, endpoint: 'b', call: 'read', enabled: false },
      { at: 100, endpoint: 'a', call: 'send', bytes: 10000 },
      { at: 8000, endpoint: 'b', call: 'read', enabled: true },
      { at: 9000, endpoint: 'a', call: 'close' },
      { at: 9100, endpoint: 'b', call: 'close' },
    ],
  },
  {
    name: 'lost-syn',
    description: "a's first SYN is lost: it retransmits after the initial RTO of 1 s (RFC 6298) and the handshake completes.",
    steps: [...HANDSHAKE, { drop: { from: 'a', kind: 'syn', nth: 1 } }],
  },
  {
    name: 'close-wait-leak',
    description:
      "b never closes after a's FIN: b stays in CLOSE-WAIT for good. Under --profile linux a's orphaned FIN-WAIT-2 ends after tcp_fin_timeout.",
    steps: [...HANDSHAKE, { at: 100, endpoint: 'b', call: 'send', bytes: 300 }, { at: 200, endpoint: 'a', call: 'close' }],
  },
  {
    name: 'time-wait-rst',
    description:
      'A RST with the exact sequence number arrives in TIME-WAIT and ends it early (RFC 9293 §3.10.7.4; Linux with tcp_rfc1337=0).',
    steps: [
      ...HANDSHAKE,
      { at: 100, endpoint: 'a', call: 'close' },
      { at: 200, endpoint: 'b', call: 'close' },
      { at: 1000, inject: { to: 'a', flags: 'R', seqOffset: 0 } },
    ],
  },
];

export const BUILTIN_SCENARIOS: ReadonlyMap<string, Scenario> = new Map(
  RAW.map((raw) => {
    const s = parseScenario(raw, 'built-in scenario');
    return [s.name, s] as const;
  }),
);

export function builtinScenarioNames(): readonly string[] {
  return [...BUILTIN_SCENARIOS.keys()];
}

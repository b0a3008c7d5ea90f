/**
 * The passive observer and the flow table on crafted exchanges: each test is a capture
 * of a known situation and asserts both endpoints' final states, the rules taken and the
 * anomalies reported.
 */
import { describe, expect, it } from 'vitest';
import { exchange, type Step } from './craft.js';
import { analyze, rawPcap } from './helpers.js';

const A: [string, number] = ['10.0.0.1', 40000];
const B: [string, number] = ['10.0.0.2', 80];
const I = 1000; // client ISS
const J = 5000; // server ISS

const handshake: Step[] = [
  ['>', 'S', I, 0],
  ['<', 'S.', J, I + 1],
  ['>', '.', I + 1, J + 1],
];

function run(steps: Step[], extra: { idle?: number } = {}) {
  return analyze(rawPcap(exchange(A, B, steps)), extra);
}

function rules(r: { timeline?: { side: string; rule: string }[] }, side: 'orig' | 'resp'): string[] {
  return (r.timeline ?? []).filter((t) => t.side === side).map((t) => t.rule);
}

describe('opening', () => {
  it('three-way handshake: both ESTABLISHED, the listener inferred, the RTT measured', () => {
    const [r] = run(handshake).records;
    expect(r?.states).toEqual({ orig: 'ESTABLISHED', resp: 'ESTABLISHED' });
    expect(rules(r!, 'orig')).toEqual(['active-open', 'rcv-syn-ack']);
    expect(rules(r!, 'resp')).toEqual(['passive-open', 'rcv-syn', 'rcv-ack-of-syn']);
    expect(r?.timeline?.find((t) => t.rule === 'passive-open')?.inferred).toBe(true);
    expect(r?.anomalies.handshakeRttMs).toBeCloseTo(2, 3);
    expect(r?.completeness).toBe(7);
    expect(r?.zeek).toMatchObject({ connState: 'S1', history: 'ShA' });
  });

  it('unanswered SYN with retransmissions', () => {
    const [r] = run([['>', 'S', I, 0], ['>', 'S', I, 0, 0, 1], ['>', 'S', I, 0, 0, 2]]).records;
    expect(r?.states).toEqual({ orig: 'SYN_SENT', resp: 'CLOSED' });
    expect(r?.anomalies.unansweredSyn).toBe(true);
    expect(r?.anomalies.orig.synRetransmissions).toBe(2);
    expect(r?.zeek).toMatchObject({ connState: 'S0', history: 'S' });
    expect(r?.completeness).toBe(1);
  });

  it('refused: RST,ACK to the SYN', () => {
    const [r] = run([['>', 'S', I, 0], ['<', 'R.', 0, I + 1]]).records;
    expect(r?.states).toEqual({ orig: 'CLOSED', resp: 'CLOSED' });
    expect(rules(r!, 'orig')).toEqual(['active-open', 'rst-refused']);
    expect(r?.anomalies.resets).toEqual([expect.objectContaining({ by: 'resp', state: 'CLOSED' })]);
    expect(r?.zeek).toMatchObject({ connState: 'REJ', history: 'Sr' });
    expect(r?.completeness).toBe(37);
  });

  it('simultaneous open and simultaneous close: both end in TIME_WAIT', () => {
    const steps: Step[] = [
      ['>', 'S', I, 0],
      ['<', 'S', J, 0],
      ['>', 'S.', I, J + 1],
      ['<', 'S.', J, I + 1],
      ['>', 'F.', I + 1, J + 1],
      ['<', 'F.', J + 1, I + 1],
      ['>', '.', I + 2, J + 2],
      ['<', '.', J + 2, I + 2],
    ];
    const [r] = run(steps).records;
    expect(r?.anomalies.simultaneousOpen).toBe(true);
    expect(r?.anomalies.simultaneousClose).toBe(true);
    expect(rules(r!, 'orig')).toEqual(['active-open', 'simultaneous-open', 'rcv-ack-of-syn', 'close-established', 'simultaneous-close', 'closing-ack-of-fin']);
    expect(r?.states).toEqual({ orig: 'TIME_WAIT', resp: 'TIME_WAIT' });
  });

  it('a capture that starts with the SYN,ACK infers the SYN', () => {
    const [r] = run([['<', 'S.', J, I + 1], ['>', '.', I + 1, J + 1]]).records;
    expect(r?.anomalies.midStream).toBe(true);
    expect(r?.originatorInferred).toBe(true);
    expect(r?.originator.port).toBe(40000); // Zeek's guess: 80 is the server's port
    expect(r?.zeek.history.startsWith('^')).toBe(true);
    expect(r?.states).toEqual({ orig: 'ESTABLISHED', resp: 'ESTABLISHED' });
  });
});

describe('closing', () => {
  const data: Step[] = [...handshake, ['>', 'P.', I + 1, J + 1, 100], ['<', '.', J + 1, I + 101]];
  it('active close by the client: client TIME_WAIT, server CLOSED', () => {
    const [r] = run([...data, ['>', 'F.', I + 101, J + 1], ['<', 'F.', J + 1, I + 102], ['>', '.', I + 102, J + 2]]).records;
    expect(r?.states).toEqual({ orig: 'TIME_WAIT', resp: 'CLOSED' });
    expect(rules(r!, 'orig').slice(2)).toEqual(['close-established', 'rcv-fin-ack-of-fin']);
    expect(rules(r!, 'resp').slice(3)).toEqual(['rcv-fin', 'close-close-wait', 'last-ack-ack-of-fin']);
    expect(r?.zeek).toMatchObject({ connState: 'SF', history: 'ShADaFf' });
  });

  it('TIME_WAIT ends with capture time only: 60 s later (linux profile) it is CLOSED', () => {
    const close: Step[] = [...data, ['>', 'F.', I + 101, J + 1], ['<', 'F.', J + 1, I + 102], ['>', '.', I + 102, J + 2]];
    const other: Step = ['>', 'S', 77, 0, 0, 61, { sport: 40001 } as never];
    const pk = exchange(A, B, [...close, other]);
    const last = pk[pk.length - 1];
    if (last !== undefined) last.bytes[20 + 1] = 0x41; // other source port: 40001
    const { records } = analyze(rawPcap(pk));
    expect(records[0]?.states.orig).toBe('CLOSED');
    expect(records[0]?.timeline?.at(-1)).toMatchObject({ rule: 'time-wait-timeout', packet: 0 });
  });

  it('half-close: the server keeps sending after the client FIN', () => {
    const [r] = run([...data, ['>', 'F.', I + 101, J + 1], ['<', 'P.', J + 1, I + 102, 50], ['>', '.', I + 102, J + 51]]).records;
    expect(r?.states).toEqual({ orig: 'FIN_WAIT_2', resp: 'CLOSE_WAIT' });
    expect(r?.anomalies.halfClose).toBe(true);
    expect(r?.zeek.connState).toBe('S2');
  });

  it('FIN retransmission is counted, not a second close', () => {
    const [r] = run([...data, ['>', 'F.', I + 101, J + 1], ['>', 'F.', I + 101, J + 1, 0, 0.2]]).records;
    expect(r?.anomalies.orig.finRetransmissions).toBe(1);
    expect(r?.states.orig).toBe('FIN_WAIT_1');
    expect(r?.zeek.history).toBe('ShADaF');
  });
});

describe('resets in every state', () => {
  const est: Step[] = [...handshake];
  it('ESTABLISHED: RST from the client → RSTO', () => {
    const [r] = run([...est, ['>', 'R.', I + 1, J + 1]]).records;
    expect(r?.states).toEqual({ orig: 'CLOSED', resp: 'CLOSED' });
    expect(rules(r!, 'orig').at(-1)).toBe('abort');
    expect(rules(r!, 'resp').at(-1)).toBe('rst-reset');
    expect(r?.zeek.connState).toBe('RSTO');
  });
  it('FIN_WAIT_2 with data arriving after close: Linux answers RST (data-after-close)', () => {
    const [r] = run([...est, ['>', 'F.', I + 1, J + 1], ['<', '.', J + 1, I + 2], ['<', 'P.', J + 1, I + 2, 10], ['>', 'R', I + 2, 0]]).records;
    expect(rules(r!, 'orig').slice(-3)).toEqual(['close-established', 'rcv-ack-of-fin', 'data-after-close']);
    expect(rules(r!, 'resp').at(-1)).toBe('rst-reset');
  });
  it('LAST_ACK: a RST ends it (rst-closing)', () => {
    const [r] = run([...est, ['>', 'F.', I + 1, J + 1], ['<', 'F.', J + 1, I + 2], ['>', 'R', I + 2, 0]]).records;
    expect(r?.states.resp).toBe('CLOSED');
    expect(rules(r!, 'resp').at(-1)).toBe('rst-closing');
    expect(rules(r!, 'orig').at(-1)).toBe('abort-closing');
  });
  it('SYN_RECEIVED: a RST sends the passive side back to LISTEN', () => {
    const [r] = run([['>', 'S', I, 0], ['<', 'S.', J, I + 1], ['>', 'R', I + 1, 0]]).records;
    expect(r?.states).toEqual({ orig: 'CLOSED', resp: 'LISTEN' });
    expect(rules(r!, 'resp').at(-1)).toBe('rst-to-listen');
    expect(r?.zeek.connState).toBe('RSTO');
  });
});

describe('what the capture shows of the data', () => {
  const est: Step[] = [...handshake];
  it('retransmission, keep-alive, zero window, and a segment the capture missed', () => {
    const steps: Step[] = [
      ...est,
      ['>', 'P.', I + 1, J + 1, 100],
      ['>', 'P.', I + 1, J + 1, 100, 0.3], // retransmitted
      ['<', '.', J + 1, I + 101, 0, 0.001, { win: 0 }],
      ['>', '.', I + 100, J + 1, 0, 1], // keep-alive: SEQ = SND.NXT - 1
      ['>', 'P.', I + 201, J + 1, 100], // I+101..I+201 never seen
      ['<', '.', J + 1, I + 301],
    ];
    const [r] = run(steps).records;
    expect(r?.anomalies.orig.retransmissions).toBe(1);
    expect(r?.anomalies.orig.keepAlives).toBe(1);
    expect(r?.anomalies.resp.zeroWindow).toBe(1);
    expect(r?.anomalies.orig.missedBytes).toBe(100);
    expect(r?.zeek.history).toBe('ShADTawG');
  });
  it('mid-stream: both inferred ESTABLISHED, then a normal close', () => {
    const [r] = run([['>', 'P.', I + 1, J + 1, 10], ['<', '.', J + 1, I + 11], ['>', 'F.', I + 11, J + 1], ['<', 'F.', J + 1, I + 12], ['>', '.', I + 12, J + 2]]).records;
    expect(r?.anomalies.midStream).toBe(true);
    expect(r?.timeline?.[0]).toMatchObject({ rule: 'mid-stream', inferred: true, to: 'ESTABLISHED' });
    expect(r?.states).toEqual({ orig: 'TIME_WAIT', resp: 'CLOSED' });
    expect(r?.zeek.connState).toBe('SF');
    expect(r?.completeness).toBe(4 | 8 | 16);
  });
});

describe('flow table', () => {
  it('port reuse: a new SYN after the close starts a new connection', () => {
    const close: Step[] = [...handshake, ['>', 'F.', I + 1, J + 1], ['<', 'F.', J + 1, I + 2], ['>', '.', I + 2, J + 2]];
    const again: Step[] = [['>', 'S', I + 100000, 0], ['<', 'S.', J + 7, I + 100001], ['>', '.', I + 100001, J + 8]];
    const a = analyze(rawPcap(exchange(A, B, [...close, ...again])));
    expect(a.records).toHaveLength(2);
    expect(a.records[1]?.states).toEqual({ orig: 'ESTABLISHED', resp: 'ESTABLISHED' });
    expect(a.records[0]?.packets.orig).toBe(4);
  });
  it('idle connections are finished during the capture, bounding memory', () => {
    const pk = exchange(A, B, handshake);
    const later = exchange(['10.0.0.9', 1234], B, handshake, 1_700_000_000 + 1000);
    const a = analyze(rawPcap([...pk, ...later]), { idle: 60 });
    expect(a.records).toHaveLength(2);
  });
});

/**
 * The tracker on hand-written event sequences shaped like the kernel's (Linux 6.18):
 * connect with sport 0 first, clone on the final ACK, TIME_WAIT / FIN_WAIT_2 inference,
 * reset attribution in both directions.
 */
import { describe, expect, it } from 'vitest';
import type { TransitionEvent } from '../../src/trace/event.js';
import { TransitionTracker } from '../../src/trace/tracker.js';
import type { ResetLine, SetStateLine } from '../../src/wire/trace-line.js';

const H = { comm: 't', pid: 1, cpu: 0, softirq: false, family: 'ipv4' as const };
const C = '10.0.0.1';
const S = '10.0.0.2';

function st(t: number, sport: number, dport: number, o: number, n: number, client = true): SetStateLine {
  return { ...H, timeUs: t, event: 'inet_sock_set_state', protocol: 6, sport, dport, saddr: client ? C : S, daddr: client ? S : C, oldstate: o, newstate: n };
}
function rst(t: number, kind: 'tcp_send_reset' | 'tcp_receive_reset', sport: number, dport: number, client: boolean, reason = ''): ResetLine {
  return { ...H, timeUs: t, event: kind, sport, dport, saddr: client ? C : S, daddr: client ? S : C, state: kind === 'tcp_send_reset' ? 7 : 0, reason };
}

function run(lines: (SetStateLine | ResetLine)[]): TransitionEvent[] {
  const out: TransitionEvent[] = [];
  const t = new TransitionTracker({ toWallMs: (us) => us / 1000 }, (e) => out.push(e));
  for (const l of lines) t.push(l);
  t.flush();
  return out;
}

const seq = (es: TransitionEvent[]): string[] => es.map((e) => `${e.event}:${e.from}>${e.to}${e.inferred ? '*' : ''}${e.reset ? `/${e.reset}` : ''}`);

describe('TransitionTracker', () => {
  it('times SYN_SENT across the port-0 event and infers TIME_WAIT for the active closer', () => {
    const es = run([
      st(1000, 0, 80, 7, 2),
      st(1500, 40000, 80, 2, 1),
      st(2000, 40000, 80, 1, 4),
      st(2100, 40000, 80, 4, 5),
      st(9000, 40000, 80, 5, 7),
    ]);
    expect(seq(es)).toEqual(['transition:CLOSED>SYN_SENT', 'transition:SYN_SENT>ESTABLISHED', 'transition:ESTABLISHED>FIN_WAIT_1', 'transition:FIN_WAIT_1>FIN_WAIT_2', 'transition:FIN_WAIT_2>TIME_WAIT*']);
    expect(es.map((e) => e.inStateMs)).toEqual([null, 0.5, 0.5, 0.1, 6.9]);
    expect(es[0]?.local.port).toBe(0);
    expect(es[4]?.lifetimeMs).toBe(8);
  });

  it('CLOSING → CLOSE is TIME_WAIT; close() on FIN_WAIT2 gives a FIN_WAIT_2 mini-socket', () => {
    expect(seq(run([st(1, 5, 6, 1, 4), st(2, 5, 6, 4, 11), st(3, 5, 6, 11, 7)]))).toEqual([
      'transition:ESTABLISHED>FIN_WAIT_1',
      'transition:FIN_WAIT_1>CLOSING',
      'transition:CLOSING>TIME_WAIT*',
    ]);
    expect(seq(run([st(1, 5, 6, 4, 5), st(50, 5, 6, 5, 5), st(51, 5, 6, 5, 7)]))).toEqual([
      'transition:FIN_WAIT_1>FIN_WAIT_2',
      'transition:FIN_WAIT_2>FIN_WAIT_2',
      'transition:FIN_WAIT_2>FIN_WAIT_2*',
    ]);
  });

  it('a passive close stays CLOSED; the server clone is a new connection', () => {
    const es = run([st(10, 80, 40000, 10, 3, false), st(12, 80, 40000, 3, 1, false), st(20, 80, 40000, 1, 8, false), st(30, 80, 40000, 8, 9, false), st(31, 80, 40000, 9, 7, false)]);
    expect(seq(es)).toEqual(['transition:LISTEN>SYN_RECEIVED', 'transition:SYN_RECEIVED>ESTABLISHED', 'transition:ESTABLISHED>CLOSE_WAIT', 'transition:CLOSE_WAIT>LAST_ACK', 'transition:LAST_ACK>CLOSED']);
    expect(es[0]?.inStateMs).toBeNull();
    expect(es[4]?.lifetimeMs).toBeCloseTo(0.021);
  });

  it('attributes a reset sent after → CLOSE (abort) and one received before it', () => {
    const es = run([
      st(1, 40000, 80, 1, 7),
      rst(3, 'tcp_receive_reset', 80, 40000, false),
      st(3, 80, 40000, 1, 7, false),
      rst(4, 'tcp_send_reset', 40000, 80, true, 'TCP_ABORT_ON_LINGER'),
    ]);
    expect(seq(es)).toEqual(['transition:ESTABLISHED>CLOSED/sent', 'rst-received:null>null/received', 'transition:ESTABLISHED>CLOSED/received', 'rst-sent:ESTABLISHED>null/sent']);
    expect(es[3]?.reason).toBe('TCP_ABORT_ON_LINGER');
  });

  it('a reset after FIN_WAIT2 → CLOSE prevents the TIME_WAIT inference', () => {
    expect(seq(run([st(1, 5, 6, 5, 7), rst(2, 'tcp_send_reset', 5, 6, true)]))).toEqual(['transition:FIN_WAIT_2>CLOSED/sent', 'rst-sent:FIN_WAIT_2>null/sent']);
  });

  it('holds a → CLOSE only for the reset window, in order', () => {
    const out: TransitionEvent[] = [];
    const t = new TransitionTracker({ toWallMs: (us) => us / 1000 }, (e) => out.push(e));
    t.push(st(1000, 5, 6, 5, 7));
    t.push(st(1500, 7, 8, 7, 10));
    expect(out).toHaveLength(0);
    t.push(st(4000, 9, 9, 7, 10));
    expect(seq(out)).toEqual(['transition:FIN_WAIT_2>TIME_WAIT*', 'transition:CLOSED>LISTEN', 'transition:CLOSED>LISTEN']);
  });
});

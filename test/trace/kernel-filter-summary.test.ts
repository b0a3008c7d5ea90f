/** The ftrace filter compiler (a superset of the ss expression) and the summary aggregation. */
import { describe, expect, it } from 'vitest';
import { parseFilter } from '../../src/filter/index.js';
import type { TransitionEvent } from '../../src/trace/event.js';
import { eventPredicate } from '../../src/trace/index.js';
import { compileKernelFilter } from '../../src/trace/kernel-filter.js';
import { DurationHistogram, SummaryAggregator } from '../../src/trace/summary.js';

const k = (f: string): ReturnType<typeof compileKernelFilter> => compileKernelFilter(parseFilter(f).ast.expr);

describe('compileKernelFilter', () => {
  it('always restricts to TCP and compiles ports exactly', () => {
    expect(compileKernelFilter(null)).toEqual({ setState: 'protocol == 6', receiveReset: '0', exact: true });
    expect(k('sport = :80')).toEqual({ setState: 'protocol == 6 && sport == 80', receiveReset: 'sport == 80', exact: true });
    expect(k('( sport = :80 or dport >= :1024 ) and not dport = :22')).toMatchObject({
      setState: 'protocol == 6 && ((sport == 80 || dport >= 1024) && !(dport == 22))',
      exact: true,
    });
  });
  it('over-approximates addresses and autobound, never narrowing', () => {
    expect(k('dst 10.0.0.1:443')).toEqual({ setState: 'protocol == 6 && dport == 443', receiveReset: 'dport == 443', exact: false });
    expect(k('dst 10.0.0.1')).toEqual({ setState: 'protocol == 6', receiveReset: '0', exact: false });
    expect(k('not dst 10.0.0.1:443').setState).toBe('protocol == 6');
    expect(k('dst 10.0.0.1 or sport = :80').setState).toBe('protocol == 6');
    expect(k('autobound and dport = :80').setState).toBe('protocol == 6 && dport == 80');
  });
});

function ev(p: Partial<TransitionEvent>): TransitionEvent {
  return {
    time: 0, monoUs: 0, event: 'transition', family: 'ipv4', local: { address: '10.0.0.1', port: 40000 }, remote: { address: '10.0.0.2', port: 80 },
    from: 'ESTABLISHED', to: 'FIN_WAIT_1', inStateMs: 1, inferred: false, reset: null, reason: null, lifetimeMs: null, pid: 1, comm: 'x', ...p,
  };
}

describe('eventPredicate', () => {
  it('matches the state set on either end and the address expression', () => {
    const p = eventPredicate(parseFilter('state time-wait dst 10.0.0.2'));
    expect(p(ev({ from: 'FIN_WAIT_2', to: 'TIME_WAIT' }))).toBe(true);
    expect(p(ev({}))).toBe(false);
    expect(p(ev({ from: 'FIN_WAIT_2', to: 'TIME_WAIT', remote: { address: '10.0.0.3', port: 80 } }))).toBe(false);
  });
});

describe('summary', () => {
  it('histogram quantiles are within 2.2 % and max is exact', () => {
    const h = new DurationHistogram();
    for (let i = 1; i <= 1000; i++) h.add(i * 100);
    expect(Math.abs(h.quantileUs(0.5) - 50_000) / 50_000).toBeLessThan(0.022);
    expect(Math.abs(h.quantileUs(0.99) - 99_000) / 99_000).toBeLessThan(0.022);
    expect(h.quantileUs(1)).toBe(100_000);
    expect(h.maxUs).toBe(100_000);
  });
  it('counts the matrix, dwell, lifetimes by outcome, talkers and resets', () => {
    const s = new SummaryAggregator();
    for (let i = 0; i < 3; i++) {
      s.add(ev({ from: 'CLOSED', to: 'SYN_SENT', inStateMs: null }));
      s.add(ev({ from: 'SYN_SENT', to: 'ESTABLISHED', inStateMs: 2 }));
      s.add(ev({ from: 'FIN_WAIT_2', to: 'TIME_WAIT', inferred: true, lifetimeMs: 10 + i }));
    }
    s.add(ev({ event: 'rst-sent', from: null, to: null, reset: 'sent' }));
    s.add(ev({ from: 'ESTABLISHED', to: 'CLOSED', reset: 'received', lifetimeMs: 50 }));
    const r = s.snapshot(2, 7);
    expect(r.transitions).toBe(10);
    expect(r.matrix.find((m) => m.from === 'SYN_SENT')).toEqual({ from: 'SYN_SENT', to: 'ESTABLISHED', count: 3, perSecond: 1.5 });
    expect(r.dwell.SYN_SENT?.count).toBe(3);
    expect(r.dwell.SYN_SENT?.maxMs).toBe(2);
    expect(r.lifetimes.byOutcome).toEqual({ TIME_WAIT: 3, FIN_WAIT_2: 0, reset: 1, closed: 0 });
    expect(r.lifetimes.longest[0]?.lifetimeMs).toBe(50);
    expect(r.topTalkers).toEqual([{ peer: '10.0.0.2', connections: 3, perSecond: 1.5, approximate: false }]);
    expect(r.resets).toEqual({ sent: 1, received: 0 });
    expect(r.lost).toBe(7);
  });
});

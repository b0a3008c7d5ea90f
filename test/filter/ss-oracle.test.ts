/**
 * Oracle: for a battery of filters, the sockets `ss -tanH FILTER` prints in a private
 * network namespace are exactly those our filter (stateMask + predicate) selects from
 * `ss -tanH` (everything) in the same namespace.
 *
 * Needs root (ip netns) and iproute2's `ip` and `ss`. Without them the suite is skipped
 * with a loud warning, unless CI=true, where it fails.
 */
import { spawnSync, type ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseFilter, SYN_RECV_MASK } from '../../src/filter/index.js';
import { deleteNetns, killAll, netnsGate, ssLinesIn } from '../helpers/netns.js';
import { keyOf, parseSsLine } from './records.js';
import { HAVE_PYTHON, startSocketZoo } from './zoo.js';

const NS = `tcpstate-test-filter-${process.pid}`;
const gate = netnsGate('the ss oracle test for filters', {}, 'Run as root to check the filter against ss.');

function ssLines(filterArgs: readonly string[]): string[] {
  return ssLinesIn(NS, filterArgs);
}

/**
 * The single state a filter selects, if it selects one: ss then omits the State column,
 * so the lines are labelled with it (the tuples are still compared).
 */
function impliedState(filterArgs: readonly string[]): number | undefined {
  const mask = parseFilter(filterArgs).stateMask;
  if (mask === SYN_RECV_MASK) return 12;
  if (mask === 0 || (mask & (mask - 1)) !== 0) return undefined;
  return Math.log2(mask);
}

function ssKeys(filterArgs: readonly string[]): string[] {
  const implied = impliedState(filterArgs);
  return ssLines(filterArgs).map((l) => keyOf(parseSsLine(l, implied))).sort();
}

function ourKeys(filter: string | readonly string[]): string[] {
  const f = parseFilter(filter);
  return ssLines([]).map(parseSsLine).filter(f.predicate).map(keyOf).sort();
}

/** The battery: each filter is given to ss as separate words, as a shell would split it. */
const BATTERY = [
  '',
  'state established',
  'state listening',
  'state time-wait',
  'state close-wait',
  'state fin-wait-2',
  'state syn-sent',
  'state connected',
  'state synchronized',
  'state bucket',
  'state big',
  'state syn-recv',
  'exclude syn-recv',
  'exclude bucket',
  'state bucket exclude time-wait',
  'state all',
  'exclude listening',
  'exclude established exclude time-wait',
  'state established state time-wait',
  'exclude listening state listening',
  'sport = :8080',
  'dport = :8080',
  'dport = :http-alt',
  'dport eq :https',
  'sport >= :9000',
  'sport gt 9000',
  'sport < :8081',
  'dport le 8443',
  'dport != :9000',
  'sport neq 8080',
  'sport = :0x1f90',
  'src 127.0.0.2',
  'dst 127.0.0.0/8',
  'src = 127.0.0.1/32',
  'src 127.0.0.1:8080',
  'dst [::1]:8443',
  'src [::1]',
  'src 0.0.0.0/0',
  'src ::/0',
  'src [::ffff:0.0.0.0/96]',
  'dst 10.99.0.0/24',
  'dst 10.99.0.2:443',
  'src *:9443',
  'src :9443',
  'src 0.0.0.0',
  'dst 127.0.0.2 or dst 10.99.0.2',
  'sport = :8080 or sport = :9000 and dst 127.0.0.2',
  'sport = :8080 or ( sport = :9000 and dst 127.0.0.2 )',
  'sport = :8080 or sport = :9443 and dst 127.0.0.2',
  '! sport = :8080',
  'not ( sport = :8080 or dport = :8080 )',
  'state established ( dport = :8080 or sport = :8080 )',
  'state connected dport = :9000 sport > :1024',
  'exclude time-wait src 127.0.0.1 || src [::1]',
  'autobound',
  'state established autobound',
  'dport == 9443 && ! src 127.0.0.2',
  'src 127.0.0.1 dst 127.0.0.1',
  'sport eq :9443 | sport eq :8443',
  'not not sport geq 9000',
] as const;

/** Filters given to ss as one argument (ss splits an argument on blanks itself). */
const SINGLE_ARGUMENT = [
  '( sport = :8080 or sport = :9000 )',
  'dst 127.0.0.1 and not sport = :8080',
  '! ( dport = :9000 ) autobound',
] as const;

describe.skipIf(gate.skip)('filter vs ss in a private network namespace', () => {
  const children: ChildProcess[] = [];

  beforeAll(async () => {
    gate.require();
    await startSocketZoo(NS, children, 'ss oracle');
  }, 40_000);

  afterAll(async () => {
    await killAll(children);
    deleteNetns(NS);
  }, 20_000);

  it('the namespace holds the socket zoo (every state the battery relies on)', () => {
    const states = new Set(ssLines([]).map((l) => l.split(/\s+/)[0]));
    for (const s of ['LISTEN', 'ESTAB', 'TIME-WAIT', 'FIN-WAIT-2', 'CLOSE-WAIT', 'SYN-SENT']) expect(states).toContain(s);
    if (HAVE_PYTHON) expect(states).toContain('SYN-RECV');
    const text = ssLines([]).join('\n');
    expect(text).toContain('[::ffff:127.0.0.2]'); // v4-mapped peers of the dual-stack listener
    expect(text).toContain('[::1]:8443');
  });

  it.each(BATTERY)('ss -tanH %s', (filter) => {
    const words = filter === '' ? [] : filter.split(' ');
    expect(ourKeys(words)).toEqual(ssKeys(words));
  });

  it.each(SINGLE_ARGUMENT)('ss -tanH %j (one argument)', (filter) => {
    expect(ourKeys(filter)).toEqual(ssKeys([filter]));
  });

  it('the battery discriminates: results vary and few are empty or everything', () => {
    const all = ssKeys([]).length;
    const sizes = BATTERY.map((f) => ssKeys(f === '' ? [] : f.split(' ')).length);
    expect(new Set(sizes).size).toBeGreaterThan(12);
    const mayBeEmpty: readonly string[] = HAVE_PYTHON ? [] : ['state syn-recv', 'state bucket exclude time-wait'];
    expect(BATTERY.filter((f, i) => sizes[i] === 0 && !mayBeEmpty.includes(f))).toEqual([]);
    expect(sizes.filter((n) => n === all).length).toBeLessThanOrEqual(3);
  });

  it('ss and we reject the same malformed filters', () => {
    for (const bad of ['dport = :nosuchservice', 'sport = :80 )', 'state bogus', 'dst ::1', 'src [::1]/128', 'not']) {
      const r = spawnSync('ip', ['netns', 'exec', NS, 'ss', '-tanH', ...bad.split(' ')], { encoding: 'utf8', timeout: 10_000 });
      expect({ bad, ssFailed: r.status !== 0 }).toEqual({ bad, ssFailed: true });
      expect(() => parseFilter(bad)).toThrow(/bad filter/);
    }
  });
});

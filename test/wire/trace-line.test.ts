/**
 * The trace_pipe line parser against lines copied from a real Linux 6.18 trace (kernel
 * print formats: see src/wire/trace-line.ts).
 */
import { describe, expect, it } from 'vitest';
import { checkEventFormat, parseTraceLine, TraceLineParser, type TraceLine } from '../../src/wire/trace-line.js';

const SET_STATE =
  '         python3-14169   [001] ..s2.  2695.476505: inet_sock_set_state: family=AF_INET protocol=IPPROTO_TCP sport=47001 dport=56528 saddr=127.0.0.5 daddr=127.0.0.1 saddrv6=::ffff:127.0.0.5 daddrv6=::ffff:127.0.0.1 oldstate=TCP_LISTEN newstate=TCP_SYN_RECV';
const SEND_RESET_NO_SOCKET =
  '         python3-14169   [001] ..s1.  2695.580035: tcp_send_reset: skbaddr=000000001651aad4 skaddr=0000000000000000 src=127.0.0.5:47002 dest=127.0.0.1:50756 state=UNKNOWN reason=NO_SOCKET';
const RECEIVE_RESET =
  '         python3-14169   [001] .....  2695.580054: tcp_receive_reset: family=AF_INET sport=50756 dport=47002 saddr=127.0.0.1 daddr=127.0.0.5 saddrv6=::ffff:127.0.0.1 daddrv6=::ffff:127.0.0.5 sock_cookie=843db';

describe('parseTraceLine', () => {
  it('reads inet_sock_set_state with header fields', () => {
    expect(parseTraceLine(SET_STATE)).toEqual({
      comm: 'python3',
      pid: 14169,
      cpu: 1,
      timeUs: 2695476505,
      softirq: true,
      event: 'inet_sock_set_state',
      family: 'ipv4',
      protocol: 6,
      sport: 47001,
      dport: 56528,
      saddr: '127.0.0.5',
      daddr: '127.0.0.1',
      oldstate: 10,
      newstate: 3,
    });
  });

  it('reads comms with spaces and dashes, and process context', () => {
    const l = parseTraceLine(
      '     kworker/u4:1-my-thing 2-99      [000] b..1.  12.000001: inet_sock_set_state: family=AF_INET6 protocol=IPPROTO_TCP sport=443 dport=50000 saddr=0.0.0.0 daddr=0.0.0.0 saddrv6=2001:db8::1 daddrv6=::1 oldstate=TCP_FIN_WAIT2 newstate=TCP_CLOSE',
    );
    expect(l).toMatchObject({ comm: 'kworker/u4:1-my-thing 2', pid: 99, cpu: 0, timeUs: 12000001, softirq: false, family: 'ipv6', saddr: '2001:db8::1', daddr: '::1', oldstate: 5, newstate: 7 });
  });

  it('reads tcp_send_reset with and without a socket, IPv4 and IPv6', () => {
    expect(parseTraceLine(SEND_RESET_NO_SOCKET)).toMatchObject({ event: 'tcp_send_reset', family: 'ipv4', saddr: '127.0.0.5', sport: 47002, daddr: '127.0.0.1', dport: 50756, state: 0, reason: 'NO_SOCKET' });
    expect(
      parseTraceLine('  node-7 [001] .....  1.5: tcp_send_reset: skbaddr=0000000000000000 skaddr=00000000a038f420 src=[::1]:8080 dest=[2001:db8::2]:5000 state=TCP_CLOSE reason=TCP_STATE'),
    ).toMatchObject({ family: 'ipv6', saddr: '::1', sport: 8080, daddr: '2001:db8::2', dport: 5000, state: 7, reason: 'TCP_STATE', timeUs: 1500000 });
  });

  it('reads tcp_receive_reset', () => {
    expect(parseTraceLine(RECEIVE_RESET)).toMatchObject({ event: 'tcp_receive_reset', family: 'ipv4', sport: 50756, dport: 47002, saddr: '127.0.0.1', daddr: '127.0.0.5', softirq: false });
  });

  it('returns null for other events and malformed bodies', () => {
    expect(parseTraceLine('  bash-1 [000] .....  1.0: sched_switch: prev_comm=bash')).toBeNull();
    expect(parseTraceLine('  bash-1 [000] .....  1.0: inet_sock_set_state: family=AF_INET protocol=IPPROTO_TCP sport=1')).toBeNull();
    expect(parseTraceLine(SET_STATE.replace('TCP_SYN_RECV', 'TCP_BOGUS'))).toBeNull();
    expect(parseTraceLine('')).toBeNull();
  });
});

describe('checkEventFormat', () => {
  it('accepts the 6.18 print fmt and rejects a different layout', () => {
    const ok = 'name: inet_sock_set_state\nprint fmt: "family=%s protocol=%s sport=%hu dport=%hu saddr=%pI4 daddr=%pI4 saddrv6=%pI6c daddrv6=%pI6c oldstate=%s newstate=%s", ...';
    expect(checkEventFormat('inet_sock_set_state', ok)).toBeNull();
    expect(checkEventFormat('inet_sock_set_state', ok.replace('sport=%hu dport=%hu', 'dport=%hu sport=%hu'))).toMatch(/expected/);
    expect(checkEventFormat('tcp_send_reset', 'no fmt')).toMatch(/no "print fmt"/);
  });
});

describe('TraceLineParser (bytes, reused record)', () => {
  const V6 =
    '     kworker/u4:1-my-thing 2-99      [000] b..1.  12.000001: inet_sock_set_state: family=AF_INET6 protocol=IPPROTO_TCP sport=443 dport=50000 saddr=0.0.0.0 daddr=0.0.0.0 saddrv6=2001:db8::1 daddrv6=::1 oldstate=TCP_FIN_WAIT2 newstate=TCP_CLOSE';
  const states = ['ESTABLISHED', 'SYN_SENT', 'SYN_RECV', 'FIN_WAIT1', 'FIN_WAIT2', 'TIME_WAIT', 'CLOSE', 'CLOSE_WAIT', 'LAST_ACK', 'LISTEN', 'CLOSING', 'NEW_SYN_RECV', 'BOUND_INACTIVE'];
  const lines = [
    SET_STATE,
    SEND_RESET_NO_SOCKET,
    RECEIVE_RESET,
    V6,
    ...states.map((s) => SET_STATE.replace('newstate=TCP_SYN_RECV', `newstate=TCP_${s}`)),
    ...states.map((s) => SET_STATE.replace('oldstate=TCP_LISTEN', `oldstate=TCP_${s}`)),
    // Odd shapes: the string path decides (same answer either way).
    SET_STATE.replace('TCP_SYN_RECV', 'TCP_SYN_RECX'),
    SET_STATE.replace('TCP_SYN_RECV', 'TCP_BOGUS'),
    SET_STATE.replace('IPPROTO_TCP', 'IPPROTO_MPTCP'),
    SET_STATE.replace('2695.476505', '2695.4765'),
    SET_STATE.replace('sport=47001', 'sport=4x001'),
    SET_STATE.replace('python3-14169', 'python3-'),
    SET_STATE.replace('family=AF_INET ', 'family=AF_UNIX '),
    SET_STATE.replace(' newstate=TCP_SYN_RECV', ''),
    SET_STATE + ' extra=1',
    '  bash-1 [000] .....  1.0: sched_switch: prev_comm=bash',
    '',
  ];

  it('gives what parseTraceLine gives, line by line, from one buffer', () => {
    const text = lines.join('\n');
    const buf = Buffer.from(text, 'latin1');
    const p = new TraceLineParser();
    let start = 0;
    for (const line of lines) {
      const end = start + Buffer.byteLength(line, 'latin1');
      const want: TraceLine | null = parseTraceLine(line);
      const ok = p.parse(buf, start, end);
      expect(ok ? p.record.toLine() : null, line).toEqual(want);
      start = end + 1;
    }
  });

  it('returns the same string for a repeated address or comm (no allocation per line)', () => {
    const buf = Buffer.from(`${SET_STATE}\n${SET_STATE}`, 'latin1');
    const p = new TraceLineParser();
    const len = Buffer.byteLength(SET_STATE, 'latin1');
    expect(p.parse(buf, 0, len)).toBe(true);
    const { saddr, comm } = p.record;
    expect(p.parse(buf, len + 1, 2 * len + 1)).toBe(true);
    expect(p.record.saddr).toBe(saddr);
    expect(p.record.comm).toBe(comm);
    expect(p.record.timeUs).toBe(2695476505);
  });
});

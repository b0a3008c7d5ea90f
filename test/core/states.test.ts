/** The state table: ids, RFC display text, Linux numbers, ss/netstat spellings, aliases. */
import { describe, expect, it } from 'vitest';
import { TcpstateError, UnknownStateError } from '../../src/core/errors.js';
import {
  isTcpState,
  LINUX_BOUND_INACTIVE,
  LINUX_NEW_SYN_RECV,
  parseState,
  STATE_INFO,
  stateAliases,
  stateFromLinux,
  TCP_STATES,
  tryParseState,
  type TcpState,
} from '../../src/core/states.js';

describe('state ids', () => {
  it('are the 11 RFC states in diagram order', () => {
    expect(TCP_STATES).toEqual([
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
    ]);
  });

  it('every entry of STATE_INFO is keyed by its own id', () => {
    for (const s of TCP_STATES) expect(STATE_INFO[s].id).toBe(s);
    expect(Object.keys(STATE_INFO).sort()).toEqual([...TCP_STATES].sort());
  });

  it('display text is the RFC spelling with hyphens', () => {
    expect(STATE_INFO.SYN_RECEIVED.display).toBe('SYN-RECEIVED');
    expect(STATE_INFO.FIN_WAIT_1.display).toBe('FIN-WAIT-1');
    expect(STATE_INFO.TIME_WAIT.display).toBe('TIME-WAIT');
    for (const s of TCP_STATES) expect(STATE_INFO[s].display).toBe(s.replace(/_/g, '-'));
  });

  it('isTcpState accepts ids only', () => {
    expect(isTcpState('TIME_WAIT')).toBe(true);
    expect(isTcpState('TIME-WAIT')).toBe(false);
    expect(isTcpState('time_wait')).toBe(false);
    expect(isTcpState(6)).toBe(false);
    expect(isTcpState(undefined)).toBe(false);
  });

  it('synchronized states are exactly ESTABLISHED and later (RFC 9293 §3.10.7.4)', () => {
    const sync = TCP_STATES.filter((s) => STATE_INFO[s].synchronized);
    expect(sync).toEqual(['ESTABLISHED', 'FIN_WAIT_1', 'FIN_WAIT_2', 'CLOSE_WAIT', 'CLOSING', 'LAST_ACK', 'TIME_WAIT']);
  });
});

describe('Linux numbers (include/net/tcp_states.h)', () => {
  const expected: ReadonlyArray<readonly [number, TcpState]> = [
    [1, 'ESTABLISHED'],
    [2, 'SYN_SENT'],
    [3, 'SYN_RECEIVED'],
    [4, 'FIN_WAIT_1'],
    [5, 'FIN_WAIT_2'],
    [6, 'TIME_WAIT'],
    [7, 'CLOSED'],
    [8, 'CLOSE_WAIT'],
    [9, 'LAST_ACK'],
    [10, 'LISTEN'],
    [11, 'CLOSING'],
  ];
  it.each(expected)('%i is %s both ways', (n, s) => {
    expect(stateFromLinux(n)).toBe(s);
    expect(STATE_INFO[s].linux).toBe(n);
  });

  it('12 (TCP_NEW_SYN_RECV) is reported as SYN_RECEIVED', () => {
    expect(LINUX_NEW_SYN_RECV).toBe(12);
    expect(stateFromLinux(12)).toBe('SYN_RECEIVED');
  });

  it('13 (TCP_BOUND_INACTIVE) is shown as CLOSED', () => {
    expect(LINUX_BOUND_INACTIVE).toBe(13);
    expect(stateFromLinux(13)).toBe('CLOSED');
  });

  it.each([0, 14, -1, 1.5, 255])('%s is unknown', (n) => {
    expect(stateFromLinux(n)).toBeUndefined();
  });

  it('the 11 numbers are distinct', () => {
    expect(new Set(TCP_STATES.map((s) => STATE_INFO[s].linux)).size).toBe(11);
  });
});

describe('ss and netstat spellings', () => {
  const table: ReadonlyArray<readonly [TcpState, string, string]> = [
    ['CLOSED', 'UNCONN', 'CLOSE'],
    ['LISTEN', 'LISTEN', 'LISTEN'],
    ['SYN_SENT', 'SYN-SENT', 'SYN_SENT'],
    ['SYN_RECEIVED', 'SYN-RECV', 'SYN_RECV'],
    ['ESTABLISHED', 'ESTAB', 'ESTABLISHED'],
    ['FIN_WAIT_1', 'FIN-WAIT-1', 'FIN_WAIT1'],
    ['FIN_WAIT_2', 'FIN-WAIT-2', 'FIN_WAIT2'],
    ['CLOSE_WAIT', 'CLOSE-WAIT', 'CLOSE_WAIT'],
    ['CLOSING', 'CLOSING', 'CLOSING'],
    ['LAST_ACK', 'LAST-ACK', 'LAST_ACK'],
    ['TIME_WAIT', 'TIME-WAIT', 'TIME_WAIT'],
  ];
  it.each(table)('%s: ss %s, netstat %s, and both parse back', (s, ss, netstat) => {
    expect(STATE_INFO[s].ss).toBe(ss);
    expect(STATE_INFO[s].netstat).toBe(netstat);
    expect(parseState(ss)).toBe(s);
    expect(parseState(netstat)).toBe(s);
  });
});

describe('parseState aliases', () => {
  const aliases: ReadonlyArray<readonly [string, TcpState]> = [
    ['estab', 'ESTABLISHED'],
    ['ESTAB', 'ESTABLISHED'],
    ['Established', 'ESTABLISHED'],
    ['syn-recv', 'SYN_RECEIVED'],
    ['SYN_RECV', 'SYN_RECEIVED'],
    ['syn-received', 'SYN_RECEIVED'],
    ['new-syn-recv', 'SYN_RECEIVED'],
    ['fin-wait1', 'FIN_WAIT_1'],
    ['fin_wait_1', 'FIN_WAIT_1'],
    ['FIN-WAIT-2', 'FIN_WAIT_2'],
    ['finwait2', 'FIN_WAIT_2'],
    ['time-wait', 'TIME_WAIT'],
    ['TIME_WAIT', 'TIME_WAIT'],
    ['tw', 'TIME_WAIT'],
    ['close-wait', 'CLOSE_WAIT'],
    ['last_ack', 'LAST_ACK'],
    ['closing', 'CLOSING'],
    ['close', 'CLOSED'],
    ['unconn', 'CLOSED'],
    ['bound-inactive', 'CLOSED'],
    ['listening', 'LISTEN'],
    ['  listen  ', 'LISTEN'],
    ['syn sent', 'SYN_SENT'],
  ];
  it.each(aliases)('%j → %s', (input, s) => {
    expect(parseState(input)).toBe(s);
    expect(tryParseState(input)).toBe(s);
  });

  it('every id and display text parses to itself', () => {
    for (const s of TCP_STATES) {
      expect(parseState(s)).toBe(s);
      expect(parseState(STATE_INFO[s].display)).toBe(s);
      expect(parseState(s.toLowerCase())).toBe(s);
    }
  });

  it('stateAliases lists normalised spellings, sorted, each parsing', () => {
    const list = stateAliases();
    expect([...list]).toEqual([...list].sort());
    expect(list).toContain('estab');
    expect(list).toContain('finwait1');
    for (const a of list) {
      expect(a).toMatch(/^[a-z0-9]+$/);
      expect(tryParseState(a)).toBeDefined();
    }
  });

  it('tryParseState returns undefined for unknown input', () => {
    expect(tryParseState('established-ish')).toBeUndefined();
    expect(tryParseState('')).toBeUndefined();
  });
});

describe('UnknownStateError', () => {
  it('names the input and the accepted states', () => {
    let error: unknown;
    try {
      parseState('FIN_WAIT_3');
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(UnknownStateError);
    expect(error).toBeInstanceOf(TcpstateError);
    const e = error as UnknownStateError;
    expect(e.code).toBe('E_UNKNOWN_STATE');
    expect(e.input).toBe('FIN_WAIT_3');
    expect(e.message).toContain('"FIN_WAIT_3"');
    for (const s of TCP_STATES) expect(e.message).toContain(s);
  });

  it('is thrown for the empty string too', () => {
    expect(() => parseState('')).toThrow(UnknownStateError);
    expect(() => parseState('')).toThrow(/unknown TCP state ""/);
  });
});

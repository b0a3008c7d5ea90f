import { describe, expect, it } from 'vitest';
import { ALL_STATES_MASK } from '../../src/records/socket.js';
import {
  ALL_MASK,
  BIG_MASK,
  BUCKET_MASK,
  CONNECTED_MASK,
  parseFilter,
  SS_DEFAULT_MASK,
  stateNameMask,
  SYNCHRONIZED_MASK,
} from '../../src/filter/index.js';

/** Mask of Linux state numbers. */
const m = (...states: number[]): number => states.reduce((a, s) => a | (1 << s), 0);

// Linux numbers, include/net/tcp_states.h
const ESTABLISHED = 1;
const SYN_SENT = 2;
const SYN_RECV = 3;
const FIN_WAIT1 = 4;
const FIN_WAIT2 = 5;
const TIME_WAIT = 6;
const CLOSE = 7;
const CLOSE_WAIT = 8;
const LAST_ACK = 9;
const LISTEN = 10;
const CLOSING = 11;
const NEW_SYN_RECV = 12;
const BOUND_INACTIVE = 13;

describe('state names (ss scan_state)', () => {
  it.each([
    ['established', m(ESTABLISHED)],
    ['syn-sent', m(SYN_SENT)],
    ['syn-recv', m(SYN_RECV, NEW_SYN_RECV)],
    ['syn-rcv', m(SYN_RECV, NEW_SYN_RECV)],
    ['fin-wait-1', m(FIN_WAIT1)],
    ['fin-wait-2', m(FIN_WAIT2)],
    ['time-wait', m(TIME_WAIT)],
    ['closed', m(CLOSE)],
    ['close', m(CLOSE)],
    ['unconnected', m(CLOSE)],
    ['close-wait', m(CLOSE_WAIT)],
    ['last-ack', m(LAST_ACK)],
    ['listening', m(LISTEN)],
    ['closing', m(CLOSING)],
    ['bound-inactive', m(BOUND_INACTIVE)],
    ['ESTABLISHED', m(ESTABLISHED)],
    ['Time-Wait', m(TIME_WAIT)],
    // beyond ss: the core table's spellings
    ['listen', m(LISTEN)],
    ['estab', m(ESTABLISHED)],
    ['SYN_RECEIVED', m(SYN_RECV, NEW_SYN_RECV)],
    ['fin-wait1', m(FIN_WAIT1)],
  ])('%s', (name, mask) => {
    expect(stateNameMask(name)).toBe(mask);
  });

  it('rejects new-syn-recv (a kernel detail) and nonsense', () => {
    expect(stateNameMask('new-syn-recv')).toBeUndefined();
    expect(stateNameMask('NEW_SYN_RECV')).toBeUndefined();
    expect(stateNameMask('bogus')).toBeUndefined();
  });
});

describe('state groups against ss definitions', () => {
  const every = m(ESTABLISHED, SYN_SENT, SYN_RECV, FIN_WAIT1, FIN_WAIT2, TIME_WAIT, CLOSE, CLOSE_WAIT, LAST_ACK, LISTEN, CLOSING, NEW_SYN_RECV);

  it('all = Linux states 1..12 = ALL_STATES_MASK', () => {
    expect(ALL_MASK).toBe(every);
    expect(ALL_MASK).toBe(ALL_STATES_MASK);
    expect(stateNameMask('all')).toBe(every);
  });

  it('connected = all but LISTEN and CLOSE', () => {
    expect(CONNECTED_MASK).toBe(m(ESTABLISHED, SYN_SENT, SYN_RECV, FIN_WAIT1, FIN_WAIT2, TIME_WAIT, CLOSE_WAIT, LAST_ACK, CLOSING, NEW_SYN_RECV));
    expect(stateNameMask('connected')).toBe(CONNECTED_MASK);
  });

  it('synchronized = connected but SYN-SENT (SYN-RECV stays)', () => {
    expect(SYNCHRONIZED_MASK).toBe(m(ESTABLISHED, SYN_RECV, FIN_WAIT1, FIN_WAIT2, TIME_WAIT, CLOSE_WAIT, LAST_ACK, CLOSING, NEW_SYN_RECV));
  });

  it('bucket = the minisockets: SYN-RECV (both numbers) and TIME-WAIT', () => {
    expect(BUCKET_MASK).toBe(m(SYN_RECV, NEW_SYN_RECV, TIME_WAIT));
  });

  it('big = all but the minisockets (request sockets excluded, as ss shows them)', () => {
    expect(BIG_MASK).toBe(m(ESTABLISHED, SYN_SENT, FIN_WAIT1, FIN_WAIT2, CLOSE, CLOSE_WAIT, LAST_ACK, LISTEN, CLOSING));
    expect(BIG_MASK | BUCKET_MASK).toBe(ALL_MASK);
  });

  it('plain ss default (SS_CONN) = all but LISTEN, CLOSE, TIME-WAIT, SYN-RECV', () => {
    expect(SS_DEFAULT_MASK).toBe(m(ESTABLISHED, SYN_SENT, FIN_WAIT1, FIN_WAIT2, CLOSE_WAIT, LAST_ACK, CLOSING));
  });
});

describe('state clauses accumulate in order (ss main())', () => {
  it.each([
    ['', ALL_MASK],
    ['state established', m(ESTABLISHED)],
    ['state established state time-wait', m(ESTABLISHED, TIME_WAIT)],
    ['exclude listening', ALL_MASK & ~m(LISTEN)],
    ['excl listening', ALL_MASK & ~m(LISTEN)],
    ['exclude bucket', BIG_MASK],
    ['exclude syn-recv', ALL_MASK & ~m(SYN_RECV, NEW_SYN_RECV)],
    ['state listening exclude listening', 0],
    ['exclude listening state listening', ALL_MASK],
    ['state connected exclude synchronized', m(SYN_SENT)],
    ['state bucket exclude time-wait', m(SYN_RECV, NEW_SYN_RECV)],
  ])('%j', (text, mask) => {
    expect(parseFilter(text).stateMask).toBe(mask);
  });

  it('uses the default mask only when no clause is given', () => {
    expect(parseFilter('', { defaultStateMask: SS_DEFAULT_MASK }).stateMask).toBe(SS_DEFAULT_MASK);
    expect(parseFilter('', { defaultStateMask: SS_DEFAULT_MASK }).statesGiven).toBe(false);
    expect(parseFilter('state listening', { defaultStateMask: SS_DEFAULT_MASK }).stateMask).toBe(m(LISTEN));
    expect(parseFilter('exclude listening', { defaultStateMask: SS_DEFAULT_MASK }).stateMask).toBe(ALL_MASK & ~m(LISTEN));
    expect(parseFilter('state listening').statesGiven).toBe(true);
  });
});

import { describe, expect, it } from 'vitest';
import { parseFilter } from '../../src/filter/index.js';
import type { SocketRecord } from '../../src/records/socket.js';
import { keyOf, parseSsLine, rec } from './records.js';

/** A small table covering families, v4-mapped sockets, listeners and every common state. */
const TABLE: readonly SocketRecord[] = [
  rec('LISTEN', '0.0.0.0:22', '0.0.0.0:*'),
  rec('LISTEN', '127.0.0.1:8080', '0.0.0.0:*'),
  rec('LISTEN', '[::]:443', '[::]:*'),
  rec('LISTEN', '[::1]:8443', '[::]:*'),
  rec('ESTABLISHED', '10.0.0.5:22', '192.168.1.7:50000'),
  rec('ESTABLISHED', '127.0.0.1:40000', '127.0.0.1:8080'),
  rec('ESTABLISHED', '127.0.0.1:8080', '127.0.0.1:40000'),
  rec('ESTABLISHED', '[::1]:50001', '[::1]:8443'),
  rec('ESTABLISHED', '[::ffff:10.0.0.5]:443', '[::ffff:10.9.8.7]:33333'),
  rec('TIME_WAIT', '127.0.0.1:40002', '127.0.0.1:8080'),
  rec('CLOSE_WAIT', '127.0.0.1:8080', '127.0.0.1:40004'),
  rec('FIN_WAIT_2', '127.0.0.1:40004', '127.0.0.1:8080'),
  rec('SYN_SENT', '10.0.0.5:41000', '10.1.2.3:80'),
  rec(12, '10.0.0.5:22', '10.1.2.3:41001'), // request socket
  rec('CLOSED', '0.0.0.0:5000', '0.0.0.0:*'),
];

function select(text: string): string[] {
  const f = parseFilter(text);
  return TABLE.filter(f.predicate).map(keyOf);
}

describe('predicate on constructed records', () => {
  it('no filter: all states 1..12', () => {
    expect(select('')).toHaveLength(TABLE.length);
  });

  it('state clauses select by Linux state; syn-recv includes request sockets', () => {
    expect(select('state listening')).toHaveLength(4);
    expect(select('state syn-recv')).toEqual(['10.0.0.5:22 10.1.2.3:41001 SYN-RECV']);
    expect(select('state bucket')).toEqual(['127.0.0.1:40002 127.0.0.1:8080 TIME-WAIT', '10.0.0.5:22 10.1.2.3:41001 SYN-RECV']);
    expect(select('exclude bucket')).toHaveLength(TABLE.length - 2);
    expect(select('state big')).not.toContain('10.0.0.5:22 10.1.2.3:41001 SYN-RECV');
    expect(select('state connected')).toHaveLength(TABLE.length - 5);
    expect(select('state synchronized')).toHaveLength(TABLE.length - 6);
  });

  it('sport/dport comparisons', () => {
    expect(select('sport = :8080')).toEqual([
      '127.0.0.1:8080 0.0.0.0:* LISTEN',
      '127.0.0.1:8080 127.0.0.1:40000 ESTAB',
      '127.0.0.1:8080 127.0.0.1:40004 CLOSE-WAIT',
    ]);
    expect(select('dport = :0')).toHaveLength(5);
    expect(select('dport = *')).toHaveLength(TABLE.length);
    expect(select('dport != *')).toHaveLength(0);
    expect(select('sport > :40000 sport < :41000')).toEqual([
      '[::1]:50001 [::1]:8443 ESTAB',
      '127.0.0.1:40002 127.0.0.1:8080 TIME-WAIT',
      '127.0.0.1:40004 127.0.0.1:8080 FIN-WAIT-2',
    ].filter((k) => Number(/:(\d+) /.exec(k)?.[1]) < 41000));
    expect(select('sport >= :40000 and sport <= :40004')).toHaveLength(3);
    expect(select('dport ge 50000').sort()).toEqual(['10.0.0.5:22 192.168.1.7:50000 ESTAB']);
  });

  it('IPv4 conditions match IPv4 and v4-mapped sockets, never plain IPv6', () => {
    expect(select('src 10.0.0.5')).toEqual([
      '10.0.0.5:22 192.168.1.7:50000 ESTAB',
      '[::ffff:10.0.0.5]:443 [::ffff:10.9.8.7]:33333 ESTAB',
      '10.0.0.5:41000 10.1.2.3:80 SYN-SENT',
      '10.0.0.5:22 10.1.2.3:41001 SYN-RECV',
    ]);
    expect(select('dst 10.0.0.0/8')).toEqual([
      '[::ffff:10.0.0.5]:443 [::ffff:10.9.8.7]:33333 ESTAB',
      '10.0.0.5:41000 10.1.2.3:80 SYN-SENT',
      '10.0.0.5:22 10.1.2.3:41001 SYN-RECV',
    ]);
    // a zero-length IPv4 prefix still demands the IPv4 family (the kernel's hostcond test)
    expect(select('src 0.0.0.0/0')).toHaveLength(TABLE.length - 3);
    expect(select('src [::/0]')).toHaveLength(4);
    expect(select('src 0.0.0.0')).toEqual(['0.0.0.0:22 0.0.0.0:* LISTEN', '0.0.0.0:5000 0.0.0.0:* UNCONN']);
  });

  it('IPv6 conditions, brackets and ports', () => {
    expect(select('dst [::1]:8443')).toEqual(['[::1]:50001 [::1]:8443 ESTAB']);
    expect(select('src [::1]')).toEqual(['[::1]:8443 [::]:* LISTEN', '[::1]:50001 [::1]:8443 ESTAB']);
    expect(select('src [::ffff:0.0.0.0/96]')).toEqual(['[::ffff:10.0.0.5]:443 [::ffff:10.9.8.7]:33333 ESTAB']);
    expect(select('src ::/0')).toHaveLength(4);
  });

  it('address with port, wildcards and !=', () => {
    expect(select('src 127.0.0.1:8080')).toHaveLength(3);
    expect(select('src *:22')).toEqual(['0.0.0.0:22 0.0.0.0:* LISTEN', '10.0.0.5:22 192.168.1.7:50000 ESTAB', '10.0.0.5:22 10.1.2.3:41001 SYN-RECV']);
    expect(select('src *')).toHaveLength(TABLE.length);
    expect(select('src != 127.0.0.0/8')).toHaveLength(TABLE.length - 6);
  });

  it('boolean structure: left-to-right and/or, not, parentheses', () => {
    // ss: (sport=22 or sport=8080) and dst 127.0.0.1
    expect(select('sport = :22 or sport = :8080 and dst 127.0.0.1')).toEqual([
      '127.0.0.1:8080 127.0.0.1:40000 ESTAB',
      '127.0.0.1:8080 127.0.0.1:40004 CLOSE-WAIT',
    ]);
    expect(select('sport = :22 or ( sport = :8080 and dst 127.0.0.1 )')).toHaveLength(5);
    expect(select('not sport = :8080')).toHaveLength(TABLE.length - 3);
    expect(select('! ( sport = :8080 or dport = :8080 )')).toHaveLength(TABLE.length - 6);
    expect(select('state established ( dport = :8080 or sport = :8080 )')).toEqual([
      '127.0.0.1:40000 127.0.0.1:8080 ESTAB',
      '127.0.0.1:8080 127.0.0.1:40000 ESTAB',
    ]);
  });

  it('autobound uses the ephemeral range (configurable)', () => {
    expect(select('autobound')).toEqual([
      '127.0.0.1:40000 127.0.0.1:8080 ESTAB',
      '[::1]:50001 [::1]:8443 ESTAB',
      '127.0.0.1:40002 127.0.0.1:8080 TIME-WAIT',
      '127.0.0.1:40004 127.0.0.1:8080 FIN-WAIT-2',
      '10.0.0.5:41000 10.1.2.3:80 SYN-SENT',
    ]);
    const f = parseFilter('autobound', { ephemeralRange: [50000, 50010] });
    expect(TABLE.filter(f.predicate).map(keyOf)).toEqual(['[::1]:50001 [::1]:8443 ESTAB']);
  });
});

describe('ss -tanH line parser (test kit)', () => {
  it('reads states, queues, IPv4, bracketed IPv6, * and v4-mapped forms', () => {
    const r = parseSsLine('LISTEN 0      511          *:9443          *:*');
    expect(r).toMatchObject({ linuxState: 10, family: 'ipv6', local: { address: '::', port: 9443 }, remote: { port: 0 } });
    const m = parseSsLine('ESTAB  0      0      [::ffff:127.0.0.1]:9443 [::ffff:127.0.0.2]:41234');
    expect(m).toMatchObject({ family: 'ipv6', local: { address: '::ffff:127.0.0.1' }, remote: { port: 41234 } });
    expect(parseSsLine('SYN-RECV 0 0 127.0.0.1:1 127.0.0.1:2').linuxState).toBe(12);
    expect(parseSsLine('TIME-WAIT 0 0 127.0.0.1:1 127.0.0.1:2').state).toBe('TIME_WAIT');
  });
});

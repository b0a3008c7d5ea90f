import { describe, expect, it } from 'vitest';
import { compileBytecode, INET_DIAG_BC, parseFilter } from '../../src/filter/index.js';
import type { BytecodeOptions } from '../../src/filter/index.js';
import type { SocketRecord } from '../../src/records/socket.js';
import { auditBytecode, rec, runBytecode } from './records.js';

const LE: BytecodeOptions = { littleEndian: true };

function bc(text: string, options: BytecodeOptions = LE): number[] {
  const b = parseFilter(text, options).bytecode;
  if (b === null) throw new Error(`no bytecode for ${text}`);
  return [...b];
}

const HOSTCOND_ANY_PORT = [0xff, 0xff, 0xff, 0xff];

describe('byte layout (include/uapi/linux/inet_diag.h, as ss builds it)', () => {
  it('no expression, no bytecode', () => {
    expect(parseFilter('state established').bytecode).toBeNull();
    expect(compileBytecode(null)).toBeNull();
  });

  it('port comparisons: op + a second op carrying the port in `no`', () => {
    expect(bc('sport >= :1024')).toEqual([INET_DIAG_BC.S_GE, 8, 12, 0, 0, 0, 0x00, 0x04]);
    expect(bc('sport <= :80')).toEqual([INET_DIAG_BC.S_LE, 8, 12, 0, 0, 0, 80, 0]);
    expect(bc('dport ge 443')).toEqual([INET_DIAG_BC.D_GE, 8, 12, 0, 0, 0, 0xbb, 0x01]);
    expect(bc('dport le 443')).toEqual([INET_DIAG_BC.D_LE, 8, 12, 0, 0, 0, 0xbb, 0x01]);
  });

  it('> and < are negations of <= and >= (a trailing JMP 8)', () => {
    expect(bc('sport > :80')).toEqual([INET_DIAG_BC.S_LE, 8, 12, 0, 0, 0, 80, 0, INET_DIAG_BC.JMP, 4, 8, 0]);
    expect(bc('dport < :80')).toEqual([INET_DIAG_BC.D_GE, 8, 12, 0, 0, 0, 80, 0, INET_DIAG_BC.JMP, 4, 8, 0]);
  });

  it('port equality: D_COND with AF_UNSPEC and 4 zero address bytes, or D_EQ on request', () => {
    expect(bc('dport = :22')).toEqual([INET_DIAG_BC.D_COND, 16, 20, 0, 0, 0, 0, 0, 22, 0, 0, 0, 0, 0, 0, 0]);
    expect(bc('dport = :22', { littleEndian: true, equalityOps: true })).toEqual([INET_DIAG_BC.D_EQ, 8, 12, 0, 0, 0, 22, 0]);
    expect(bc('sport = :22', { littleEndian: true, equalityOps: true })).toEqual([INET_DIAG_BC.S_EQ, 8, 12, 0, 0, 0, 22, 0]);
    expect(bc('sport = *')).toEqual([INET_DIAG_BC.S_COND, 16, 20, 0, 0, 0, 0, 0, ...HOSTCOND_ANY_PORT, 0, 0, 0, 0]);
  });

  it('host conditions: family, prefix length, port (-1 = any), network-order address', () => {
    expect(bc('dst 10.0.0.0/8')).toEqual([INET_DIAG_BC.D_COND, 16, 20, 0, 2, 8, 0, 0, ...HOSTCOND_ANY_PORT, 10, 0, 0, 0]);
    expect(bc('src 127.0.0.1:8080')).toEqual([INET_DIAG_BC.S_COND, 16, 20, 0, 2, 32, 0, 0, 0x90, 0x1f, 0, 0, 127, 0, 0, 1]);
    expect(bc('src [::1]:80')).toEqual([
      INET_DIAG_BC.S_COND, 28, 32, 0, 10, 128, 0, 0, 80, 0, 0, 0,
      0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1,
    ]);
    expect(bc('src *:22')).toEqual([INET_DIAG_BC.S_COND, 16, 20, 0, 0, 0, 0, 0, 22, 0, 0, 0, 0, 0, 0, 0]);
  });

  it('big-endian hosts get big-endian headers and ports, same addresses', () => {
    expect(bc('src 127.0.0.1:8080', { littleEndian: false })).toEqual([7, 16, 0, 20, 2, 32, 0, 0, 0, 0, 0x1f, 0x90, 127, 0, 0, 1]);
  });

  it('autobound is AUTO', () => {
    expect(bc('autobound')).toEqual([INET_DIAG_BC.AUTO, 4, 8, 0]);
  });

  it('or: a, JMP to the end, b', () => {
    expect(bc('sport = :1 or sport = :2')).toEqual([
      7, 16, 20, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0,
      INET_DIAG_BC.JMP, 4, 20, 0,
      7, 16, 20, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0,
    ]);
  });

  it("and: a then b, a's failure moved past b", () => {
    expect(bc('sport = :1 and sport = :2')).toEqual([
      7, 16, 36, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0,
      7, 16, 20, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0,
    ]);
  });
});

/** Records for the cross-check, covering families, mapped addresses and ports. */
const RECORDS: readonly SocketRecord[] = [
  rec('LISTEN', '0.0.0.0:22', '0.0.0.0:*'),
  rec('LISTEN', '[::]:443', '[::]:*'),
  rec('ESTABLISHED', '10.0.0.5:22', '192.168.1.7:50000'),
  rec('ESTABLISHED', '127.0.0.1:40000', '127.0.0.1:8080'),
  rec('ESTABLISHED', '127.0.0.1:8080', '127.0.0.1:40000'),
  rec('ESTABLISHED', '[::1]:50001', '[::1]:8443'),
  rec('ESTABLISHED', '[::ffff:10.0.0.5]:443', '[::ffff:10.9.8.7]:33333'),
  rec('TIME_WAIT', '127.0.0.1:40002', '127.0.0.1:8080'),
  rec('SYN_SENT', '10.0.0.5:1023', '10.1.2.3:80'),
  rec('ESTABLISHED', '[2001:db8::5]:1024', '[2001:db8:0:1::9]:65535'),
];

const EXPRESSIONS = [
  'sport = :22',
  'sport != :22',
  'dport = :8080 or sport = :8080',
  'sport >= :1024',
  'sport > :1023',
  'sport < :1024 and dport <= :80',
  'dport gt 8080 or dport lt 80',
  'src 10.0.0.5',
  'src 10.0.0.0/8 and not dst 192.168.0.0/16',
  'src 0.0.0.0/0',
  'src [::/0]',
  'dst [2001:db8::/32]',
  'dst [2001:db8::/48]',
  'src [::ffff:0.0.0.0/96]',
  'src 127.0.0.1:8080 or dst 127.0.0.1:8080',
  'src *:443',
  'dst != 127.0.0.1',
  '! ( sport = :22 or sport = :443 ) and ! dport = :8080',
  'not not sport = :22',
  'sport = :22 or sport = :443 and src 10.0.0.0/8',
  '( sport = :22 or ( dport = :8080 and ! src 127.0.0.1:40002 ) ) or dst [::1]',
  'sport >= :1024 sport <= :50000 dport != :8080',
  'dport = *',
  'dport != *',
];

describe('bytecode agrees with the predicate (kernel interpreter in the test kit)', () => {
  it.each(EXPRESSIONS)('%s', (text) => {
    const f = parseFilter(text);
    const code = f.bytecode;
    if (code === null) throw new Error('no bytecode');
    expect(auditBytecode(code)).toBe(true);
    for (const r of RECORDS) {
      expect({ r: `${r.local.address}:${r.local.port} ${r.remote.address}:${r.remote.port}`, ok: runBytecode(code, r) }).toEqual({
        r: `${r.local.address}:${r.local.port} ${r.remote.address}:${r.remote.port}`,
        ok: f.predicate(r),
      });
    }
  });

  it('the expressions above are not trivial: each selects some records and rejects others', () => {
    const trivial = EXPRESSIONS.filter((t) => {
      const f = parseFilter(t);
      const n = RECORDS.filter(f.predicate).length;
      return n === 0 || n === RECORDS.length;
    });
    expect(trivial).toEqual(['dport = *', 'dport != *']);
  });

  it('AUTO follows the kernel flag, not the port', () => {
    const code = parseFilter('autobound').bytecode;
    if (code === null) throw new Error('no bytecode');
    const r = rec('ESTABLISHED', '127.0.0.1:40000', '127.0.0.1:80');
    expect(runBytecode(code, r, false)).toBe(true);
    expect(runBytecode(code, r, true)).toBe(false);
  });

  it('returns null when a jump would not fit in 16 bits', () => {
    const big = Array.from({ length: 3000 }, (_, i) => `src 10.0.${i >> 8}.${i & 255}`).join(' or ');
    expect(parseFilter(big).bytecode).not.toBeNull();
    const huge = Array.from({ length: 2400 }, (_, i) => `src [2001:db8::${i.toString(16)}]`).join(' and ');
    expect(parseFilter(huge).bytecode).toBeNull();
  });
});

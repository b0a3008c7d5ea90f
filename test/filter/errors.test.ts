import { describe, expect, it } from 'vitest';
import { TcpstateError } from '../../src/core/errors.js';
import { FilterError, parseFilter } from '../../src/filter/index.js';

function errorOf(text: string | readonly string[]): FilterError {
  try {
    parseFilter(text);
  } catch (e) {
    if (e instanceof FilterError) return e;
    throw e;
  }
  throw new Error(`no error for ${JSON.stringify(text)}`);
}

/** The column (0-based) of the caret in the message's picture. */
function caretAt(e: FilterError): number {
  const lines = e.message.split('\n');
  expect(lines).toHaveLength(3);
  expect(lines[1]).toBe(`  ${e.source}`);
  const caret = lines[2] ?? '';
  expect(caret.trimStart()).toBe('^');
  return caret.indexOf('^') - 2;
}

describe('FilterError', () => {
  it('is a TcpstateError with code E_FILTER, the source line and a caret', () => {
    const e = errorOf('dport = :nosuchservice');
    expect(e).toBeInstanceOf(TcpstateError);
    expect(e.code).toBe('E_FILTER');
    expect(e.name).toBe('FilterError');
    expect(e.message).toBe(
      'bad filter at column 10: unknown service name "nosuchservice"; expected a port number or a known service name (ssh, http, https, ...)\n' +
        '  dport = :nosuchservice\n' +
        '           ^',
    );
    expect(e.position).toBe(9);
    expect(e.column).toBe(10);
  });

  // [filter, position of the caret (0-based), fragment of the message]
  it.each([
    ['dport =', 7, 'expected a port'],
    ['dport = :70000', 9, 'out of range'],
    ['dport = :-1', 9, 'not a port number'],
    ['sport > *', 8, 'cannot be compared'],
    ['dport = 10.0.0.1:80', 8, 'is not a port'],
    ['src', 3, 'expected an address'],
    ['src 10.0.0.256', 4, 'not a valid IPv4 address'],
    ['src localhost', 4, 'names are not looked up'],
    ['dst ::1', 4, 'without brackets'],
    ['dst [::1', 8, 'missing "]"'],
    ['dst [::1]/128', 9, 'a prefix goes inside'],
    ['dst [::g]', 5, 'not a valid IPv6 address'],
    ['dst 10.0.0.0/33', 13, 'not a valid prefix length'],
    ['dst 10.0.0.0/255.0.255.0', 13, 'not a contiguous netmask'],
    ['dst > 10.0.0.1', 4, 'compares addresses with "=" or "!=" only'],
    ['dst unix:/tmp/x', 4, '"unix:" addresses are not supported'],
    ['dst inet6:[::1]', 4, '"inet6:" addresses are not supported'],
    ['dev eth0', 0, '"dev" (interface) conditions are not supported'],
    ['fwmark 0x1/0x1', 0, '"fwmark" conditions are not supported'],
    ['cgroup /sys', 0, '"cgroup" conditions are not supported'],
    ['state', 5, 'needs a state name'],
    ['state listen-ish', 6, 'unknown state "listen-ish"'],
    ['state new-syn-recv', 6, 'unknown state'],
    ['dport = :80 state established', 12, 'must come before the expression'],
    ['( dport = :80', 13, 'unclosed "(" (opened at column 1)'],
    ['dport = :80 )', 12, 'unbalanced ")"'],
    ['( )', 2, 'empty parentheses'],
    ['not', 3, 'needs a condition'],
    ['sport = :80 and', 15, 'ends where a condition should follow'],
    ['sport = :80 or or', 15, 'unexpected "or"'],
    ['hello', 0, 'unexpected "hello"'],
    ['sport = :80 80', 12, 'unexpected "80"'],
    ['sport = and', 8, '"and" after "sport ="'],
  ])('%s', (text, position, fragment) => {
    const e = errorOf(text);
    expect(e.message).toContain(fragment);
    expect(e.position).toBe(position);
    expect(caretAt(e)).toBe(position);
  });

  it('points into the joined source when given argv words', () => {
    const e = errorOf(['state', 'established', '( dport = :80', 'or', 'sport = :nope )']);
    expect(e.source).toBe('state established ( dport = :80 or sport = :nope )');
    expect(e.source.slice(e.position)).toBe('nope )');
    expect(caretAt(e)).toBe(e.position);
  });

  it('says "at the end" for faults at the end of the filter', () => {
    expect(errorOf('sport =').message.split('\n')[0]).toMatch(/^bad filter at the end: /);
  });
});

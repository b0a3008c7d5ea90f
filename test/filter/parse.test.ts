import { describe, expect, it } from 'vitest';
import { formatExpr, parseFilter, servicesResolver, tokenize } from '../../src/filter/index.js';
import type { ExprNode, HostNode, PortNode } from '../../src/filter/index.js';

function expr(text: string | readonly string[]): ExprNode {
  const e = parseFilter(text).ast.expr;
  if (e === null) throw new Error('no expression');
  return e;
}

function shape(text: string): string {
  return formatExpr(expr(text));
}

function host(text: string): HostNode {
  const e = expr(text);
  if (e.kind !== 'host') throw new Error(`not a host node: ${e.kind}`);
  return e;
}

function port(text: string): PortNode {
  const e = expr(text);
  if (e.kind !== 'port') throw new Error(`not a port node: ${e.kind}`);
  return e;
}

describe('tokenize', () => {
  it('splits punctuation even when glued to words, keeping offsets', () => {
    const toks = tokenize('(dport>=:80)&&!src [::1]:22');
    expect(toks.map((t) => `${t.kind}:${t.text}@${t.span.start}`)).toEqual([
      'lparen:(@0',
      'word:dport@1',
      'cmp:>=@6',
      'word::80@8',
      'rparen:)@11',
      'amp:&&@12',
      'bang:!@14',
      'word:src@15',
      'word:[::1]:22@19',
      'eof:@27',
    ]);
  });

  it('reads != as one operator and a lone ! as negation', () => {
    expect(tokenize('! sport != 1').map((t) => t.kind)).toEqual(['bang', 'word', 'cmp', 'word', 'eof']);
  });
});

describe('port terms', () => {
  it.each([
    ['dport = :ssh', 'remote', 'eq', 22],
    ['dport :ssh', 'remote', 'eq', 22],
    ['dport eq 80', 'remote', 'eq', 80],
    ['dport == :80', 'remote', 'eq', 80],
    ['sport != :80', 'local', 'ne', 80],
    ['sport ne 80', 'local', 'ne', 80],
    ['sport neq 80', 'local', 'ne', 80],
    ['sport >= :1024', 'local', 'ge', 1024],
    ['sport ge 1024', 'local', 'ge', 1024],
    ['sport geq 1024', 'local', 'ge', 1024],
    ['sport <= :1024', 'local', 'le', 1024],
    ['sport le 1024', 'local', 'le', 1024],
    ['sport leq 1024', 'local', 'le', 1024],
    ['dport > :1024', 'remote', 'gt', 1024],
    ['dport gt 1024', 'remote', 'gt', 1024],
    ['dport < :1024', 'remote', 'lt', 1024],
    ['dport lt 1024', 'remote', 'lt', 1024],
    ['sport = :https', 'local', 'eq', 443],
    ['sport = :http-alt', 'local', 'eq', 8080],
    ['sport = :0x1f90', 'local', 'eq', 8080],
    ['sport = :010', 'local', 'eq', 8],
    ['sport = :0', 'local', 'eq', 0],
  ])('%s', (text, side, op, p) => {
    const n = port(text);
    expect([n.side, n.op, n.port]).toEqual([side, op, p]);
  });

  it('reads * and an empty port as any port', () => {
    expect(port('sport = *').port).toBeNull();
    expect(port('sport = :*').port).toBeNull();
    expect(port('dport = :').port).toBeNull();
  });

  it('asks the resolver before the built-in services table', () => {
    const services = servicesResolver('# comment\nssh 2222/tcp\nfoo 7/udp\nbar 1234/tcp baz qux # c\n');
    expect(parseFilter('dport = :ssh', { services }).ast.expr).toMatchObject({ port: 2222 });
    expect(parseFilter('dport = :qux', { services }).ast.expr).toMatchObject({ port: 1234 });
    expect(parseFilter('dport = :http', { services }).ast.expr).toMatchObject({ port: 80 });
    expect(() => parseFilter('dport = :foo', { services })).toThrow(/unknown service name "foo"/);
  });
});

describe('host terms', () => {
  it('IPv4 address, prefix, netmask and port', () => {
    expect(host('src 127.0.0.1').pattern).toMatchObject({ family: 'ipv4', prefixLength: 32, port: null });
    expect([...host('src 127.0.0.1').pattern.address]).toEqual([127, 0, 0, 1]);
    expect(host('dst 10.0.0.0/8').pattern).toMatchObject({ family: 'ipv4', prefixLength: 8, port: null });
    expect(host('dst 10.0.0.0/255.255.0.0').pattern).toMatchObject({ prefixLength: 16 });
    expect(host('dst 0.0.0.0/0.0.0.0').pattern).toMatchObject({ prefixLength: 0 });
    expect(host('src 127.0.0.1:8080').pattern).toMatchObject({ family: 'ipv4', prefixLength: 32, port: 8080 });
    expect(host('src = 10.1.0.0/16:http').pattern).toMatchObject({ prefixLength: 16, port: 80 });
    expect(host('src eq 127.0.0.1').negated).toBe(false);
  });

  it('IPv6 in brackets, with prefix inside, and the ss unbracketed-prefix form', () => {
    const p = host('dst [::1]:80').pattern;
    expect(p).toMatchObject({ family: 'ipv6', prefixLength: 128, port: 80 });
    expect([...p.address]).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
    expect(host('dst [fe80::/10]').pattern).toMatchObject({ family: 'ipv6', prefixLength: 10, port: null });
    expect(host('dst ::ffff:0.0.0.0/96').pattern).toMatchObject({ family: 'ipv6', prefixLength: 96 });
    expect([...host('dst [::ffff:10.1.2.3]').pattern.address].slice(10)).toEqual([0xff, 0xff, 10, 1, 2, 3]);
    expect(host('src [2001:db8::1]:*').pattern).toMatchObject({ family: 'ipv6', port: null });
  });

  it('wildcards: *, *:port, :port, any', () => {
    expect(host('src *').pattern).toMatchObject({ family: null, prefixLength: 0, port: null });
    expect(host('src *:22').pattern).toMatchObject({ family: null, port: 22 });
    expect(host('src :22').pattern).toMatchObject({ family: null, port: 22 });
    expect(host('dst any').pattern).toMatchObject({ family: null, port: null });
  });

  it('src != is an extension: a negated host node', () => {
    expect(host('src != 127.0.0.1').negated).toBe(true);
    expect(host('dst neq [::1]').negated).toBe(true);
  });
});

describe('expression structure', () => {
  it('and/or share one precedence and group left to right, as in ss', () => {
    expect(shape('sport = :1 or sport = :2 and dport = :3')).toBe(
      '( ( sport = :1 or sport = :2 ) and dport = :3 )',
    );
    expect(shape('sport = :1 and sport = :2 or dport = :3')).toBe(
      '( ( sport = :1 and sport = :2 ) or dport = :3 )',
    );
  });

  it('juxtaposition is an implicit and at the same level', () => {
    const e = expr('sport = :1 or sport = :2 dport = :3');
    expect(e).toMatchObject({ kind: 'and', implicit: true, left: { kind: 'or' } });
  });

  it('symbols and words for the connectives', () => {
    const a = shape('sport = :1 && ! dport = :2 || ( src * )');
    expect(shape('sport = :1 and not dport = :2 or ( src * )')).toBe(a);
    expect(shape('sport = :1 & ! dport = :2 | ( src * )')).toBe(a);
  });

  it('not binds to the next term only; parentheses group', () => {
    expect(shape('not sport = :1 and dport = :2')).toBe('( ! sport = :1 and dport = :2 )');
    expect(shape('not ( sport = :1 and dport = :2 )')).toBe('! ( sport = :1 and dport = :2 )');
    expect(shape('! ! sport = :1')).toBe('! ! sport = :1');
  });

  it('spans cover the source, parentheses included', () => {
    const src = 'state listening ( sport = :80 or dport = :80 )';
    const e = expr(src);
    expect(src.slice(e.span.start, e.span.end)).toBe('( sport = :80 or dport = :80 )');
    if (e.kind !== 'or') throw new Error('expected or');
    expect(src.slice(e.left.span.start, e.left.span.end)).toBe('sport = :80');
  });

  it('argv words and one quoted string parse alike, with the same source', () => {
    const words = ['state', 'established', '(', 'dport', '=', ':ssh', 'or', 'sport', '=', ':ssh', ')'];
    const a = parseFilter(words);
    const b = parseFilter(words.join(' '));
    expect(a.source).toBe(b.source);
    expect(a.ast).toEqual(b.ast);
    // ss splits each argv word on blanks too
    expect(parseFilter(['state', 'established', '( dport = :ssh or sport = :ssh )']).ast.expr).toEqual(b.ast.expr);
  });

  it('punctuation need not be blank-separated (an extension: ss needs blanks)', () => {
    expect(shape('(dport=:80)||(sport>=:1024)')).toBe(shape('( dport = :80 ) or ( sport >= :1024 )'));
  });

  it('autobound is a term', () => {
    expect(expr('autobound and dport = :80')).toMatchObject({ kind: 'and', left: { kind: 'autobound' } });
  });

  it('an empty filter or only state clauses has no expression', () => {
    expect(parseFilter('').ast.expr).toBeNull();
    expect(parseFilter([]).ast.expr).toBeNull();
    expect(parseFilter('state established').ast.expr).toBeNull();
    expect(parseFilter('state established').ast.states).toHaveLength(1);
  });
});

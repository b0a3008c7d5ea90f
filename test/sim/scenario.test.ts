import { describe, expect, it } from 'vitest';
import { parseScenario, parseScenarioJson, ScenarioError } from '../../src/sim/scenario.js';
import { simulate } from '../../src/sim/simulator.js';

const base = { name: 't', steps: [{ at: 0, endpoint: 'b', call: 'listen' }] };

function errorOf(f: () => unknown): string {
  try {
    f();
  } catch (err: unknown) {
    expect(err).toBeInstanceOf(ScenarioError);
    return (err as Error).message;
  }
  throw new Error('expected a ScenarioError');
}

describe('scenario validation names the field or step', () => {
  it('accepts the issue example and fills defaults', () => {
    const s = parseScenario({
      name: 'lost final ACK',
      profile: 'rfc9293',
      network: { delayMs: 10 },
      steps: [
        { at: 0, endpoint: 'b', call: 'listen' },
        { at: 10, endpoint: 'a', call: 'connect' },
        { at: 100, endpoint: 'a', call: 'send', bytes: 1000 },
        { drop: { from: 'a', kind: 'ack', nth: 2 } },
        { at: 250, inject: { to: 'b', flags: 'R', seqOffset: 5, ackOffset: 0 } },
      ],
    });
    expect(s.steps.map((x) => x.kind)).toEqual(['call', 'call', 'call', 'drop', 'inject']);
    expect(s.network.delayMs).toBe(10);
    expect(parseScenario(base).profile).toBe('rfc9293');
  });

  it('bad JSON names the position', () => {
    expect(errorOf(() => parseScenarioJson('{"name": "x",', 'f.json'))).toMatch(/^f\.json: \(JSON\): not valid JSON/);
  });

  it('unknown call names the step and field', () => {
    const m = errorOf(() => parseScenario({ name: 'x', steps: [base.steps[0], { at: 1, endpoint: 'a', call: 'jump' }] }));
    expect(m).toContain('steps[1].call');
    expect(m).toMatch(/listen/);
  });

  it('unknown endpoint, negative time, unknown key', () => {
    expect(errorOf(() => parseScenario({ name: 'x', steps: [{ at: 0, endpoint: 'c', call: 'listen' }] }))).toContain('steps[0].endpoint');
    expect(errorOf(() => parseScenario({ name: 'x', steps: [{ at: -1, endpoint: 'a', call: 'listen' }] }))).toContain('steps[0].at');
    expect(errorOf(() => parseScenario({ ...base, colour: 'red' }))).toMatch(/colour/);
  });

  it('send without bytes, read without enabled or bytes, bytes on close', () => {
    expect(errorOf(() => parseScenario({ name: 'x', steps: [{ at: 0, endpoint: 'a', call: 'send' }] }))).toContain('steps[0].bytes');
    expect(errorOf(() => parseScenario({ name: 'x', steps: [{ at: 0, endpoint: 'a', call: 'read' }] }))).toContain('steps[0]');
    expect(errorOf(() => parseScenario({ name: 'x', steps: [{ at: 0, endpoint: 'a', call: 'close', bytes: 3 }] }))).toContain('steps[0].bytes');
  });

  it('bad drop kind and bad inject flags', () => {
    expect(errorOf(() => parseScenario({ name: 'x', steps: [{ drop: { from: 'a', kind: 'syns', nth: 1 } }] }))).toContain('steps[0].drop.kind');
    expect(errorOf(() => parseScenario({ name: 'x', steps: [{ at: 0, inject: { to: 'a', flags: 'SX' } }] }))).toContain('steps[0].inject.flags');
  });

  it('a step with neither call, drop nor inject', () => {
    expect(errorOf(() => parseScenario({ name: 'x', steps: [{ at: 0 }] }))).toMatch(/steps\[0\]: a step needs one of/);
  });

  it('missing steps, empty steps, unknown profile', () => {
    expect(errorOf(() => parseScenario({ name: 'x' }))).toContain('steps');
    expect(errorOf(() => parseScenario({ name: 'x', steps: [] }))).toContain('steps');
    expect(errorOf(() => parseScenario({ ...base, profile: 'bsd' }))).toContain('profile');
  });

  it('a step that cannot apply fails at run time naming the step', () => {
    const s = parseScenario({
      name: 'x',
      steps: [
        { at: 0, endpoint: 'b', call: 'listen' },
        { at: 5, endpoint: 'b', call: 'listen' },
      ],
    });
    const m = errorOf(() => simulate(s));
    expect(m).toContain('steps[1] (at 5 ms, b listen)');
    expect(m).toContain('connection already exists');
  });

  it('send on a connection that does not exist', () => {
    const s = parseScenario({ name: 'x', steps: [{ at: 0, endpoint: 'a', call: 'send', bytes: 10 }] });
    expect(errorOf(() => simulate(s))).toContain('connection does not exist');
  });

  it('a scenario that never settles stops at maxTimeMs', () => {
    const s = parseScenario({
      name: 'probe forever',
      maxTimeMs: 20_000,
      endpoints: { b: { rcvBuffer: 1000, reading: false } },
      steps: [
        { at: 0, endpoint: 'b', call: 'listen' },
        { at: 10, endpoint: 'a', call: 'connect' },
        { at: 100, endpoint: 'a', call: 'send', bytes: 5000 },
      ],
    });
    const r = simulate(s);
    expect(r.truncated).toBe(true);
    expect(r.endMs).toBe(20_000);
    expect(r.final).toEqual({ a: 'ESTABLISHED', b: 'ESTABLISHED' });
  });
});

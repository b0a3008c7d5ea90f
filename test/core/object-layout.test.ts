import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { objectArray, settleMutableFields, settleNumberFields } from '../../src/core/object-layout.js';
import { ObservedEndpoint, PassiveObserver } from '../../src/core/observer.js';
import { LINUX_PROFILE } from '../../src/core/profile.js';

class Sample {
  seq = 0;
  label = 'x';
}

describe('settleNumberFields', () => {
  it('names the class and the field when the field is missing or not a number (a renamed field fails at load)', () => {
    expect(() => settleNumberFields(new Sample(), ['sequence'])).toThrow(/Sample has no number field sequence/);
    expect(() => settleNumberFields(new Sample(), ['label'])).toThrow(/Sample has no number field label/);
  });

  it('changes only the throwaway object: new objects keep their initial values', () => {
    const s = new Sample();
    settleNumberFields(s, ['seq']);
    expect(s.seq).not.toBe(0);
    expect(new Sample().seq).toBe(0);
    // The observer module settled its fields at load; fresh objects start as before.
    const e = new ObservedEndpoint('resp');
    expect([e.iss, e.nxt, e.finSeq, e.timeWaitDeadline, e.lastSynAt, e.gapAt]).toEqual([0, 0, 0, -1, -1, -1]);
    const o = new PassiveObserver(LINUX_PROFILE, { recording: false, transition: () => undefined });
    expect([o.synAckAt, o.handshakeRttMs, o.synAckRttMs]).toEqual([-1, -1, -1]);
  });
});

describe('settleMutableFields', () => {
  it('leaves every field of the object as it was, the same typed array and object included', () => {
    const table = new Int32Array([7, 8]);
    const child = { x: 1 };
    const o = { n: 0, m: -1.5, yes: true, no: false, text: 'ipv4', empty: '', table, child, none: null };
    settleMutableFields(o);
    expect(o).toEqual({ n: 0, m: -1.5, yes: true, no: false, text: 'ipv4', empty: '', table: new Int32Array([7, 8]), child: { x: 1 }, none: null });
    expect(o.table).toBe(table);
    expect(o.child).toBe(child);
  });
});

describe('objectArray', () => {
  it('is empty and already an array of objects for V8 (where [] is one of small integers)', () => {
    const a = objectArray<{ n: number }>();
    expect(a).toEqual([]);
    a.push({ n: 1 });
    expect(a).toEqual([{ n: 1 }]);
    const built = fileURLToPath(new URL('../../dist/core/object-layout.js', import.meta.url));
    const script = `const { objectArray } = await import(${JSON.stringify(built)}); console.log(%HasObjectElements(objectArray()), %HasObjectElements([]));`;
    const r = spawnSync(process.execPath, ['--allow-natives-syntax', '--input-type=module', '-e', script], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.stdout.trim()).toBe('true false');
  });
});

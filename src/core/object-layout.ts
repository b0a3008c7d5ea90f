/**
 * Objects given their final layout before real work, so that V8 compiles the code that
 * uses them once (no I/O, no clock: only how objects are laid out in memory).
 *
 * Number fields (`settleNumberFields`): V8 stores a field that first held a small
 * integer as one, until a number outside that range arrives (a sequence number past
 * 2^31, a time in milliseconds since 1970, an IPv4 address from 128.0.0.0 up). Then it
 * changes the object layout: optimised code built for the old layout is thrown away, and
 * every object made before is migrated when next touched. In a capture that happens a
 * few seconds in, after thousands of connection objects exist, and cost tens of
 * deoptimisations (41 on the bench file, 13 after this). Storing such a number into a
 * throwaway object at load time settles the layout that every later object of the class
 * gets. Fields written again (`settleMutableFields`) and arrays of objects
 * (`objectArray`): below.
 */

/** Not a small integer in any V8 build: the field becomes a double field. */
const NOT_SMALL = 0.5;

/** Makes each named number field of `o`'s class a double field; throws when `o` has no such field (a renamed field). */
export function settleNumberFields(o: object, fields: readonly string[]): void {
  const r = o as Record<string, unknown>;
  for (const f of fields) {
    if (typeof r[f] !== 'number') throw new Error(`settleNumberFields: ${o.constructor.name} has no number field ${f}`);
    r[f] = NOT_SMALL;
  }
}

/**
 * Makes the fields of `o`'s class mutable before it does real work. V8 treats a field
 * that was only ever written by the constructor as constant, and optimised code may rely
 * on that; the first later write of another value (a connection object reused, a table
 * grown, a flag set at the end) throws that code away and makes V8 compile it again.
 * On the bench file that was 14 recompilations of the largest functions, while both
 * processors were busy. Writing another value and then the old one settles it: into a
 * throwaway object at load time, or into the one object of a class when it is made.
 * Numbers, booleans, strings and typed arrays (an empty one of the same kind in
 * between); other object fields are left as they are, since an object of another kind
 * would widen the field's type.
 */
export function settleMutableFields(o: object): void {
  const r = o as Record<string, unknown>;
  for (const f of Object.keys(r)) {
    const v = r[f];
    if (typeof v === 'number') r[f] = v === 0 ? 1 : 0;
    else if (typeof v === 'boolean') r[f] = !v;
    else if (typeof v === 'string') r[f] = v === '' ? ' ' : '';
    else if (ArrayBuffer.isView(v) && !(v instanceof DataView)) r[f] = new (v.constructor as new (length: number) => ArrayBufferView)(0);
    else continue;
    r[f] = v;
  }
}

/**
 * An empty array that V8 already takes for an array of objects: an array made empty
 * (`[]`) is first an array of small integers, and its first object changes its layout,
 * which throws away the optimised code that used it while it was still empty.
 */
export function objectArray<T>(): T[] {
  const a: unknown[] = [{}];
  a.pop();
  return a as T[];
}

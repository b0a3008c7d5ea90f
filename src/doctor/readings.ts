/** Reading the values doctor rules take from an observation: sysctl text, counter deltas. */

export function sysctlNumber(v: string | null | undefined): number | null {
  if (v === null || v === undefined) return null;
  const x = Number(v.trim());
  return Number.isFinite(x) ? x : null;
}

/** Counter increase between two observations (null without sampling or when unknown). */
export function counterDelta(
  before: { readonly tcpExt: Readonly<Record<string, number>> } | null,
  now: { readonly tcpExt: Readonly<Record<string, number>> },
  name: string,
): number | null {
  if (before === null) return null;
  const a = before.tcpExt[name];
  const b = now.tcpExt[name];
  if (a === undefined || b === undefined) return null;
  return Math.max(0, b - a);
}

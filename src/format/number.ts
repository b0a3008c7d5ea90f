/**
 * Numbers for people: thousands separators, shares, byte sizes, rates. Shared by the CLI
 * renderers and the doctor's findings.
 */

/**
 * 12345 → "12,345". Written out because the first toLocaleString() call loads ICU data,
 * which costs tens of milliseconds of a command that must beat `ss`.
 */
export function n(x: number): string {
  if (!Number.isFinite(x)) return String(x);
  const sign = x < 0 ? '-' : '';
  const [int = '0', frac] = Math.abs(x).toString().split('.');
  let out = '';
  for (let i = int.length; i > 0; i -= 3) out = int.slice(Math.max(0, i - 3), i) + (out === '' ? '' : `,${out}`);
  return sign + out + (frac !== undefined ? `.${frac}` : '');
}

/** 0.4567 → "46%" (one decimal below 10%). */
export function pct(share: number): string {
  const p = share * 100;
  return `${p < 10 && p > 0 ? p.toFixed(1) : Math.round(p)}%`;
}

export function bytes(b: number): string {
  if (b < 1024) return `${b} B`;
  if (b < 1024 * 1024) return `${(b / 1024).toFixed(1)} KiB`;
  return `${(b / 1024 / 1024).toFixed(1)} MiB`;
}

/** A per-second rate with sensible precision. */
export function rate(x: number): string {
  return x >= 10 ? String(Math.round(x)) : x.toFixed(1);
}

/**
 * Bounded top-k counting (the Space-Saving algorithm, Metwally et al. 2005): at most
 * `capacity` keys are tracked; when a new key arrives at a full table it replaces the
 * smallest counter and inherits its count as possible overestimate (`error`).
 * Memory stays fixed however many distinct keys stream past.
 *
 * Limitations: counts of keys that were evicted and came back are overestimated by at
 * most `error`; any key whose true count exceeds total/capacity is guaranteed present.
 */
export interface TopEntry<K> {
  readonly key: K;
  readonly count: number;
  /** Upper bound of the overestimate (0 when exact). */
  readonly error: number;
}

export class TopK<K> {
  private readonly counts = new Map<K, { count: number; error: number }>();
  private evicted = false;

  constructor(private readonly capacity: number) {}

  add(key: K): void {
    const hit = this.counts.get(key);
    if (hit !== undefined) {
      hit.count++;
      return;
    }
    if (this.counts.size < this.capacity) {
      this.counts.set(key, { count: 1, error: 0 });
      return;
    }
    let minKey: K | undefined;
    let min = Infinity;
    for (const [k, v] of this.counts) {
      if (v.count < min) {
        min = v.count;
        minKey = k;
      }
    }
    if (minKey !== undefined) this.counts.delete(minKey);
    this.evicted = true;
    this.counts.set(key, { count: min + 1, error: min });
  }

  /** True when some counts may be overestimates. */
  get approximate(): boolean {
    return this.evicted;
  }

  top(n: number): TopEntry<K>[] {
    return [...this.counts]
      .map(([key, v]) => ({ key, count: v.count, error: v.error }))
      .sort((a, b) => b.count - a.count || (String(a.key) < String(b.key) ? -1 : 1))
      .slice(0, n);
  }
}

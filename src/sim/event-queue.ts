/**
 * A binary min-heap of timed events. Ties are broken by insertion order, so a run is
 * deterministic: what was scheduled first at the same instant happens first.
 */
export interface Timed {
  readonly time: number;
}

interface Entry<T> {
  time: number;
  order: number;
  item: T;
}

export class EventQueue<T extends Timed> {
  private readonly heap: Entry<T>[] = [];
  private counter = 0;

  get size(): number {
    return this.heap.length;
  }

  push(item: T): void {
    const e: Entry<T> = { time: item.time, order: this.counter++, item };
    const h = this.heap;
    h.push(e);
    let i = h.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const p = h[parent] as Entry<T>;
      if (!before(e, p)) break;
      h[i] = p;
      i = parent;
    }
    h[i] = e;
  }

  peekTime(): number | undefined {
    return this.heap[0]?.time;
  }

  pop(): T | undefined {
    const h = this.heap;
    const top = h[0];
    if (top === undefined) return undefined;
    const last = h.pop() as Entry<T>;
    if (h.length > 0) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= h.length) break;
        const r = l + 1;
        const rEntry = h[r];
        let c = l;
        if (rEntry !== undefined && before(rEntry, h[l] as Entry<T>)) c = r;
        const child = h[c] as Entry<T>;
        if (!before(child, last)) break;
        h[i] = child;
        i = c;
      }
      h[i] = last;
    }
    return top.item;
  }
}

function before<T>(a: Entry<T>, b: Entry<T>): boolean {
  return a.time < b.time || (a.time === b.time && a.order < b.order);
}

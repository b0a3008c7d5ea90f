/**
 * Live TCP transitions as a library: an async iterator over every state change the kernel
 * makes (and every reset), from the tracefs tracepoints.
 *
 * ```ts
 * const ac = new AbortController();
 * const stream = traceTransitions({ filter: parseFilter('dport = :443'), signal: ac.signal });
 * for await (const e of stream) console.log(e.from, '→', e.to, e.inStateMs);
 * console.log('lost', stream.stats().lost);
 * ```
 *
 * Needs root (tracefs); throws {@link TraceError} (`E_TRACE_PRIVILEGE`,
 * `E_TRACE_UNAVAILABLE`, ...) from the first `next()` when it cannot start. The trace
 * instance is removed when iteration ends for any reason (abort, break, throw).
 */
import type { Filter } from '../filter/index.js';
import { compileExpr } from '../filter/evaluate.js';
import { filterableRecord } from '../records/socket.js';
import { STATE_INFO } from '../core/states.js';
import { DEFAULT_BUFFER_KB, TraceError, TraceInstance } from '../sources/tracefs.js';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { checkEventFormat, TraceLineParser } from '../wire/trace-line.js';
import type { TransitionEvent } from './event.js';
import { compileKernelFilter, type KernelFilters } from './kernel-filter.js';
import { TransitionTracker } from './tracker.js';

export type { TransitionEvent, TraceEventKind } from './event.js';
export { transitionJson, isoMicros } from './event.js';
export { TransitionTracker, RESET_WINDOW_US } from './tracker.js';
export { compileKernelFilter, type KernelFilters } from './kernel-filter.js';
export { SummaryAggregator, DurationHistogram, type TraceSummary, type Distribution, type LifetimeRecord, type Outcome } from './summary.js';
export { TraceError } from '../sources/tracefs.js';

export interface TraceOptions {
  /** ss filter: ports compile into the kernel's event filter, the whole filter runs here. */
  readonly filter?: Filter | null;
  readonly signal?: AbortSignal;
  /** Per-CPU ring buffer, KiB (default 8192). */
  readonly bufferKb?: number;
  /** Idle poll interval of trace_pipe, ms (default 20). */
  readonly pollMs?: number;
  /** Called once the instance runs (before the first event). */
  readonly onStart?: (info: TraceStartInfo) => void;
}

export interface TraceStartInfo {
  readonly instance: string;
  readonly kernelFilter: KernelFilters;
  readonly staleRemoved: readonly string[];
  readonly events: readonly string[];
}

export interface TraceStats {
  /** Events the kernel overwrote before we read them (per-CPU overrun counters). */
  readonly lost: number;
  /** Lines read and parsed into events. */
  readonly lines: number;
  /** Lines not understood (never guessed at). */
  readonly unparsed: number;
  /** Events yielded (after the userspace filter). */
  readonly yielded: number;
  readonly instance: string | null;
}

export interface TraceStream extends AsyncIterable<TransitionEvent> {
  stats(): TraceStats;
  /**
   * The same events in arrays, one per read of the trace pipe (the array is the
   * consumer's): one await per batch instead of one per event, for high rates.
   */
  batches(): AsyncIterable<readonly TransitionEvent[]>;
}

/** A predicate over events from the filter: state set on `from`/`to`, expression on the addresses. */
export function eventPredicate(filter: Filter | null | undefined): (e: TransitionEvent) => boolean {
  if (filter === null || filter === undefined) return () => true;
  const expr = filter.ast.expr === null ? null : compileExpr(filter.ast.expr);
  const mask = filter.stateMask;
  const states = filter.statesGiven;
  const inMask = (s: TransitionEvent['from']): boolean => s !== null && ((mask >>> STATE_INFO[s].linux) & 1) === 1;
  return (e) => {
    if (states && !inMask(e.from) && !inMask(e.to)) return false;
    if (expr === null) return true;
    const state = e.to ?? e.from ?? 'CLOSED';
    return expr(filterableRecord(state, STATE_INFO[state].linux, e.family, e.local, e.remote));
  };
}

function monoNowUs(): number {
  return Number(process.hrtime.bigint() / 1000n);
}

const sleep = (ms: number, signal: AbortSignal | undefined): Promise<void> =>
  new Promise((resolve) => {
    if (signal?.aborted === true) return resolve();
    const t = setTimeout(done, ms);
    function done(): void {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });

/** Read buffer: trace_pipe answers a page per read; one cycle takes up to this much text. */
const READ_BUFFER = 1 << 20;
/** While data keeps coming, let timers and signals run at least this often (ms). */
const TURN_MS = 50;

/** Streams transition events until `signal` aborts or the consumer stops. */
export function traceTransitions(options: TraceOptions = {}): TraceStream {
  let lost = 0;
  let lines = 0;
  let unparsed = 0;
  let yielded = 0;
  let current: TraceInstance | null = null;
  const fullCheck = eventPredicate(options.filter);

  async function* run(): AsyncGenerator<TransitionEvent[]> {
    const kernelFilter = compileKernelFilter(options.filter?.ast.expr ?? null);
    // When the kernel's filter is the whole expression (and no state set is given), only
    // tcp_send_reset (which the kernel cannot filter) needs the check here.
    const pass =
      kernelFilter.exact && options.filter?.statesGiven !== true ? (e: TransitionEvent): boolean => e.event !== 'rst-sent' || fullCheck(e) : fullCheck;
    const inst = TraceInstance.create({
      bufferKb: options.bufferKb ?? DEFAULT_BUFFER_KB,
      filters: { setState: kernelFilter.setState, receiveReset: kernelFilter.receiveReset },
    });
    current = inst;
    try {
      for (const ev of inst.enabled) {
        const problem = checkEventFormat(
          ev === 'setState' ? 'inet_sock_set_state' : ev === 'sendReset' ? 'tcp_send_reset' : 'tcp_receive_reset',
          inst.format(ev),
        );
        if (problem !== null) throw new TraceError('E_TRACE_FORMAT', `unexpected tracepoint format on this kernel: ${problem}`);
      }
      options.onStart?.({ instance: inst.path, kernelFilter, staleRemoved: inst.staleRemoved, events: inst.enabled });
      const offsetMs = Date.now() - monoNowUs() / 1000;
      let out: TransitionEvent[] = [];
      const tracker = new TransitionTracker({ toWallMs: (us) => offsetMs + us / 1000 }, (e) => {
        if (pass(e)) out.push(e);
      });
      const parser = new TraceLineParser();
      const record = parser.record;
      const buf = Buffer.allocUnsafe(READ_BUFFER);
      /** Bytes of an incomplete last line kept at the start of `buf`. */
      let kept = 0;
      /** Reads what trace_pipe has, feeds every complete line; returns whether anything came. */
      const cycle = (): boolean => {
        const end = inst.readAvailable(buf, kept);
        if (end === kept) return false;
        let start = 0;
        for (;;) {
          const nl = buf.indexOf(10, start);
          if (nl < 0 || nl >= end) break;
          if (nl > start) {
            if (parser.parse(buf, start, nl)) {
              lines++;
              tracker.pushRecord(record);
            } else unparsed++;
          }
          start = nl + 1;
        }
        kept = end - start;
        if (kept > READ_BUFFER / 2) {
          // No newline in half a megabyte: not a trace line; drop it.
          unparsed++;
          kept = 0;
        } else if (kept > 0) buf.copyWithin(0, start, end);
        return true;
      };
      const pollMs = options.pollMs ?? 20;
      const signal = options.signal;
      let lastLostCheck = 0;
      let lastTurn = Date.now();
      while (signal?.aborted !== true) {
        const got = cycle();
        if (!got) tracker.flush(monoNowUs());
        if (out.length > 0) {
          const batch = out;
          out = [];
          yield batch;
        }
        const now = Date.now();
        if (now - lastLostCheck > 1000) {
          lastLostCheck = now;
          lost = inst.lost();
        }
        if (!got) {
          await sleep(pollMs, signal);
          lastTurn = Date.now();
        } else if (now - lastTurn >= TURN_MS) {
          // A long burst: let timers (--interval) and signals (Ctrl-C) through.
          await nextTurn();
          lastTurn = Date.now();
        }
      }
      // Drain what is already buffered, then release held events.
      for (let cycles = 0; cycles < 64 && cycle(); cycles++);
      lost = inst.lost();
      tracker.flush();
      if (out.length > 0) {
        const batch = out;
        out = [];
        yield batch;
      }
    } finally {
      lost = inst.isLive ? inst.lost() : lost;
      inst.remove();
    }
  }

  return {
    async *[Symbol.asyncIterator]() {
      for await (const batch of run()) {
        for (const e of batch) {
          yielded++;
          yield e;
        }
      }
    },
    async *batches() {
      for await (const batch of run()) {
        yielded += batch.length;
        yield batch;
      }
    },
    stats: () => ({ lost: current !== null && current.isLive ? current.lost() : lost, lines, unparsed, yielded, instance: current?.path ?? null }),
  };
}

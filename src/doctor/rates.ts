/**
 * Extension point for transition rates measured from a kernel trace
 * (tracepoint `sock:inet_sock_set_state`), rather than estimated from TIME_WAIT counts
 * and counter deltas.
 *
 * Nothing implements `TransitionRateSource` yet: when the trace module exports an async
 * iterator of transition events, an adapter counting them over the sample window can
 * fill `RuleInput.traceRates`, behind a `doctor --trace` flag. Until then doctor passes
 * null and every rule works from snapshots and counters alone.
 */
import type { TcpState } from '../core/states.js';

export interface TransitionRates {
  /** Seconds the trace ran. */
  readonly seconds: number;
  /** Transitions per second into each state. */
  readonly intoPerSecond: Readonly<Partial<Record<TcpState, number>>>;
}

export interface TransitionRateSource {
  /** Measures for `seconds` (in the namespace the snapshot reads) and returns the rates. */
  measure(seconds: number, netns: string | undefined): Promise<TransitionRates>;
}

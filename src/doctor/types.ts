/**
 * The doctor's vocabulary: a rule looks at what was observed (one snapshot, or two taken
 * `--sample` seconds apart) and returns at most one finding with evidence and advice.
 */
import type { DoctorTexts } from './texts-en.js';
import type { Observation } from './observe.js';
import type { TransitionRates } from './rates.js';
import type { RuleId, Thresholds } from './thresholds.js';

export type Severity = 'info' | 'warning' | 'critical';

export const SEVERITY_RANK: Readonly<Record<Severity | 'ok', number>> = { ok: 0, info: 1, warning: 2, critical: 3 };

/** A small table of evidence: the kernel's and ss's vocabulary, shown as is in every language. */
export interface EvidenceTable {
  readonly title: string;
  readonly columns: readonly string[];
  readonly rows: readonly (readonly (string | number)[])[];
}

export interface Evidence {
  /** The figures the verdict rests on, for machines (camelCase keys, numbers or null when unknown). */
  readonly facts: Readonly<Record<string, number | string | null>>;
  /** The same evidence for people: small tables. */
  readonly tables: readonly EvidenceTable[];
}

export interface Finding {
  readonly rule: RuleId;
  readonly severity: Severity;
  readonly title: string;
  readonly evidence: Evidence;
  readonly advice: readonly string[];
}

/** What every rule sees. */
export interface RuleInput {
  /** The (second) observation. */
  readonly now: Observation;
  /** The first observation when sampling, null for a single look. */
  readonly before: Observation | null;
  /** Seconds between the two observations (0 without sampling). */
  readonly seconds: number;
  /**
   * Transition rates from a kernel trace, when a trace source is wired in (see
   * `TransitionRateSource` in ./rates.ts); null otherwise. No rule needs it to fire.
   */
  readonly traceRates: TransitionRates | null;
}

/** The one small interface every rule implements (one file per rule in ./rules/). */
export interface Rule<K extends RuleId = RuleId> {
  readonly id: K;
  check(input: RuleInput, thresholds: Thresholds[K], texts: DoctorTexts): Finding | null;
}

/** The most severe of several conditions, or null when none holds. */
export function worst(...levels: readonly (Severity | null)[]): Severity | null {
  let best: Severity | null = null;
  for (const l of levels) if (l !== null && (best === null || SEVERITY_RANK[l] > SEVERITY_RANK[best])) best = l;
  return best;
}

/** Severity by a count against info/warning/critical levels. */
export function byLevels(value: number, levels: { readonly info?: number; readonly warning: number; readonly critical: number }): Severity | null {
  if (value >= levels.critical) return 'critical';
  if (value >= levels.warning) return 'warning';
  if (levels.info !== undefined && value >= levels.info && value > 0) return 'info';
  return null;
}

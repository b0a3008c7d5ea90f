/**
 * The one-line verdict of `tcpstate` (summary): the doctor's rule engine (src/doctor/)
 * run once on the same snapshot, with its default thresholds, no sampling and no
 * process lookup. The verdict is the most severe finding's title; `reasons` lists every
 * finding, most severe first. `tcpstate doctor` shows the same findings with evidence
 * and advice, and can sample to see growth.
 *
 * Limitations: one snapshot cannot tell growth from a steady state, and kernel counters
 * are cumulative since boot, so counters alone raise only `info`.
 */
import { diagnoseOnce } from '../doctor/engine.js';
import type { Observation } from '../doctor/observe.js';
import type { RuleId } from '../doctor/thresholds.js';
import { SEVERITY_RANK } from '../doctor/types.js';

export type Severity = 'ok' | 'info' | 'warning' | 'critical';

export interface Verdict {
  readonly severity: Severity;
  readonly text: string;
  /** Every finding, most severe first (`rule` is the doctor rule id). */
  readonly reasons: readonly { readonly severity: Severity; readonly text: string; readonly rule: RuleId }[];
}

export function quickVerdict(observation: Observation): Verdict {
  const d = diagnoseOnce(observation);
  const reasons = d.findings.map((f) => ({ severity: f.severity, text: f.title, rule: f.rule }));
  const top = reasons[0];
  if (top === undefined) return { severity: 'ok', text: 'OK: nothing unusual in this snapshot', reasons };
  const rest = reasons.length > 1 ? ` (+${reasons.length - 1} more)` : '';
  const hint = SEVERITY_RANK[top.severity] >= SEVERITY_RANK.warning ? ' — run `tcpstate doctor` for evidence and advice' : '';
  return { severity: top.severity, text: `${top.severity.toUpperCase()}: ${top.text}${rest}${hint}`, reasons };
}

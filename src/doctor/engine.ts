/**
 * The rule engine: runs every enabled rule over one observation (or two, `--sample`),
 * orders the findings by severity, and maps the worst to a monitoring-plugin exit code
 * (0 OK, 1 warning, 2 critical, 3 unknown; info findings leave it at 0).
 */
import { loadDoctorConfig, type DoctorConfig } from './config.js';
import type { Observation } from './observe.js';
import { RULES } from './rules/index.js';
import { DOCTOR_TEXTS_EN, type DoctorTexts } from './texts-en.js';
import { DOCTOR_TEXTS_ZH } from './texts-zh.js';
import { RULE_IDS, type RuleId } from './thresholds.js';
import { SEVERITY_RANK, type Finding, type RuleInput, type Severity } from './types.js';

export type Overall = 'ok' | Severity;

export interface Diagnosis {
  readonly findings: readonly Finding[];
  readonly checked: readonly RuleId[];
  readonly sampledSeconds: number;
  readonly severity: Overall;
}

export const EXIT_OK = 0;
export const EXIT_WARNING = 1;
export const EXIT_CRITICAL = 2;
export const EXIT_UNKNOWN = 3;

export function textsFor(lang: 'en' | 'zh'): DoctorTexts {
  return lang === 'zh' ? DOCTOR_TEXTS_ZH : DOCTOR_TEXTS_EN;
}

function runRule<K extends RuleId>(id: K, input: RuleInput, config: DoctorConfig, texts: DoctorTexts): Finding | null {
  const rule = RULES[id];
  return rule.check(input, config.thresholds[id], texts);
}

export function diagnose(input: RuleInput, config: DoctorConfig = loadDoctorConfig(), texts: DoctorTexts = DOCTOR_TEXTS_EN): Diagnosis {
  const findings: Finding[] = [];
  const checked: RuleId[] = [];
  for (const id of RULE_IDS) {
    if (config.disabled.has(id)) continue;
    checked.push(id);
    const f = runRule(id, input, config, texts);
    if (f !== null) findings.push(f);
  }
  // Stable: most severe first, then in rule order.
  const order = (f: Finding): number => RULE_IDS.indexOf(f.rule);
  findings.sort((a, b) => SEVERITY_RANK[b.severity] - SEVERITY_RANK[a.severity] || order(a) - order(b));
  const top = findings[0];
  return { findings, checked, sampledSeconds: input.seconds, severity: top === undefined ? 'ok' : top.severity };
}

/** One look, no sampling: what the summary's verdict uses. */
export function diagnoseOnce(now: Observation, config?: DoctorConfig, texts?: DoctorTexts): Diagnosis {
  return diagnose({ now, before: null, seconds: 0, traceRates: null }, config, texts);
}

export function exitCodeFor(severity: Overall): number {
  return severity === 'critical' ? EXIT_CRITICAL : severity === 'warning' ? EXIT_WARNING : EXIT_OK;
}

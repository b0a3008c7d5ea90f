/**
 * Doctor configuration: thresholds from a JSON file (`--config FILE`) and from flags
 * (`--set rule.key=value`, applied after the file), and rules to leave out.
 *
 *   { "thresholds": { "time-wait-pileup": { "warning": 20000 } },
 *     "disable": ["syn-sent-stalled"] }
 *
 * Every mistake is an error that names the file or flag and the key, and lists what is
 * accepted; the CLI exits 3 (unknown) on it, as monitoring plugins do.
 */
import { readFileSync } from 'node:fs';
import { TcpstateError } from '../core/errors.js';
import { cloneThresholds, DEFAULT_THRESHOLDS, isRuleId, RULE_IDS, THRESHOLD_DOCS, type RuleId, type ThresholdKind, type Thresholds } from './thresholds.js';

export class DoctorConfigError extends TcpstateError {
  constructor(message: string) {
    super('E_DOCTOR_CONFIG', message);
  }
}

export interface DoctorConfig {
  readonly thresholds: Thresholds;
  readonly disabled: ReadonlySet<RuleId>;
}

function keysOf(rule: RuleId): string[] {
  return Object.keys(THRESHOLD_DOCS[rule]);
}

function kindOf(rule: RuleId, key: string): ThresholdKind | null {
  const d = (THRESHOLD_DOCS[rule] as Readonly<Record<string, { kind: ThresholdKind }>>)[key];
  return d === undefined ? null : d.kind;
}

function setOne(t: Thresholds, where: string, rule: string, key: string, value: unknown): void {
  if (!isRuleId(rule)) throw new DoctorConfigError(`${where}: unknown rule "${rule}"; rules are ${RULE_IDS.join(', ')}`);
  const kind = kindOf(rule, key);
  if (kind === null) throw new DoctorConfigError(`${where}: unknown threshold "${rule}.${key}"; ${rule} has ${keysOf(rule).join(', ')}`);
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new DoctorConfigError(`${where}: "${rule}.${key}" must be a number, got ${JSON.stringify(value)}`);
  }
  if (kind === 'count' && (!Number.isInteger(value) || value < 0)) {
    throw new DoctorConfigError(`${where}: "${rule}.${key}" is a count: a whole number ≥ 0, got ${value}`);
  }
  if (kind === 'share' && !(value > 0 && value <= 1)) {
    throw new DoctorConfigError(`${where}: "${rule}.${key}" is a share: a number above 0 and at most 1 (0.8 = 80%), got ${value}`);
  }
  (t[rule] as Record<string, number>)[key] = value;
}

function checkOrder(t: Thresholds, where: string): void {
  for (const rule of RULE_IDS) {
    const v = t[rule] as Readonly<Record<string, number>>;
    const ladder = ['info', 'warning', 'critical'].filter((k) => v[k] !== undefined);
    for (let i = 1; i < ladder.length; i++) {
      const lo = ladder[i - 1] as string;
      const hi = ladder[i] as string;
      if ((v[lo] ?? 0) > (v[hi] ?? 0)) {
        throw new DoctorConfigError(`${where}: "${rule}.${lo}" (${v[lo]}) must not exceed "${rule}.${hi}" (${v[hi]})`);
      }
    }
    for (const [lo, hi] of [['bucketsWarning', 'bucketsCritical']] as const) {
      if (v[lo] !== undefined && v[hi] !== undefined && v[lo] > v[hi]) {
        throw new DoctorConfigError(`${where}: "${rule}.${lo}" (${v[lo]}) must not exceed "${rule}.${hi}" (${v[hi]})`);
      }
    }
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Applies a parsed config document (from `source`, for messages) onto `t`; returns the rules it disables. */
export function applyConfigDocument(doc: unknown, source: string, t: Thresholds): Set<RuleId> {
  const disabled = new Set<RuleId>();
  if (!isObject(doc)) throw new DoctorConfigError(`${source}: expected a JSON object like {"thresholds": {...}, "disable": [...]}`);
  for (const key of Object.keys(doc)) {
    if (key !== 'thresholds' && key !== 'disable') {
      throw new DoctorConfigError(`${source}: unknown key "${key}"; a config has "thresholds" and "disable"`);
    }
  }
  const th = doc['thresholds'];
  if (th !== undefined) {
    if (!isObject(th)) throw new DoctorConfigError(`${source}: "thresholds" must be an object of rule → { key: number }`);
    for (const [rule, values] of Object.entries(th)) {
      if (!isObject(values)) {
        if (!isRuleId(rule)) throw new DoctorConfigError(`${source}: unknown rule "${rule}" in thresholds; rules are ${RULE_IDS.join(', ')}`);
        throw new DoctorConfigError(`${source}: thresholds."${rule}" must be an object like {"warning": 100}`);
      }
      for (const [key, value] of Object.entries(values)) setOne(t, source, rule, key, value);
    }
  }
  const dis = doc['disable'];
  if (dis !== undefined) {
    if (!Array.isArray(dis)) throw new DoctorConfigError(`${source}: "disable" must be an array of rule ids`);
    for (const r of dis) {
      if (typeof r !== 'string' || !isRuleId(r)) {
        throw new DoctorConfigError(`${source}: unknown rule ${JSON.stringify(r)} in "disable"; rules are ${RULE_IDS.join(', ')}`);
      }
      disabled.add(r);
    }
  }
  return disabled;
}

/** Parses one `--set rule.key=value`. */
export function applySetFlag(text: string, t: Thresholds): void {
  const m = /^([a-z0-9-]+)\.([A-Za-z0-9]+)=(.+)$/.exec(text.trim());
  if (m === null) throw new DoctorConfigError(`--set "${text}": expected rule.key=value, e.g. --set close-wait-leak.warning=100`);
  const [, rule = '', key = '', raw = ''] = m;
  const value = raw.trim() === '' ? NaN : Number(raw.trim().replace(/_/g, ''));
  if (!Number.isFinite(value)) throw new DoctorConfigError(`--set "${text}": "${rule}.${key}" must be a number, got "${raw}"`);
  setOne(t, `--set "${text}"`, rule, key, value);
}

export interface ConfigSources {
  readonly file?: string | undefined;
  readonly sets?: readonly string[] | undefined;
  /** Reads a file (for tests); defaults to readFileSync. */
  readonly read?: (path: string) => string;
}

export function loadDoctorConfig(src: ConfigSources = {}): DoctorConfig {
  const t = cloneThresholds(DEFAULT_THRESHOLDS);
  let disabled = new Set<RuleId>();
  if (src.file !== undefined) {
    let text: string;
    try {
      text = (src.read ?? ((p: string) => readFileSync(p, 'utf8')))(src.file);
    } catch (err: unknown) {
      throw new DoctorConfigError(`--config ${src.file}: cannot read it: ${err instanceof Error ? err.message : String(err)}`);
    }
    let doc: unknown;
    try {
      doc = JSON.parse(text);
    } catch (err: unknown) {
      throw new DoctorConfigError(`--config ${src.file}: not valid JSON: ${err instanceof Error ? err.message : String(err)}`);
    }
    disabled = applyConfigDocument(doc, `--config ${src.file}`, t);
    checkOrder(t, `--config ${src.file}`);
  }
  for (const s of src.sets ?? []) applySetFlag(s, t);
  if ((src.sets ?? []).length > 0) checkOrder(t, '--set');
  return { thresholds: t, disabled };
}

/**
 * `tcpstate doctor [--sample SECONDS] [--json] [--config FILE] [--set rule.key=value]...`
 *
 * Runs the rule engine (src/doctor/) over the snapshot, the kernel counters and the
 * sysctls, and prints findings with evidence and advice. With `--sample`, two
 * snapshots SECONDS apart show growth: counter deltas, per-process CLOSE_WAIT growth,
 * connection rates.
 *
 * Exit codes follow the monitoring-plugin convention (Nagios, Icinga, cron wrappers):
 * 0 OK (no finding, or info only), 1 warning, 2 critical, 3 unknown — which includes
 * every usage error (bad flag, bad config, unknown threshold) and every failure to
 * look (a namespace that cannot be entered), so a monitor never mistakes them for OK.
 *
 * Extension point: transition rates from a kernel trace would be passed as
 * `traceRates` (see src/doctor/rates.ts); nothing supplies them yet.
 */
import { type Command, CommanderError, Option } from 'commander';
import { loadDoctorConfig } from '../doctor/config.js';
import { diagnose, EXIT_UNKNOWN, exitCodeFor, textsFor } from '../doctor/engine.js';
import { observe, type Observation } from '../doctor/observe.js';
import { renderDiagnosis } from '../doctor/render.js';
import { thresholdRows } from '../doctor/thresholds.js';
import { BadOptionError } from '../core/errors.js';
import { chooseLang, colours, printJson } from './output.js';
import { addSnapshotOptions, baseSnapshotOptions, printNotices, type SnapshotFlags } from './snapshot-options.js';

interface DoctorFlags extends SnapshotFlags {
  readonly json?: boolean;
  readonly sample?: string;
  readonly config?: string;
  readonly set?: readonly string[];
  readonly lang?: string;
  readonly thresholds?: boolean;
}

const MAX_SAMPLE_SECONDS = 3600;

function parseSample(text: string | undefined): number {
  if (text === undefined) return 0;
  const s = Number(text);
  if (!Number.isFinite(s) || s <= 0 || s > MAX_SAMPLE_SECONDS) {
    throw new BadOptionError('--sample', text, `a number of seconds above 0 and at most ${MAX_SAMPLE_SECONDS}`);
  }
  return s;
}

function collect(value: string, previous: readonly string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

function unknown(message: string): never {
  process.stderr.write(`tcpstate doctor: ${message}\n`);
  process.exit(EXIT_UNKNOWN);
}

async function run(flags: DoctorFlags): Promise<number> {
  const lang = chooseLang(flags.lang);
  const config = loadDoctorConfig({ file: flags.config, sets: flags.set });
  if (flags.thresholds === true) {
    const rows = thresholdRows(config.thresholds);
    if (flags.json === true) printJson(rows);
    else {
      const w = Math.max(...rows.map((r) => r.key.length));
      for (const r of rows) process.stdout.write(`${r.key.padEnd(w)}  ${String(r.value).padStart(6)}  ${r.kind.padEnd(5)}  ${r.meaning}\n`);
    }
    return 0;
  }
  const seconds = parseSample(flags.sample);
  const snapshot = baseSnapshotOptions(flags);
  const started = performance.now();
  let before: Observation | null = null;
  if (seconds > 0) {
    before = observe({ snapshot, processes: true }).observation;
    await new Promise((r) => setTimeout(r, seconds * 1000));
  }
  const { observation: now, report } = observe({ snapshot, processes: true });
  const texts = textsFor(lang);
  const d = diagnose({ now, before, seconds, traceRates: null }, config, texts);
  const ms = Math.round((performance.now() - started - seconds * 1000) * 10) / 10;
  printNotices(report.notices);
  if (flags.json === true) {
    printJson({
      findings: d.findings,
      checked: d.checked,
      sampledSeconds: d.sampledSeconds,
      severity: d.severity,
      sockets: now.total,
      netns: report.namespaces,
      source: report.source,
      ms,
    });
  } else {
    const where = flags.netns ?? '';
    process.stdout.write(renderDiagnosis(d, { sockets: now.total, where }, texts, colours()).join('\n') + '\n');
  }
  return exitCodeFor(d.severity);
}

export function register(program: Command): void {
  const cmd = program
    .command('doctor')
    .description('diagnose TCP state trouble: findings with evidence and advice (exit 0 OK, 1 warning, 2 critical, 3 unknown)')
    .option('--json', 'print { findings, checked, sampledSeconds, severity, sockets, netns, source, ms }')
    .option('--sample <seconds>', 'take two snapshots this far apart to see growth (counter deltas, CLOSE_WAIT growth per process)')
    .option('--config <file>', 'JSON thresholds: {"thresholds": {"rule": {"key": number}}, "disable": ["rule"]}')
    .option('--set <rule.key=value>', 'override one threshold (repeatable), e.g. --set close-wait-leak.warning=100', collect)
    .addOption(new Option('--lang <lang>', 'language of titles and advice: en or zh (default: from LANG)'))
    .option('--thresholds', 'print every threshold with its value and meaning, then exit')
    .addHelpText(
      'after',
      '\nExit codes (monitoring-plugin convention): 0 OK or info only, 1 warning, 2 critical,\n' +
        '3 unknown (usage error, bad config, or the snapshot could not be taken).',
    );
  addSnapshotOptions(cmd);
  // A usage error is "unknown" (3) for a monitoring check, not commander's 2; help stays 0.
  cmd.exitOverride((err: CommanderError) => {
    if (err.exitCode === 0) throw err;
    process.exit(EXIT_UNKNOWN);
  });
  cmd.action(async (flags: DoctorFlags) => {
    let code: number;
    try {
      code = await run(flags);
    } catch (err: unknown) {
      unknown(err instanceof Error ? err.message : String(err));
    }
    process.exit(code);
  });
}

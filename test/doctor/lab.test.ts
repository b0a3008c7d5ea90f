/**
 * `tcpstate doctor` against the real kernel: each lab problem scenario produces its
 * condition in a private namespace and `doctor --json --netns NAME` must report the
 * matching rule; a fresh namespace reports no warning or critical finding. Needs root
 * (skips loudly without it, fails under CI=true). Every lab run is bounded (--hold 20)
 * and killed and cleaned up in afterAll, even after a failure.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Finding } from '../../src/doctor/types.js';
import { createNetns, deleteNetns, netnsNames } from '../helpers/netns.js';
import { labAvailable, namespacesOf, reap, runCliAsync, startCli, waitForNamespace, type Background } from '../lab/helpers.js';

const enabled = labAvailable('test/doctor/lab.test.ts');

interface DoctorJson {
  findings: Finding[];
  checked: string[];
  sampledSeconds: number;
  severity: string;
  sockets: number;
  netns: string[];
}

interface Run {
  code: number;
  doc: DoctorJson;
  stderr: string;
}

async function doctor(args: readonly string[]): Promise<Run> {
  const r = await runCliAsync(['doctor', '--json', ...args], 30_000);
  let doc: DoctorJson;
  try {
    doc = JSON.parse(r.stdout) as DoctorJson;
  } catch {
    throw new Error(`doctor ${args.join(' ')} printed no JSON (exit ${r.code}): ${r.stdout}${r.stderr}`);
  }
  return { code: r.code, doc, stderr: r.stderr };
}

/** Runs doctor until `rule` fires (the condition takes a moment to form), bounded. */
async function untilFires(ns: string, rule: string, extra: readonly string[] = [], timeoutMs = 12_000): Promise<{ run: Run; finding: Finding }> {
  const start = Date.now();
  let last: Run | null = null;
  while (Date.now() - start < timeoutMs) {
    last = await doctor(['--netns', ns, ...extra]);
    const f = last.doc.findings.find((x) => x.rule === rule);
    if (f !== undefined) return { run: last, finding: f };
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`${rule} never fired in ${ns}: ${JSON.stringify(last?.doc.findings.map((f) => [f.rule, f.severity, f.title]))}`);
}

const exitFor = (severity: string): number => ({ ok: 0, info: 0, warning: 1, critical: 2 })[severity] ?? -1;

describe.runIf(enabled)('doctor on the lab problem scenarios (root)', () => {
  const bgs: Background[] = [];
  const namespaces = new Map<string, Promise<string>>();
  const CLEAN = `tcpstate-doctor-clean-${process.pid}`;

  beforeAll(() => {
    for (const name of ['close-wait-leak', 'time-wait-pileup', 'fin-wait-1-stuck', 'syn-flood', 'accept-queue-overflow', 'last-ack-stuck']) {
      const bg = startCli(['lab', 'problem', name, '--hold', '20']);
      bgs.push(bg);
      const p = waitForNamespace(bg, 20_000);
      p.catch(() => undefined);
      namespaces.set(name, p);
    }
    createNetns(CLEAN);
  });

  afterAll(async () => {
    await reap(bgs);
    deleteNetns(CLEAN);
    expect(namespacesOf(bgs.map((b) => b.pid))).toEqual([]);
    expect(netnsNames()).not.toContain(CLEAN);
  });

  const ns = (name: string): Promise<string> => namespaces.get(name) ?? Promise.reject(new Error(name));

  it('syn-flood → syn-recv-flood, with sources and SYN-cookie counters; sampled while it floods', async () => {
    const { run, finding } = await untilFires(await ns('syn-flood'), 'syn-recv-flood', ['--sample', '1']);
    expect(finding.evidence.facts['synReceived']).toBeGreaterThanOrEqual(10);
    expect(finding.evidence.facts['sources']).toBeGreaterThanOrEqual(5);
    expect(finding.evidence.facts['tcpSyncookies']).toBe('1');
    expect(run.doc.sampledSeconds).toBe(1);
    expect(run.code).toBe(exitFor(run.doc.severity));
  }, 40_000);

  it('close-wait-leak → close-wait-leak naming the lab process; with --sample 2 it grows and warns (exit 1)', async () => {
    const name = await ns('close-wait-leak');
    const labPid = bgs[0]?.pid;
    const once = await untilFires(name, 'close-wait-leak');
    expect(once.finding.evidence.facts['topPid']).toBe(labPid);
    expect(once.finding.evidence.facts['topCommand']).toBe('node');
    const { run, finding } = await untilFires(name, 'close-wait-leak', ['--sample', '2']);
    expect(finding.severity).toBe('warning');
    expect(finding.evidence.facts['growth']).toBeGreaterThanOrEqual(5);
    expect(finding.evidence.facts['persisted']).toBeGreaterThan(0);
    expect(run.doc.sampledSeconds).toBe(2);
    expect(run.code).toBe(1);
  }, 40_000);

  it('accept-queue-overflow → accept-queue-overflow: full queue, ListenOverflows rising → critical (exit 2)', async () => {
    const { run, finding } = await untilFires(await ns('accept-queue-overflow'), 'accept-queue-overflow', ['--sample', '2']);
    expect(finding.evidence.facts).toMatchObject({ listener: '10.200.0.1:7000', queue: 3, backlog: 2 });
    expect(finding.evidence.facts['listenOverflowsDelta']).toBeGreaterThan(0);
    expect(finding.severity).toBe('critical');
    expect(run.code).toBe(2);
  }, 40_000);

  it('time-wait-pileup → time-wait-pileup: the server port closes first', async () => {
    const { finding } = await untilFires(await ns('time-wait-pileup'), 'time-wait-pileup');
    expect(finding.evidence.facts['topPort']).toBe(7000);
    expect(finding.evidence.facts['closedFirstByServer']).toBe(finding.evidence.facts['timeWait']);
    expect(finding.evidence.facts['closedFirstPerSecond']).toBeGreaterThan(0);
  }, 40_000);

  it('fin-wait-1-stuck → fin-wait-1-stuck: data queued behind a zero window, orphans', async () => {
    const { finding } = await untilFires(await ns('fin-wait-1-stuck'), 'fin-wait-1-stuck');
    expect(finding.evidence.facts['stuck']).toBeGreaterThanOrEqual(2);
    expect(finding.evidence.facts['sendQueueBytes']).toBeGreaterThan(0);
  }, 40_000);

  it('last-ack-stuck → last-ack-stuck with the peer', async () => {
    const { finding } = await untilFires(await ns('last-ack-stuck'), 'last-ack-stuck');
    expect(finding.evidence.facts['lastAck']).toBeGreaterThanOrEqual(5);
    expect(finding.evidence.facts['topPeer']).toBe('10.201.0.2');
  }, 40_000);

  it('a clean fresh namespace: no warning or critical finding, exit 0, every rule checked', async () => {
    const r = await doctor(['--netns', CLEAN, '--sample', '1']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.doc.findings.filter((f) => f.severity !== 'info')).toEqual([]);
    expect(r.doc.checked).toHaveLength(10);
    expect(r.doc.netns).toEqual([CLEAN]);
    const text = await runCliAsync(['doctor', '--netns', CLEAN]);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/^tcpstate doctor: /);
  }, 40_000);

  it('--lang zh in the close-wait-leak namespace: Chinese title and advice', async () => {
    const r = await runCliAsync(['doctor', '--lang', 'zh', '--netns', await ns('close-wait-leak')]);
    expect(r.stdout).toMatch(/个 CLOSE_WAIT/);
    expect(r.stdout).toContain('建议');
  }, 40_000);
});

/** `tcpstate capture` end to end: the built CLI on fixture files. */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { CLI, runCli } from '../cli/run-cli.js';

const dir = fileURLToPath(new URL('../fixtures/pcap/', import.meta.url));
const tmp = mkdtempSync(join(tmpdir(), 'tcpstate-capture-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('tcpstate capture', () => {
  it('prints a table of connections with both states and Zeek labels', () => {
    const r = runCli(['capture', dir + 'real-lo-ns.pcap']);
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^ID\s+Start\s+Dur\(s\)\s+Originator\s+Responder\s+Pkts o\/r\s+Bytes o\/r\s+Orig state\s+Resp state\s+Zeek\s+History/);
    expect(r.stdout).toMatch(/127\.0\.0\.1:7001\s+6\/4\s+100\/200\s+TIME_WAIT\s+CLOSED\s+SF/);
    expect(lines.at(-1)).toMatch(/^10 of 10 connections, 80 TCP packets of 80/);
  });

  it('filters with ss syntax over either endpoint', () => {
    const r = runCli(['capture', dir + 'real-lo-ns.pcap', 'state', 'time-wait', 'sport', '=', ':7002']);
    expect(r.code).toBe(0);
    const rows = r.stdout.trim().split('\n').slice(1, -1);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toContain('127.0.0.1:7002');
    const bad = runCli(['capture', dir + 'real-lo-ns.pcap', 'dport', '=', ':nosuch']);
    expect(bad.code).toBe(2);
  });

  it('--ndjson streams the documented record', () => {
    const r = runCli(['capture', dir + 'real-lo.pcapng', '--ndjson']);
    const recs = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(recs).toHaveLength(10);
    for (const k of ['id', 'start', 'duration', 'originator', 'responder', 'packets', 'bytes', 'states', 'zeek', 'completeness', 'anomalies']) expect(recs[0]).toHaveProperty(k);
  });

  it('--csv has a header and one row per connection', () => {
    const r = runCli(['capture', dir + 'real-lo-ns.pcap', '--csv']);
    const lines = r.stdout.trim().split('\n');
    expect(lines[0]?.startsWith('id,start,duration,family,orig_address')).toBe(true);
    expect(lines).toHaveLength(11);
  });

  it('--zeek prints conn.log TSV with Zeek header lines', () => {
    const r = runCli(['capture', dir + 'real-lo-ns.pcap', '--zeek']);
    const lines = r.stdout.trim().split('\n');
    expect(lines[0]).toBe('#separator \\x09');
    const fields = lines.find((l) => l.startsWith('#fields'))?.split('\t') ?? [];
    const rows = lines.filter((l) => !l.startsWith('#'));
    expect(rows).toHaveLength(10);
    for (const row of rows) expect(row.split('\t')).toHaveLength(fields.length - 1);
    const refused = rows.find((l) => l.includes('\t7004\t'))?.split('\t');
    expect(refused?.[fields.indexOf('conn_state') - 1]).toBe('REJ');
    expect(lines.at(-1)?.startsWith('#close')).toBe(true);
  });

  it('--stats aggregates state pairs, resets and handshake RTT', () => {
    const r = runCli(['capture', dir + 'real-lo-ns.pcap', '--stats']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/CLOSED\/CLOSED\s+4/);
    expect(r.stdout).toMatch(/sent by the responder\s+3/);
    expect(r.stdout).toMatch(/handshake RTT \(SYN → ACK\), ms\n\s+n 9 /);
    const j = JSON.parse(runCli(['capture', dir + 'real-lo-ns.pcap', '--stats', '--json']).stdout) as { statePairs: Record<string, number> };
    expect(j.statePairs['TIME_WAIT/CLOSED']).toBe(3);
  });

  it('--conn ID prints the timeline and a sequence diagram; --svg writes it', () => {
    const svg = join(tmp, 'conn.svg');
    const r = runCli(['capture', dir + 'real-lo-ns.pcap', '--conn', '1', '--svg', svg]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('connection 1: 127.0.0.1:');
    expect(r.stdout).toMatch(/orig\s+ESTABLISHED\s+→ FIN_WAIT_1\s+close-established/);
    expect(r.stdout).toMatch(/S seq 0 win \d+ ─+▶/);
    expect(r.stdout).toContain('final: orig TIME_WAIT, resp CLOSED');
    const doc = readFileSync(svg, 'utf8');
    expect(doc.startsWith('<?xml')).toBe(true);
    expect(doc).toContain('data-state="TIME_WAIT"');
    expect(runCli(['capture', dir + 'real-lo-ns.pcap', '--conn', '99']).code).toBe(2);
  });

  it('a file cut short: earlier packets analysed, then an error naming the offset and record', () => {
    const whole = readFileSync(dir + 'real-lo-ns.pcap');
    const cutAt = whole.length - 30;
    const cut = join(tmp, 'cut.pcap');
    writeFileSync(cut, whole.subarray(0, cutAt));
    const r = runCli(['capture', cut, '--json']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/damaged capture at byte offset \d+ \(pcap record 80\): file ends after/);
    const doc = JSON.parse(r.stdout) as { counters: { packets: number }; connections: unknown[] };
    expect(doc.counters.packets).toBe(79);
    expect(doc.connections).toHaveLength(10);
  });

  it('reads standard input (as from tcpdump -U -w -)', () => {
    const bytes = readFileSync(dir + 'real-lo-ns.pcap');
    const r = spawnSync(process.execPath, [CLI, 'capture', '-', '--ndjson'], { input: bytes, encoding: 'utf8', timeout: 30_000 });
    expect(r.status).toBe(0);
    expect(r.stdout.trim().split('\n')).toHaveLength(10);
  });

  it('says what is wrong with a file that is not a capture', () => {
    const f = join(tmp, 'text.pcap');
    writeFileSync(f, 'definitely not a capture file\n');
    const r = runCli(['capture', f]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/byte offset 0 \(file header\): not a pcap or pcapng file/);
    expect(runCli(['capture', join(tmp, 'missing.pcap')]).code).toBe(2);
  });
});

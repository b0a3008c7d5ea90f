/**
 * `tcpstate watch` with stdout not a TTY (a pipe): one plain line per refresh with every
 * state's count and the change since the previous refresh, no escape sequences; `-c N`
 * stops after N refreshes, SIGTERM stops it cleanly, and a bad --interval or --count is a
 * usage error (exit 2).
 *
 * Runs the built CLI in the test's own network namespace against a listener the test opens
 * on a free loopback port, filtered to that port; needs no root.
 */
import { spawn } from 'node:child_process';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TCP_STATES } from '../../src/core/states.js';
import { CLI, runCli } from './run-cli.js';

const LINE = new RegExp(`^\\d\\d:\\d\\d:\\d\\d total=(\\d+) ${TCP_STATES.map((s) => `${s}=(\\d+)(?:\\(([+-]\\d+)\\))?`).join(' ')}$`);

interface Parsed {
  readonly total: number;
  readonly counts: Record<string, number>;
  readonly changes: Record<string, number>;
}

function parseLine(line: string): Parsed {
  const m = LINE.exec(line);
  if (m === null) throw new Error(`not a watch line: ${JSON.stringify(line)}`);
  const counts: Record<string, number> = {};
  const changes: Record<string, number> = {};
  TCP_STATES.forEach((s, i) => {
    counts[s] = Number(m[2 + i * 2]);
    const d = m[3 + i * 2];
    if (d !== undefined) changes[s] = Number(d);
  });
  return { total: Number(m[1]), counts, changes };
}

/** Starts `tcpstate watch ARGS`, calling `onLine` for each stdout line as it arrives. */
function watch(
  args: readonly string[],
  onLine: (line: string, index: number, kill: (signal: NodeJS.Signals) => void) => void = () => {},
  timeoutMs = 15_000,
): Promise<{ code: number | null; signal: NodeJS.Signals | null; lines: string[]; stdout: string; stderr: string; ms: number }> {
  const started = performance.now();
  const child = spawn(process.execPath, [CLI, 'watch', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { PATH: process.env['PATH'] ?? '', LANG: 'C.UTF-8' }, // no NO_COLOR: colour must be off because stdout is a pipe
  });
  let stdout = '';
  let stderr = '';
  let seen = 0;
  const lines: string[] = [];
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`watch ${args.join(' ')} still running after ${timeoutMs} ms; stdout: ${stdout}`));
    }, timeoutMs);
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
      const parts = stdout.split('\n');
      for (; seen < parts.length - 1; seen++) {
        const line = parts[seen] ?? '';
        lines.push(line);
        onLine(line, seen, (s) => child.kill(s));
      }
    });
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.once('error', reject);
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, lines, stdout, stderr, ms: performance.now() - started });
    });
  });
}

describe('tcpstate watch (stdout not a TTY)', () => {
  let server: net.Server;
  let port = 0;
  const sockets: net.Socket[] = [];

  beforeAll(async () => {
    server = net.createServer((c) => sockets.push(c));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const a = server.address();
    if (a === null || typeof a === 'string') throw new Error('no port');
    port = a.port;
  });

  afterAll(async () => {
    for (const s of sockets) s.destroy();
    await new Promise<void>((r) => server.close(() => r()));
  });

  it('-c 2 -n 0.2 prints two plain lines with every state count, then exits 0', async () => {
    const r = await watch(['-c', '2', '-n', '0.2']);
    expect(r.code).toBe(0);
    expect(r.stdout).not.toContain('\u001b');
    expect(r.lines).toHaveLength(2);
    for (const line of r.lines) {
      const p = parseLine(line);
      expect(Object.values(p.counts).reduce((a, b) => a + b, 0)).toBe(p.total);
      expect(p.counts['LISTEN']).toBeGreaterThan(0); // at least the test's own listener
    }
    expect(r.ms).toBeGreaterThanOrEqual(200); // it waited one interval between the two
    expect(r.ms).toBeLessThan(10_000);
  });

  it('shows the change since the previous refresh', async () => {
    const filter = ['sport', '=', `:${port}`];
    const r = await watch(['-c', '2', '-n', '0.6', ...filter], (_line, i) => {
      // between the first and the second refresh, a connection arrives on the port
      if (i === 0) sockets.push(net.connect(port, '127.0.0.1'));
    });
    expect(r.code, r.stderr).toBe(0);
    const [first, second] = r.lines.map(parseLine);
    expect(first?.total).toBe(1);
    expect(first?.counts).toMatchObject({ LISTEN: 1, ESTABLISHED: 0 });
    expect(first?.changes).toEqual({});
    expect(second?.total).toBe(2);
    expect(second?.counts).toMatchObject({ LISTEN: 1, ESTABLISHED: 1 });
    expect(second?.changes).toEqual({ ESTABLISHED: 1 });
    expect(r.lines[1]).toContain('ESTABLISHED=1(+1)');
  });

  it('stops cleanly on SIGTERM when no count is given', async () => {
    const r = await watch(['-n', '0.2', 'sport', '=', `:${port}`], (_line, i, kill) => {
      if (i === 1) kill('SIGTERM');
    });
    expect(r.signal).toBeNull();
    expect(r.code).toBe(0);
    expect(r.lines.length).toBeGreaterThanOrEqual(2);
    expect(r.lines.length).toBeLessThanOrEqual(3);
  });

  it.each([
    ['0', '--interval'],
    ['-1', '--interval'],
    ['abc', '--interval'],
    ['Infinity', '--interval'],
  ])('-n %s is a usage error: exit 2', (value, option) => {
    const r = runCli(['watch', '-c', '1', '-n', value]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(`tcpstate: bad value "${value}" for ${option}: expected a positive number\n`);
  });

  it('-c 0 is a usage error: exit 2', () => {
    const r = runCli(['watch', '-c', '0']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('bad value "0" for --count');
  });

  it('a bad filter is a usage error: exit 2, with a caret', () => {
    const r = runCli(['watch', '-c', '1', 'sport', '=']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/bad filter/);
    expect(r.stderr).toContain('^');
  });
});

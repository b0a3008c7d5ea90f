/** Runs the built CLI (dist/cli/main.js) as a user would, with a clean colour environment. */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const CLI = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));

export interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export function runCli(args: readonly string[], env: Record<string, string> = {}, input?: string): CliResult {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: the test global setup builds it (npx tsc -p tsconfig.json)`);
  const r = spawnSync(process.execPath, [CLI, ...args], {
    encoding: 'utf8',
    timeout: 30_000,
    // Captures of thousands of connections print tens of megabytes of NDJSON.
    maxBuffer: 256 * 1024 * 1024,
    env: { PATH: process.env['PATH'] ?? '', NO_COLOR: '1', LANG: 'C.UTF-8', ...env },
    ...(input !== undefined ? { input } : {}),
  });
  if (r.error) throw r.error;
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/**
 * Builds dist/ once before any test file runs, so end-to-end tests run the real,
 * compiled CLI and never race each other rebuilding it.
 */
import { execFileSync } from 'node:child_process';

export default function setup(): void {
  execFileSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.json'], { stdio: 'inherit' });
}

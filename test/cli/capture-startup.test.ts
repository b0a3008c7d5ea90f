/**
 * `capture --ndjson` on a large file starts its worker before loading the analyzer: the
 * modules `src/cli/capture.ts` imports at load time (imports of types only are erased)
 * do not reach the analyzer or the reports, which `capture-report.ts` loads on demand.
 * And the worker itself does reach the analyzer (the walk finds what it should).
 */
import { readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const src = resolve(dirname(fileURLToPath(import.meta.url)), '../../src');

/** Every module of `src` loaded when `entry` is, following static imports that are not type-only. */
function loadedWith(entry: string): Set<string> {
  const seen = new Set<string>();
  const visit = (file: string): void => {
    if (seen.has(file)) return;
    seen.add(file);
    const text = readFileSync(file, 'utf8');
    // `import x from '…'`, `import { a, type B } from '…'`, `export … from '…'`; not `import type`, not `import('…')`.
    for (const m of text.matchAll(/^(?:import|export)\s+(?!type\s)[^'"]*?from\s+'(\.[^']+)\.js';/gm)) {
      visit(join(dirname(file), `${m[1] as string}.ts`));
    }
    for (const m of text.matchAll(/^import\s+'(\.[^']+)\.js';/gm)) visit(join(dirname(file), `${m[1] as string}.ts`));
  };
  visit(join(src, entry));
  return new Set([...seen].map((f) => relative(src, f)));
}

describe('capture start-up', () => {
  it('the command module does not load the analyzer or the reports', () => {
    const loaded = loadedWith('cli/capture.ts');
    expect(loaded).toContain('capture/pipeline.ts');
    expect(loaded).toContain('capture/decoder.ts');
    for (const heavy of ['capture/analyzer.ts', 'capture/connection.ts', 'core/observer.ts', 'cli/capture-report.ts', 'capture/stats.ts', 'capture/diagram.ts']) {
      expect(loaded, heavy).not.toContain(heavy);
    }
  });

  it('the command line starts the worker ahead without loading the analyzer', () => {
    const loaded = loadedWith('cli/main.ts');
    expect(loaded).toContain('capture/pipeline-start.ts');
    for (const heavy of ['capture/analyzer.ts', 'capture/pipeline.ts', 'capture/decoder.ts', 'cli/capture.ts']) expect(loaded, heavy).not.toContain(heavy);
  });

  it('the entry point starts the worker before it loads the command line (commander included)', () => {
    const loaded = loadedWith('cli/main.ts');
    expect(loaded).toContain('cli/capture-early.ts');
    expect(loaded).not.toContain('cli/program.ts');
    expect(readFileSync(join(src, 'cli/main.ts'), 'utf8')).not.toMatch(/from 'commander'/);
  });

  it('the worker and the report module do load the analyzer; the only worker does not load the file readers', () => {
    expect(loadedWith('capture/pipeline-worker.ts')).toContain('capture/analyzer.ts');
    expect(loadedWith('capture/pipeline-worker.ts')).not.toContain('capture/reader.ts');
    expect(loadedWith('cli/capture-report.ts')).toContain('capture/analyzer.ts');
  });
});

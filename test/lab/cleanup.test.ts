/**
 * Cleanup: SIGINT and SIGTERM end a hold and remove everything; a lab killed with
 * SIGKILL leaves its namespace, which the next run removes; without root nothing is
 * created and the exit code is 4.
 */
import { spawnSync } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { CLI, hostTunDevices, labAvailable, labNamespaces, namespacesOf, reap, runCliAsync, startCli, waitForNamespace, type Background } from './helpers.js';

const enabled = labAvailable('test/lab/cleanup.test.ts');

describe.runIf(enabled)('lab cleanup', () => {
  const bgs: Background[] = [];
  afterAll(async () => {
    await reap(bgs);
  });

  it('SIGKILL mid-run leaves the namespace; the next run removes it (its creator is dead)', async () => {
    const victim = startCli(['lab', 'established', '--hold', '30']);
    bgs.push(victim);
    const ns = await waitForNamespace(victim);
    victim.child.kill('SIGKILL');
    await victim.done;
    expect(labNamespaces()).toContain(ns);
    // The TUN went with the process (not persistent): only the namespace is left.
    expect(spawnSync('ip', ['-n', ns, '-o', 'link', 'show', 'type', 'tun'], { encoding: 'utf8' }).stdout.trim()).toBe('');
    const next = await runCliAsync(['lab', 'listen', '--json']);
    expect(next.code, next.stderr).toBe(0);
    expect(labNamespaces()).not.toContain(ns);
  }, 30_000);

  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    it(`${sig} during --hold cleans up and exits ${sig === 'SIGINT' ? 130 : 143}`, async () => {
      const bg = startCli(['lab', 'fin-wait-1', '--hold', '30']);
      bgs.push(bg);
      const ns = await waitForNamespace(bg);
      bg.child.kill(sig);
      const code = await Promise.race([bg.done, new Promise<number>((r) => setTimeout(() => r(-99), 10_000))]);
      expect(code).toBe(sig === 'SIGINT' ? 130 : 143);
      expect(labNamespaces()).not.toContain(ns);
    }, 30_000);
  }

  it('a live lab is never removed by another run', async () => {
    const live = startCli(['lab', 'listen', '--hold', '5']);
    bgs.push(live);
    const ns = await waitForNamespace(live);
    const other = await runCliAsync(['lab', 'listen']);
    expect(other.code).toBe(0);
    expect(labNamespaces()).toContain(ns);
    live.child.kill('SIGINT');
    await live.done;
    expect(labNamespaces()).not.toContain(ns);
  }, 30_000);

  it('without root: exit 4, a clear message, nothing created', () => {
    const before = labNamespaces();
    const r = spawnSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, CLI, 'lab', 'listen'], {
      encoding: 'utf8',
      timeout: 20_000,
      env: { PATH: process.env['PATH'] ?? '', NO_COLOR: '1' },
    });
    expect(r.error).toBeUndefined();
    expect(r.status).toBe(4);
    expect(r.stderr).toMatch(/needs root/);
    expect(r.stderr).toMatch(/Nothing was created/);
    expect(labNamespaces()).toEqual(before);
  });

  it('a usage error comes before the privilege check (exit 2)', async () => {
    const r = await runCliAsync(['lab', 'no-such-state']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/unknown TCP state/);
  });

  it('nothing is left: no namespace of these runs, no TUN device in the host namespace', () => {
    expect(namespacesOf(bgs.map((b) => b.pid))).toEqual([]);
    expect(hostTunDevices()).toEqual([]);
  });
});

// Runs socket-source dumps with the built library and prints the records as JSON.
// Used by the shared source suite inside a private network namespace:
//   ip netns exec NS node runner.mjs DIST_DIR '{"source":"sock-diag","queries":[...]}'
// A query is {families, stateMask, info, bytecodeHex?}. Output:
//   {"notice": string|null, "results": [[record...], ...], "ms": [number, ...]}
const [distDir, json] = process.argv.slice(2);
if (distDir === undefined || json === undefined) {
  process.stderr.write('usage: runner.mjs DIST_DIR JSON\n');
  process.exit(2);
}
const { openSocketSource } = await import(`${distDir}/sources/open-source.js`);
const spec = JSON.parse(json);
try {
  const { source, notice } = openSocketSource(spec.source);
  const results = [];
  const ms = [];
  for (const q of spec.queries) {
    const query = { families: q.families, stateMask: q.stateMask, info: q.info };
    if (q.bytecodeHex !== undefined) query.bytecode = Uint8Array.from(Buffer.from(q.bytecodeHex, 'hex'));
    const out = [];
    const t0 = performance.now();
    source.dump(query, (r) => out.push(r));
    ms.push(performance.now() - t0);
    results.push(out);
  }
  source.close();
  process.stdout.write(JSON.stringify({ source: source.name, notice, results, ms }));
} catch (e) {
  process.stdout.write(JSON.stringify({ error: { code: e.code ?? null, message: String(e.message ?? e) } }));
}

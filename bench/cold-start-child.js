// Runs in a fresh process: imports the built package, loads the default models and compares
// two photos, then prints the times in milliseconds as one JSON line.
'use strict';

const { performance } = require('node:perf_hooks');

async function main() {
  const [root, first, second] = process.argv.slice(2);
  const start = performance.now();
  const facebits = require(root);
  const imported = performance.now();
  const fb = await facebits.load();
  const loaded = performance.now();
  const verdict = fb.compare(await fb.embed(first), await fb.embed(second));
  const done = performance.now();
  fb.dispose();
  console.log(JSON.stringify({
    same: verdict.same,
    cosine: verdict.cosine,
    importMs: imported - start,
    loadMs: loaded - imported,
    firstVerdictMs: done - start,
    processMs: done,
  }));
}

main().catch((error) => {
  console.error(error);
  process.exit(2);
});

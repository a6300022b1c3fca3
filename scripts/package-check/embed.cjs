// Runs inside a project that installed the facebits tarball: embeds each input once from raw
// RGB pixels and once more from the first JPEG path, compares the pairs, and prints one JSON
// line for scripts/check-package.js.

'use strict';

const fs = require('node:fs');
const path = require('node:path');

const { load } = require('facebits');

function cosine(a, b) {
  let dot = 0;
  for (let i = 0; i < a.length; i += 1) dot += a[i] * b[i];
  return dot;
}

/** Returns the file of the addon that node-gyp-build picks for the package, and its kernel sets. */
function describeAddon() {
  const packageDir = path.dirname(require.resolve('facebits/package.json'));
  const gypBuild = require(require.resolve('node-gyp-build', { paths: [packageDir] }));
  const file = gypBuild.resolve(packageDir);
  const addon = require(file);
  return { addon: path.relative(packageDir, file), isa: addon.isa(), supportedIsas: addon.supportedIsas() };
}

async function main() {
  const started = Date.now();
  const inputs = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
  const fb = await load();
  const faces = [];
  for (const input of inputs) {
    const data = fs.readFileSync(input.raw);
    faces.push(await fb.embed({ data, width: input.width, height: input.height, channels: input.channels }));
  }
  const fromPath = await fb.embed(inputs[0].file);
  const samePair = fb.compare(faces[0], faces[1]);
  const differentPair = fb.compare(faces[0], faces[2]);
  const backend = fb.backend;
  const report = {
    arch: process.arch,
    backend,
    ...(backend === 'native' ? describeAddon() : {}),
    samePair,
    differentPair,
    pathVsRaw: cosine(fromPath.embedding, faces[0].embedding),
    embeddings: faces.map((face) => Array.from(face.embedding)),
    seconds: (Date.now() - started) / 1000,
  };
  fb.dispose();
  console.log(JSON.stringify(report));
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});

// Runs inside a project that installed the facebits tarball: embeds each input once from raw
// RGB pixels and once more from the first JPEG path, compares the pairs, fits a head and a
// quantiser on synthetic embeddings, and prints one JSON line for scripts/check-package.js.

'use strict';

const fs = require('node:fs');
const path = require('node:path');

const { encode, fitHead, fitQuantizer, headProbability, load } = require('facebits');

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

/**
 * Fits the learned head and a 256-bit quantiser on 64 synthetic embeddings in 8 identities,
 * so a package whose core lacks those functions fails here rather than in a user's code.
 */
function fitLearned(dimension) {
  let state = 12345;
  const random = () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32 - 0.5;
  };
  const centres = Array.from({ length: 8 }, () => Float32Array.from({ length: dimension }, random));
  const embeddings = [];
  const labels = [];
  for (let i = 0; i < 64; i += 1) {
    embeddings.push(centres[i % 8].map((value) => value + 0.3 * random()));
    labels.push(i % 8);
  }
  const pairs = [];
  for (let i = 0; i + 8 < 64; i += 1) {
    pairs.push({ a: embeddings[i], b: embeddings[i + 8], same: true });
    pairs.push({ a: embeddings[i], b: embeddings[i + 1], same: false });
  }
  const head = fitHead(pairs);
  const quantizer = fitQuantizer(embeddings, { bits: 256, labels });
  return {
    sameProbability: headProbability(head, pairs[0].a, pairs[0].b),
    differentProbability: headProbability(head, pairs[1].a, pairs[1].b),
    codeBytes: encode(quantizer, embeddings[0]).length,
  };
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
    learned: fitLearned(faces[0].embedding.length),
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

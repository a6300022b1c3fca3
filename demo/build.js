#!/usr/bin/env node
// Builds the browser demo into demo/dist/: lib/browser.ts bundled by esbuild as the global
// `facebits`, the page, wasm/facebits.wasm and the converted default models (run
// `npm install` first so models/default/ exists). Serve demo/dist/ over HTTP; browsers do
// not fetch WebAssembly from file:// URLs.

'use strict';

const fs = require('node:fs');
const path = require('node:path');

const esbuild = require('esbuild');

const root = path.join(__dirname, '..');
const out = path.join(__dirname, 'dist');

// Node built-ins and Node-only packages that lib/ imports. The browser entry never calls
// them, so each is replaced by an empty module.
const NODE_ONLY = /^(node:.*|sharp|node-gyp-build)$/;

const stubNodeModules = {
  name: 'stub-node-modules',
  setup(build) {
    build.onResolve({ filter: NODE_ONLY }, (args) => ({ path: args.path, namespace: 'node-stub' }));
    build.onLoad({ filter: /.*/, namespace: 'node-stub' }, () => ({
      // lib/native.ts builds a path at import time, so path.join must exist.
      contents: 'module.exports = { join: (...parts) => parts.join("/") };',
      loader: 'js',
    }));
  },
};

async function buildDemo() {
  fs.mkdirSync(out, { recursive: true });
  await esbuild.build({
    entryPoints: [path.join(root, 'lib', 'browser.ts')],
    bundle: true,
    format: 'iife',
    globalName: 'facebits',
    platform: 'browser',
    target: 'es2022',
    define: { __dirname: '"/"', 'process.env.FACEBITS_BACKEND': '"wasm"' },
    plugins: [stubNodeModules],
    outfile: path.join(out, 'facebits.browser.js'),
    logLevel: 'warning',
  });
  fs.copyFileSync(path.join(__dirname, 'index.html'), path.join(out, 'index.html'));
  fs.copyFileSync(path.join(root, 'wasm', 'facebits.wasm'), path.join(out, 'facebits.wasm'));
  for (const model of ['blazeface-back.fbm', 'face-landmark-68.fbm', 'fr-feature.fbm']) {
    fs.copyFileSync(path.join(root, 'models', 'default', model), path.join(out, model));
  }
  return out;
}

module.exports = { buildDemo };

if (require.main === module) {
  buildDemo().then(
    (dir) => console.log(`facebits: wrote the demo to ${path.relative(process.cwd(), dir)}; serve that folder over HTTP`),
    (error) => {
      console.error(`facebits: the demo build failed: ${error.message}`);
      process.exitCode = 1;
    },
  );
}

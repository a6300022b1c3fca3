#!/usr/bin/env node
// Builds wasm/facebits.wasm, the WebAssembly SIMD128 build of the C++ core, with emcc.
//
//   node wasm/build.js              build, failing when emcc is missing
//   node wasm/build.js --if-needed  for `npm install`: skip when wasm/sources.sha256 matches
//                                   the sources, or (with a notice) when emcc is missing
//
// The .wasm is committed with the stamp, so a checkout without emscripten still has it.
// Written for Debian's emscripten 3.1.6, whose JS optimizer finds acorn only through
// NODE_PATH=/usr/share/nodejs; that path is added when it exists.

'use strict';

const { execFileSync, spawn } = require('node:child_process');
const crypto = require('node:crypto');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const root = path.join(__dirname, '..');
const output = path.join(__dirname, 'facebits.wasm');
const stampFile = path.join(__dirname, 'sources.sha256');

const COMPILE_FLAGS = ['-O3', '-std=c++17', '-msimd128', '-fwasm-exceptions', '-DNDEBUG'];
const LINK_FLAGS = [
  '-sSTANDALONE_WASM', '--no-entry', '-sALLOW_MEMORY_GROWTH=1', '-sMAXIMUM_MEMORY=2GB',
  '-sEXPORTED_FUNCTIONS=_malloc,_free',
];

// The core without the Node-API layer and without the x86 kernel sources (AVX2, AVX-512, AMX).
function sources() {
  const core = ['native/cpu.cpp', 'native/executor.cpp', 'native/fusion.cpp', 'native/image.cpp', 'native/plan.cpp', 'native/kernels_wasm.cpp', 'native/verify_core.cpp'];
  const ops = fs.readdirSync(path.join(root, 'native', 'ops'))
    .filter((name) => name.endsWith('.cpp') && !/avx2|avx512|amx/.test(name))
    .sort()
    .map((name) => `native/ops/${name}`);
  return [...core, ...ops, 'wasm/api.cpp'];
}

// Hash of every source and header the build reads, and of the flags.
function sourceHash(files) {
  const hash = crypto.createHash('sha256');
  hash.update(JSON.stringify([COMPILE_FLAGS, LINK_FLAGS]));
  const headers = [
    ...fs.readdirSync(path.join(root, 'native')).filter((n) => n.endsWith('.h')).map((n) => `native/${n}`),
    ...fs.readdirSync(path.join(root, 'native', 'ops')).filter((n) => n.endsWith('.h')).map((n) => `native/ops/${n}`),
  ].sort();
  for (const file of [...files, ...headers]) {
    hash.update(file);
    hash.update(fs.readFileSync(path.join(root, file)));
  }
  return hash.digest('hex');
}

function findEmcc() {
  try {
    execFileSync('emcc', ['--version'], { stdio: 'ignore', env: emccEnv() });
    return true;
  } catch {
    return false;
  }
}

function emccEnv() {
  const env = { ...process.env };
  if (fs.existsSync('/usr/share/nodejs')) env.NODE_PATH = [env.NODE_PATH, '/usr/share/nodejs'].filter(Boolean).join(path.delimiter);
  return env;
}

function run(args) {
  return new Promise((resolve, reject) => {
    const child = spawn('emcc', args, { cwd: root, stdio: 'inherit', env: emccEnv() });
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`emcc ${args.join(' ')} exited with code ${code}`))));
  });
}

async function build(files) {
  // Object files go outside the checkout because node-gyp rebuild deletes build/.
  const objectDir = fs.mkdtempSync(path.join(os.tmpdir(), 'facebits-wasm-'));
  const objects = files.map((file) => path.join(objectDir, file.replace(/[/\\]/g, '_').replace(/\.cpp$/, '.o')));
  const jobs = Math.max(1, Math.min(os.cpus().length, 4));
  let next = 0;
  const worker = async () => {
    while (next < files.length) {
      const i = next++;
      await run([...COMPILE_FLAGS, '-c', files[i], '-o', objects[i]]);
    }
  };
  await Promise.all(Array.from({ length: jobs }, worker));
  await run([...COMPILE_FLAGS, ...LINK_FLAGS, ...objects, '-o', output]);
  fs.rmSync(objectDir, { recursive: true, force: true });
}

async function main() {
  const ifNeeded = process.argv.includes('--if-needed');
  const files = sources();
  const hash = sourceHash(files);
  const stamp = fs.existsSync(stampFile) ? fs.readFileSync(stampFile, 'utf8').trim() : '';
  if (ifNeeded && stamp === hash && fs.existsSync(output)) {
    console.log('facebits: wasm/facebits.wasm is up to date with the C++ sources');
    return;
  }
  if (!findEmcc()) {
    const message = 'facebits: emcc not found, so wasm/facebits.wasm was not rebuilt; install emscripten to build it';
    if (ifNeeded) {
      console.log(fs.existsSync(output) ? `${message} (the committed copy may predate the sources)` : message);
      return;
    }
    console.error(message);
    process.exitCode = 1;
    return;
  }
  const started = Date.now();
  await build(files);
  fs.writeFileSync(stampFile, `${hash}\n`);
  const size = fs.statSync(output).size;
  console.log(`facebits: built wasm/facebits.wasm (${size} bytes) in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

main().catch((error) => {
  console.error(`facebits: the WebAssembly build failed: ${error.message}`);
  process.exitCode = 1;
});

#!/usr/bin/env node
// Builds the N-API addon with prebuildify into prebuilds/<platform>-<arch>/, where node-gyp-build
// finds it at run time without an install step.
//
//   node scripts/prebuild.js            # this machine's architecture
//   node scripts/prebuild.js arm64      # linux-arm64 with Debian's aarch64-linux-gnu cross compiler
//   node scripts/prebuild.js x64 arm64  # both, as `npm pack` does (the prepack script)
//
// The build runs in a temporary copy of binding.gyp and native/, so the checkout's build/ folder
// (the development build, which node-gyp-build prefers over prebuilds/) stays as it is.

'use strict';

const { execFileSync, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const root = path.join(__dirname, '..');
const CROSS_PREFIX = { arm64: 'aarch64-linux-gnu-' };

function fail(message) {
  console.error(`prebuild: ${message}`);
  process.exit(1);
}

function hasCommand(name) {
  return spawnSync('sh', ['-c', `command -v ${name}`], { stdio: 'ignore' }).status === 0;
}

/** Returns the node-gyp that ships with npm, which npm itself runs for install scripts. */
function findNodeGyp() {
  if (process.env.npm_config_node_gyp) return process.env.npm_config_node_gyp;
  const prefix = path.dirname(path.dirname(process.execPath));
  const bundled = path.join(prefix, 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js');
  if (fs.existsSync(bundled)) return bundled;
  if (hasCommand('node-gyp')) return 'node-gyp';
  fail('node-gyp was not found; install it with "npm install -g node-gyp"');
}

/** Copies the files a from-source build reads into a fresh folder and returns it. */
function stageSources() {
  const stage = fs.mkdtempSync(path.join(os.tmpdir(), 'facebits-prebuild-'));
  fs.copyFileSync(path.join(root, 'binding.gyp'), path.join(stage, 'binding.gyp'));
  fs.copyFileSync(path.join(root, 'package.json'), path.join(stage, 'package.json'));
  fs.cpSync(path.join(root, 'native'), path.join(stage, 'native'), { recursive: true });
  fs.symlinkSync(path.join(root, 'node_modules'), path.join(stage, 'node_modules'), 'dir');
  return stage;
}

function build(arch) {
  const env = { ...process.env, JOBS: process.env.JOBS || String(Math.max(1, os.cpus().length)) };
  const args = [
    require.resolve('prebuildify/bin.js'),
    '--napi', '--strip', '--tag-libc',
    `--target=${process.versions.node}`,
    `--arch=${arch}`,
    `--node-gyp=${findNodeGyp()}`,
  ];

  // node-gyp downloads Node's headers unless nodedir points at a local copy. Node installs
  // them under <prefix>/include/node, and an N-API addon builds against any recent version.
  if (!env.npm_config_nodedir) {
    const prefix = path.dirname(path.dirname(process.execPath));
    if (fs.existsSync(path.join(prefix, 'include', 'node', 'node_api.h'))) env.npm_config_nodedir = prefix;
  }

  if (arch !== os.arch()) {
    const prefix = CROSS_PREFIX[arch];
    if (os.platform() !== 'linux' || !prefix) fail(`no cross compiler is set up for ${os.platform()}-${arch}`);
    if (!hasCommand(`${prefix}g++`)) {
      fail(`${prefix}g++ was not found; on Debian install it with "apt-get install g++-${prefix.slice(0, -1)}"`);
    }
    Object.assign(env, {
      CC: `${prefix}gcc`, CXX: `${prefix}g++`, LINK: `${prefix}g++`, AR: `${prefix}ar`,
      CC_host: 'gcc', CXX_host: 'g++',
    });
    args.push(`--strip-bin=${prefix}strip`);
  }

  const stage = stageSources();
  try {
    args.push(`--cwd=${stage}`, `--out=${root}`);
    execFileSync(process.execPath, args, { stdio: 'inherit', env });
  } finally {
    fs.rmSync(stage, { recursive: true, force: true });
  }

  const dir = path.join(root, 'prebuilds', `${os.platform()}-${arch}`);
  for (const name of fs.readdirSync(dir)) {
    const size = fs.statSync(path.join(dir, name)).size;
    console.log(`prebuild: wrote prebuilds/${os.platform()}-${arch}/${name} (${(size / 1e6).toFixed(2)} MB)`);
  }
}

const archs = process.argv.slice(2);
for (const arch of archs.length > 0 ? archs : [os.arch()]) build(arch);

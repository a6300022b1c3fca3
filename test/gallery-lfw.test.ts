// Closed-set identification on the LFW images that pairs.txt uses: the two-stage search
// must match the exact cosine scan's rank-1 accuracy.

import * as path from 'node:path';

import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { identify } from '../lib/eval/identify';
import type { GalleryTemplate } from '../lib/gallery';
import { native } from '../lib/native';
import { FULL_LFW_ON_WASM, sharedPath, skipOnWasm } from './helpers';
import { lfwEmbeddings } from './lfw-cache';

test('two-stage rank-1 matches exact scan on LFW', async () => {
  if (!sharedPath('faces/lfw/pairs.txt', 'LFW identification')) return;
  if (skipOnWasm('LFW identification', FULL_LFW_ON_WASM)) return;
  const { embedded, fb } = await lfwEmbeddings();

  // Photos per person in file-name order; the first one with a face is enrolled.
  const people = new Map<string, GalleryTemplate[]>();
  for (const file of [...embedded.embeddings.keys()].sort()) {
    const embedding = embedded.embeddings.get(file);
    if (!embedding) continue;
    const person = path.basename(path.dirname(file));
    const templates = people.get(person) ?? [];
    templates.push({ embedding, code: native().packSigns(embedding) });
    people.set(person, templates);
  }

  const report = identify(people, fb.modelId, { shortlist: 100 });
  const pct = (v: number): string => (v * 100).toFixed(2);
  console.log(
    `  LFW identification: ${report.people} people, ${report.queries} queries; rank-1 ${pct(report.twoStage.rank1)} % two-stage, ` +
      `${pct(report.exact.rank1)} % exact; rank-5 ${pct(report.twoStage.rank5)} % / ${pct(report.exact.rank5)} %; ` +
      `recall@5 ${pct(report.recallAt5)} %; ${report.searchMs.twoStage.toFixed(3)} / ${report.searchMs.exact.toFixed(3)} ms per query`,
  );
  assert.ok(report.people > 1000, `${report.people} people enrolled`);
  assert.ok(Math.abs(report.twoStage.rank1 - report.exact.rank1) <= 0.001, 'two-stage rank-1 within 0.1 points of exact');
  assert.ok(report.recallAt5 > 0.99, `recall@5 ${report.recallAt5}`);
});

test.run();

import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { bestThreshold, crossValidate, ScoredPair, tarAtFar } from '../lib/eval/metrics';

function seeded(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32);
}

test('bestThreshold separates separable scores', () => {
  const pairs: ScoredPair[] = [
    { score: 0.1, same: false, fold: 0 },
    { score: 0.2, same: false, fold: 0 },
    { score: 0.6, same: true, fold: 0 },
    { score: 0.9, same: true, fold: 0 },
  ];
  const t = bestThreshold(pairs);
  assert.ok(t > 0.2, `threshold ${t}`);
  assert.ok(t < 0.6, `threshold ${t}`);
});

test('crossValidate chooses each threshold without its own fold', () => {
  const random = seeded(7);
  const pairs: ScoredPair[] = [];
  for (let fold = 0; fold < 10; fold++) {
    for (let i = 0; i < 60; i++) pairs.push({ score: 0.5 + 0.3 * random(), same: true, fold });
    for (let i = 0; i < 60; i++) pairs.push({ score: 0.1 + 0.3 * random(), same: false, fold });
  }
  // Fold 3 alone is shifted so its own best threshold differs from the others'.
  for (const p of pairs) if (p.fold === 3) p.score += 0.25;
  const result = crossValidate(pairs, 10);
  assert.is(result.accuracies.length, 10);
  assert.is(result.accuracies[0], 1);
  assert.ok(result.accuracies[3] < 1, 'fold 3 must be scored with a threshold from the other folds');
  assert.ok(result.std > 0);
});

test('tarAtFar allows floor(far * impostors) false accepts', () => {
  const pairs: ScoredPair[] = [];
  for (let i = 0; i < 1000; i++) pairs.push({ score: i / 1000, same: false, fold: 0 });
  for (let i = 0; i < 100; i++) pairs.push({ score: 0.985 + i / 10000, same: true, fold: 0 });
  const { tar, threshold } = tarAtFar(pairs, 1e-2);
  assert.is(threshold, 0.989);
  const falseAccepts = pairs.filter((p) => !p.same && p.score > threshold).length;
  assert.is(falseAccepts, 10);
  assert.is(tar, pairs.filter((p) => p.same && p.score > 0.989).length / 100);
});

test.run();

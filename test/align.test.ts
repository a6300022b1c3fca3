import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { Affine, applyAffine, ARCFACE_112, estimateSimilarity, invertAffine, Point, templateFor } from '../lib/align';

function similarity(scale: number, angle: number, tx: number, ty: number): Affine {
  const c = scale * Math.cos(angle);
  const s = scale * Math.sin(angle);
  return [c, -s, tx, s, c, ty];
}

test('estimateSimilarity recovers an exact transform', () => {
  const truth = similarity(1.7, 0.3, -12.5, 40);
  const src: Point[] = [[10, 20], [80, 25], [45, 60], [20, 90], [75, 95]];
  const dst = src.map((p) => applyAffine(truth, p));
  const fitted = estimateSimilarity(src, dst);
  fitted.forEach((v, i) => assert.ok(Math.abs(v - truth[i]) < 1e-9, `entry ${i}: ${v} vs ${truth[i]}`));
});

test('estimateSimilarity is least squares under noise', () => {
  const src: Point[] = ARCFACE_112.map(([x, y]) => [x * 2 + 100, y * 2 + 50]);
  const noisy: Point[] = ARCFACE_112.map(([x, y], i) => [x + (i % 2 ? 0.5 : -0.5), y + (i % 3 ? 0.4 : -0.3)]);
  const fitted = estimateSimilarity(src, noisy);
  const error = (m: Affine): number => src.reduce((s, p, i) => {
    const q = applyAffine(m, p);
    return s + (q[0] - noisy[i][0]) ** 2 + (q[1] - noisy[i][1]) ** 2;
  }, 0);
  const base = error(fitted);
  for (const delta of [1e-3, -1e-3]) {
    for (let k = 0; k < 6; k++) {
      const moved = fitted.slice() as Affine;
      moved[k] += delta;
      // Keep the perturbation a similarity by moving the paired entry too.
      if (k === 0) moved[4] += delta;
      if (k === 4) moved[0] += delta;
      if (k === 1) moved[3] -= delta;
      if (k === 3) moved[1] -= delta;
      assert.ok(error(moved) >= base, `perturbing entry ${k} lowered the error`);
    }
  }
});

test('estimateSimilarity rejects coincident points', () => {
  assert.throws(() => estimateSimilarity([[1, 1], [1, 1]], [[0, 0], [1, 1]]), /coincide/);
  assert.throws(() => estimateSimilarity([[1, 1]], [[0, 0]]), /length/);
});

test('invertAffine composes to identity', () => {
  const m = similarity(0.8, -1.1, 3, 7);
  const inv = invertAffine(m);
  const p: Point = [13.25, -4.5];
  const back = applyAffine(inv, applyAffine(m, p));
  assert.ok(Math.abs(back[0] - p[0]) < 1e-9, `x ${back[0]}`);
  assert.ok(Math.abs(back[1] - p[1]) < 1e-9, `y ${back[1]}`);
});

test('templateFor picks the template by landmark count', () => {
  assert.equal(templateFor(5), ARCFACE_112);
  assert.equal(templateFor(4)[3], [56.1396, 92.2848]);
  assert.throws(() => templateFor(3), /4 or 5 landmarks/);
});

test.run();

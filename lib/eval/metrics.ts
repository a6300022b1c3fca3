// Verification metrics: k-fold accuracy with thresholds chosen on the other folds, and
// TAR at a given FAR.

export interface ScoredPair {
  score: number;
  same: boolean;
  fold: number;
}

function accuracyAt(pairs: ScoredPair[], threshold: number): number {
  let correct = 0;
  for (const p of pairs) if ((p.score >= threshold) === p.same) correct++;
  return pairs.length ? correct / pairs.length : 0;
}

/** Returns the threshold with the best accuracy on `pairs`, a midpoint between adjacent distinct scores. */
export function bestThreshold(pairs: ScoredPair[]): number {
  const sorted = pairs.slice().sort((a, b) => a.score - b.score);
  // A threshold below every score accepts all pairs, so only the same-person pairs are right.
  let correct = sorted.filter((p) => p.same).length;
  let best = correct;
  let bestAt = sorted.length ? sorted[0].score - 1e-6 : 0;

  // Moving the threshold above sorted[i] rejects it: +1 if it was a different pair, -1 if same.
  for (let i = 0; i < sorted.length; i++) {
    correct += sorted[i].same ? -1 : 1;
    const next = i + 1 < sorted.length ? sorted[i + 1].score : sorted[i].score + 1e-6;
    if (next === sorted[i].score) continue;
    if (correct > best) {
      best = correct;
      bestAt = (sorted[i].score + next) / 2;
    }
  }
  return bestAt;
}

export interface FoldResult {
  accuracies: number[];
  thresholds: number[];
  mean: number;
  std: number;
}

/** For each fold, picks the threshold on the other folds and measures accuracy on it. */
export function crossValidate(pairs: ScoredPair[], folds: number): FoldResult {
  const accuracies: number[] = [];
  const thresholds: number[] = [];
  for (let f = 0; f < folds; f++) {
    const train = pairs.filter((p) => p.fold !== f);
    const test = pairs.filter((p) => p.fold === f);
    const threshold = bestThreshold(train);
    thresholds.push(threshold);
    accuracies.push(accuracyAt(test, threshold));
  }
  const mean = accuracies.reduce((s, a) => s + a, 0) / folds;
  const std = Math.sqrt(accuracies.reduce((s, a) => s + (a - mean) ** 2, 0) / folds);
  return { accuracies, thresholds, mean, std };
}

/**
 * True-accept rate at the lowest threshold whose false-accept rate over the impostor
 * pairs is at most `far`. With 3,000 impostor pairs, FAR 1e-3 allows 3 false accepts.
 */
export function tarAtFar(pairs: ScoredPair[], far: number): { tar: number; threshold: number } {
  const impostors = pairs.filter((p) => !p.same).map((p) => p.score).sort((a, b) => b - a);
  const genuine = pairs.filter((p) => p.same).map((p) => p.score);
  const allowed = Math.floor(far * impostors.length);
  // Accept scores strictly above the (allowed)-th highest impostor score.
  const threshold = allowed < impostors.length ? impostors[allowed] : -Infinity;
  const accepted = genuine.filter((s) => s > threshold).length;
  return { tar: genuine.length ? accepted / genuine.length : 0, threshold };
}

// The LFW verification protocol: pairs.txt contains 10 folds of 300 same-person and 300
// different-person pairs, and each fold's threshold is chosen on the other nine.

import * as fs from 'node:fs';
import * as path from 'node:path';

import { FacebitsError } from '../errors';
import type { Facebits } from '../facebits';
import { cosineSimilarity } from '../compare';
import { crossValidate, ScoredPair, tarAtFar } from './metrics';
import { Progress } from './progress';

export interface LfwPair {
  a: string;
  b: string;
  same: boolean;
  fold: number;
}

export interface LfwReport {
  accuracy: { mean: number; std: number };
  tar: { '1e-2': number; '1e-3': number };
  noFace: number;
  imagesPerSecond: number;
  images: number;
  pairs: number;
  /** Mean of the ten per-fold thresholds. */
  threshold: number;
  folds: number[];
}

function imagePath(dir: string, name: string, index: string): string {
  return path.join(dir, name, `${name}_${index.padStart(4, '0')}.jpg`);
}

/** Parses pairs.txt: a "folds perFold" line, then per fold perFold same and perFold different pairs. */
export function readPairs(dir: string): LfwPair[] {
  const file = path.join(dir, 'pairs.txt');
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (error) {
    throw new FacebitsError('INVALID_ARGUMENT', `Cannot read ${file}: ${(error as Error).message}; pass the LFW folder that contains pairs.txt`);
  }
  const lines = text.split(/\r?\n/).map((l) => l.trim()).filter((l) => l.length > 0);
  const [folds, perFold] = lines[0].split(/\s+/).map(Number);
  if (!(folds >= 2 && perFold > 0) || lines.length < 1 + folds * perFold * 2) {
    throw new FacebitsError('INVALID_ARGUMENT', `${file} is not an LFW pairs file: expected a "folds perFold" line with at least 2 folds, then folds x perFold x 2 pairs`);
  }

  const pairs: LfwPair[] = [];
  for (let i = 0; i < folds * perFold * 2; i++) {
    const fields = lines[1 + i].split(/\s+/);
    const fold = Math.floor(i / (2 * perFold));
    if (fields.length === 3) {
      pairs.push({ a: imagePath(dir, fields[0], fields[1]), b: imagePath(dir, fields[0], fields[2]), same: true, fold });
    } else if (fields.length === 4) {
      pairs.push({ a: imagePath(dir, fields[0], fields[1]), b: imagePath(dir, fields[2], fields[3]), same: false, fold });
    } else {
      throw new FacebitsError('INVALID_ARGUMENT', `${file} line ${i + 2} is not a pair: "${lines[1 + i]}"`);
    }
  }
  return pairs;
}

export interface LfwOptions {
  /** Images embedded at once. */
  concurrency?: number;
  progress?: boolean;
}

export interface LfwEmbeddings {
  /** Embedding per image path, or null where no face was found. */
  embeddings: Map<string, Float32Array | null>;
  noFace: number;
  imagesPerSecond: number;
}

/** Embeds every image the pairs use. Images with no face map to null. */
export async function embedLfwImages(fb: Facebits, pairs: LfwPair[], options: LfwOptions = {}): Promise<LfwEmbeddings> {
  const images = [...new Set(pairs.flatMap((p) => [p.a, p.b]))];
  const embeddings = new Map<string, Float32Array | null>();
  const progress = new Progress(images.length, options.progress ?? true);

  let noFace = 0;
  let next = 0;
  const started = process.hrtime.bigint();
  const worker = async (): Promise<void> => {
    while (next < images.length) {
      const file = images[next++];
      try {
        embeddings.set(file, (await fb.embed(file)).embedding);
      } catch (error) {
        if ((error as FacebitsError).code !== 'NO_FACE') throw error;
        embeddings.set(file, null);
        noFace++;
      }
      progress.tick();
    }
  };
  await Promise.all(Array.from({ length: options.concurrency ?? 4 }, worker));
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  progress.done();
  return { embeddings, noFace, imagesPerSecond: images.length / seconds };
}

/**
 * Scores every pair with `score` and runs the k-fold protocol. A pair with an image where
 * no face was found scores -1, the lowest cosine.
 */
export function scoreLfw(
  pairs: LfwPair[],
  embedded: LfwEmbeddings,
  score: (a: Float32Array, b: Float32Array) => number,
): LfwReport {
  const scored: ScoredPair[] = pairs.map((p) => {
    const a = embedded.embeddings.get(p.a);
    const b = embedded.embeddings.get(p.b);
    return { score: a && b ? score(a, b) : -1, same: p.same, fold: p.fold };
  });

  const folds = Math.max(...pairs.map((p) => p.fold)) + 1;
  const cv = crossValidate(scored, folds);
  return {
    accuracy: { mean: cv.mean, std: cv.std },
    tar: { '1e-2': tarAtFar(scored, 1e-2).tar, '1e-3': tarAtFar(scored, 1e-3).tar },
    noFace: embedded.noFace,
    imagesPerSecond: embedded.imagesPerSecond,
    images: embedded.embeddings.size,
    pairs: pairs.length,
    threshold: cv.thresholds.reduce((s, t) => s + t, 0) / cv.thresholds.length,
    folds: cv.accuracies,
  };
}

/** Embeds every image the pairs use and runs the 10-fold protocol on cosine similarity. */
export async function evaluateLfw(fb: Facebits, dir: string, options: LfwOptions = {}): Promise<LfwReport> {
  const pairs = readPairs(dir);
  const embedded = await embedLfwImages(fb, pairs, options);
  return scoreLfw(pairs, embedded, cosineSimilarity);
}

// The call mix of the concurrency stress test, shared by the main thread and the workers.

import type { Facebits } from '../lib';

export interface StressReference {
  /** Embedding of each image from one sequential embed() call. */
  embeddings: Float32Array[];
  /** JSON of compare(i, j) from sequential calls, row-major. */
  comparisons: string[];
}

export interface StressResult {
  embeds: number;
  compares: number;
  mismatches: string[];
}

export function sameFloats(a: Float32Array, b: Float32Array): boolean {
  if (a.length !== b.length) return false;
  const x = new Uint32Array(a.buffer, a.byteOffset, a.length);
  const y = new Uint32Array(b.buffer, b.byteOffset, b.length);
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
  return true;
}

/**
 * Issues `calls` calls from `concurrency` promise chains. Call i embeds image i mod n when
 * i is a multiple of embedEvery, and otherwise compares two reference embeddings picked by i.
 * Every result must equal the sequential one bit for bit.
 */
export async function runCalls(
  fb: Facebits,
  images: Uint8Array[],
  reference: StressReference,
  calls: number,
  embedEvery: number,
  concurrency: number,
  offset = 0,
): Promise<StressResult> {
  const n = images.length;
  const result: StressResult = { embeds: 0, compares: 0, mismatches: [] };
  let next = 0;
  const issueCall = async (i: number): Promise<void> => {
    const k = i + offset;
    if (k % embedEvery === 0) {
      const image = k % n;
      const got = await fb.embed(images[image]);
      result.embeds++;
      if (!sameFloats(got.embedding, reference.embeddings[image])) result.mismatches.push(`embed ${i} (image ${image})`);
    } else {
      const a = k % n;
      const b = (k * 7 + 3) % n;
      // Yield between compares so that they interleave with the embeds in flight.
      await Promise.resolve();
      const got = JSON.stringify(fb.compare(reference.embeddings[a], reference.embeddings[b]));
      result.compares++;
      if (got !== reference.comparisons[a * n + b]) result.mismatches.push(`compare ${i} (${a}, ${b})`);
    }
  };
  const chain = async (): Promise<void> => {
    while (next < calls) await issueCall(next++);
  };
  await Promise.all(Array.from({ length: concurrency }, chain));
  return result;
}

// LFW embeddings computed once per test process and shared by every test file that needs
// them (uvu runs all files in one process). Keyed by the pipeline's description.

import { Facebits, load, LoadOptions } from '../lib';
import { embedLfwImages, LfwEmbeddings, LfwPair, readPairs } from '../lib/eval/lfw';
import { LFW } from './helpers';

const cache = new Map<string, Promise<{ pairs: LfwPair[]; embedded: LfwEmbeddings; fb: Facebits }>>();

/** Embeds the LFW pairs' images with `load(options)`; the returned Facebits stays loaded. */
export function lfwEmbeddings(options: LoadOptions = {}): Promise<{ pairs: LfwPair[]; embedded: LfwEmbeddings; fb: Facebits }> {
  const key = JSON.stringify(options);
  let entry = cache.get(key);
  if (!entry) {
    entry = (async () => {
      const fb = await load(options);
      const pairs = readPairs(LFW);
      const embedded = await embedLfwImages(fb, pairs, { progress: false });
      return { pairs, embedded, fb };
    })();
    cache.set(key, entry);
  }
  return entry;
}

// LFW embeddings computed once per test process and shared by every test file that needs
// them (uvu runs all files in one process). Keyed by the pipeline's description.

import * as path from 'node:path';

import { Facebits, load, LoadOptions } from '../lib';
import { embedLfwImages, LfwEmbeddings, LfwPair, readPairs } from '../lib/eval/lfw';
import { LFW, MODELS } from './helpers';

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

/** The reference pipeline: YuNet at 320x320, then foamliu's MobileFaceNet. */
export const YUNET_MOBILEFACENET: LoadOptions = {
  detector: { path: path.join(MODELS, 'yunet', 'yunet_s_320_320.onnx'), decoder: 'yunet', channels: 'BGR' },
  embedder: {
    path: path.join(MODELS, 'mobilefacenet-foamliu', 'MobileFaceNet.onnx'),
    channels: 'RGB',
    mean: [0.485 * 255, 0.456 * 255, 0.406 * 255],
    std: [0.229 * 255, 0.224 * 255, 0.225 * 255],
  },
};

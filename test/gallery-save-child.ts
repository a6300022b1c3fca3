// Child process for the crash test: saves galleries A and B to one file, alternately,
// until it is killed. Prints "ready" once the first save starts.

import { Gallery } from '../lib/gallery';
import { native } from '../lib/native';

/** Gallery A or B: 2,000 random 512-d templates, deterministic per name. */
export function crashGallery(name: 'A' | 'B'): Gallery {
  let state = name === 'A' ? 0x9e3779b9 : 0x7f4a7c15;
  const next = (): number => {
    state ^= state << 13;
    state >>>= 0;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    return state / 4294967296 - 0.5;
  };
  const gallery = new Gallery({ modelId: 'crash-test-model' });
  for (let i = 0; i < 2000; i++) {
    const embedding = new Float32Array(512).map(next);
    gallery.add(`${name}-${i}`, { embedding, code: native().packSigns(embedding) });
  }
  return gallery;
}

async function main(file: string): Promise<void> {
  const galleries = [crashGallery('B'), crashGallery('A')];
  process.stdout.write('ready\n');
  for (let i = 0; ; i++) await galleries[i % 2].save(file);
}

if (require.main === module) {
  main(process.argv[2]).catch((error) => {
    console.error(error);
    process.exit(1);
  });
}

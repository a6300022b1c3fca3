// Worker thread for stress.test.ts: loads its own facebits instance, runs its share of
// embed and compare calls concurrently, and posts back how many results differed from
// the sequential references it was given.

import * as fs from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';

import { load } from '../lib';
import { runCalls, StressReference } from './stress-calls';

interface WorkerInput {
  images: string[];
  reference: StressReference;
  calls: number;
  embedEvery: number;
  concurrency: number;
  offset: number;
}

async function main(): Promise<void> {
  const input = workerData as WorkerInput;
  const fb = await load();
  const buffers = input.images.map((file) => fs.readFileSync(file));
  const result = await runCalls(fb, buffers, input.reference, input.calls, input.embedEvery, input.concurrency, input.offset);
  fb.dispose();
  parentPort!.postMessage(result);
}

// Only a worker started by stress.test.ts runs; importing the file elsewhere does nothing.
if (parentPort) main().catch((error) => parentPort!.postMessage({ error: String(error?.stack ?? error) }));

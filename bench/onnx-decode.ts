// Compares the CPU time of decoding ONNX files with facebits' protobuf reader (decodeModel) and
// with onnx-proto (protobufjs 6), a development dependency. Prints the median of 15 decodes each,
// after 10 unmeasured decodes each so that both run optimised code.
//   npx tsx bench/onnx-decode.ts FILE.onnx [FILE.onnx ...]

import * as fs from 'node:fs';
import * as path from 'node:path';

import { onnx } from 'onnx-proto';

import { decodeModel } from '../lib/import/onnx-schema';

const RUNS = 15;
const WARM_UP_RUNS = 10;

/** Returns the median CPU time of `RUNS` calls of `decode`, in milliseconds. */
function medianCpuMs(decode: () => unknown): number {
  const times: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const before = process.cpuUsage();
    decode();
    const used = process.cpuUsage(before);
    times.push((used.user + used.system) / 1000);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(RUNS / 2)];
}

const files = process.argv.slice(2);
if (files.length === 0) {
  console.error('usage: npx tsx bench/onnx-decode.ts FILE.onnx [FILE.onnx ...]');
  process.exit(2);
}
for (const file of files) {
  const bytes = fs.readFileSync(file);
  for (let i = 0; i < WARM_UP_RUNS; i++) {
    decodeModel(bytes);
    onnx.ModelProto.decode(bytes);
  }
  const ours = medianCpuMs(() => decodeModel(bytes));
  const reference = medianCpuMs(() => onnx.ModelProto.decode(bytes));
  console.log(`${path.basename(file)}: decodeModel ${ours.toFixed(2)} ms, onnx-proto ${reference.toFixed(2)} ms (median CPU time of ${RUNS})`);
}

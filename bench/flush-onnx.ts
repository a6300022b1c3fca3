// Writes a copy of an ONNX model with subnormal float32 initializers set to zero, the same
// edit facebits makes to weights at load, so onnxruntime can be timed on equal weights.

import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import { onnx } from 'onnx-proto';

const SMALLEST_NORMAL = 1.1754944e-38;

function flush(values: Float32Array): number {
  let count = 0;
  for (let i = 0; i < values.length; i++) {
    if (values[i] !== 0 && Math.abs(values[i]) < SMALLEST_NORMAL) {
      values[i] = 0;
      count++;
    }
  }
  return count;
}

/**
 * Returns the path of the flushed copy in the OS temporary folder, and how many weights
 * changed. The copy is written once per source file content.
 */
export function flushedOnnxCopy(file: string): { path: string; flushed: number } {
  const bytes = fs.readFileSync(file);
  const digest = crypto.createHash('sha256').update(bytes).digest('hex').slice(0, 16);
  const model = onnx.ModelProto.decode(bytes);
  let flushed = 0;
  for (const tensor of model.graph?.initializer ?? []) {
    if (tensor.dataType !== onnx.TensorProto.DataType.FLOAT) continue;
    if (tensor.rawData && tensor.rawData.length) {
      const copy = new Uint8Array(tensor.rawData);
      flushed += flush(new Float32Array(copy.buffer, 0, copy.length / 4));
      tensor.rawData = copy;
    } else if (tensor.floatData && tensor.floatData.length) {
      const values = Float32Array.from(tensor.floatData);
      flushed += flush(values);
      tensor.floatData = Array.from(values);
    }
  }
  const out = path.join(os.tmpdir(), `facebits-bench-${digest}-${path.basename(file, '.onnx')}-flushed.onnx`);
  if (!fs.existsSync(out)) fs.writeFileSync(out, onnx.ModelProto.encode(model).finish());
  return { path: out, flushed };
}

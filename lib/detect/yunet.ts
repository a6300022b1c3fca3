// YuNet output decoding (the OpenCV FaceDetectorYN scheme).
//
// For strides 8, 16 and 32 the model gives per-cell cls, obj, bbox (4) and kps (10):
// score = sqrt(cls * obj), centre = (col + b0, row + b1) * stride, size = exp(b2, b3) * stride,
// keypoint k = (col + kx, row + ky) * stride. Keypoints come image-left eye first, the
// same order as the alignment template.

import type { Point } from '../align';
import { FacebitsError } from '../errors';
import type { NativeTensor } from '../native';
import { Face, nonMaxSuppression } from './face';

const STRIDES = [8, 16, 32];

export interface YuNetOptions {
  inputWidth: number;
  inputHeight: number;
  minScore: number;
  iouThreshold: number;
}

function clamp01(v: number): number {
  return Math.min(1, Math.max(0, v));
}

/** `outputs` are keyed by the ONNX output names cls_8, obj_8, bbox_8, kps_8 and so on. */
export function decodeYuNet(outputs: Map<string, NativeTensor>, options: YuNetOptions): Face[] {
  const faces: Face[] = [];

  for (const stride of STRIDES) {
    const get = (name: string): Float32Array => {
      const t = outputs.get(`${name}_${stride}`);
      if (!t) throw new FacebitsError('INVALID_MODEL', `YuNet output ${name}_${stride} is missing`);
      return t.data;
    };
    const cls = get('cls');
    const obj = get('obj');
    const bbox = get('bbox');
    const kps = get('kps');
    const cols = Math.ceil(options.inputWidth / stride);
    const rows = Math.ceil(options.inputHeight / stride);
    if (cls.length !== rows * cols) throw new FacebitsError('INVALID_MODEL', `YuNet cls_${stride} has ${cls.length} cells, expected ${rows * cols}`);

    for (let i = 0; i < rows * cols; i++) {
      const score = Math.sqrt(clamp01(cls[i]) * clamp01(obj[i]));
      if (score < options.minScore) continue;

      const col = i % cols;
      const row = Math.floor(i / cols);
      const cx = (col + bbox[i * 4]) * stride;
      const cy = (row + bbox[i * 4 + 1]) * stride;
      const w = Math.exp(bbox[i * 4 + 2]) * stride;
      const h = Math.exp(bbox[i * 4 + 3]) * stride;
      const landmarks: Point[] = [];
      for (let k = 0; k < 5; k++) landmarks.push([(col + kps[i * 10 + 2 * k]) * stride, (row + kps[i * 10 + 2 * k + 1]) * stride]);

      faces.push({ box: { x: cx - w / 2, y: cy - h / 2, width: w, height: h }, landmarks, score });
    }
  }

  return nonMaxSuppression(faces, options.iouThreshold);
}

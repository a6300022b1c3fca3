// Plans for two face-api networks whose weight manifests carry weights but no graph. The
// layer structure below follows @vladmandic/face-api 1.7.15 (src/faceFeatureExtractor,
// src/faceLandmarkNet, src/faceRecognitionNet) and loads each weight by its manifest name.

import { invalidModel } from '../errors';
import { Activation, BinaryKind, f32, OpType, PadMode, PoolKind, UnaryKind } from '../plan';
import { DecodedWeight, loadWeightsManifestFile } from './tfjs-weights';
import {
  convOutputSize,
  depthwiseToOhwi,
  hwioToOhwi,
  ImportedModel,
  LoweringBuilder,
  samePadding,
  scaleLayer,
  shiftLayer,
  TensorValue,
} from './tfjs-lowering';

export type FaceApiKind = 'landmark68' | 'recognition';

/** A face-api network as a plan whose first op normalises raw pixels. */
export interface FaceApiModel extends ImportedModel {
  /** Input format: a size x size RGB crop with values 0..255, NHWC [1, size, size, 3]. */
  input: { size: number; channels: 'RGB'; range: '0..255' };
  /** How to read output 0. */
  output: string;
}

/** Per-channel RGB mean that both networks subtract before dividing by 255. */
export const FACEAPI_MEAN_RGB = [122.782, 117.001, 104.298];

const LANDMARK_OUTPUT =
  'Output 0 is [1, 136]: x0, y0, x1, y1, ..., x67, y67 for the 68 iBUG-300W points, each a fraction of the ' +
  '112 x 112 input, so the pixel position of point i is (out[2i] * 112, out[2i + 1] * 112).';
const RECOGNITION_OUTPUT = 'Output 0 is [1, 128]: the face descriptor, not normalised; face-api compares descriptors by Euclidean distance.';

type Padding = 'same' | 'valid';

/** Emits face-api's layers into a plan, reading weights by name and checking their shapes. */
class FaceApiBuilder {
  readonly builder = new LoweringBuilder();

  constructor(
    private readonly file: string,
    private readonly weights: Map<string, DecodedWeight>,
  ) {}

  weight(name: string, shape: number[]): Float32Array {
    const weight = this.weights.get(name);
    if (!weight) throw invalidModel(this.file, `weight "${name}" is missing from the manifest`);
    if (weight.shape.length !== shape.length || weight.shape.some((d, i) => d !== shape[i])) {
      throw invalidModel(this.file, `weight "${name}" has shape [${weight.shape}]; expected [${shape}]`);
    }
    return weight.data as Float32Array;
  }

  /** RGB 0..255 to (x - mean) / 255, as a CHANNEL_AFFINE op. */
  normalize(x: TensorValue): TensorValue {
    const scale = new Float32Array(3).fill(1 / 255);
    const shift = Float32Array.from(FACEAPI_MEAN_RGB, (m) => -m / 255);
    return this.builder.emit(OpType.CHANNEL_AFFINE, [x], [], [scale, shift], x.shape, 'normalize');
  }

  /** TF conv2d with HWIO filters and the given stride and padding; bias is added when named. */
  conv(x: TensorValue, filtersName: string, k: number, outC: number, stride: number, padding: Padding, biasName: string | null, depthwise = false): TensorValue {
    const inC = x.shape[3];
    const filters = this.weight(filtersName, depthwise ? [k, k, inC, 1] : [k, k, inC, outC]);
    const weights = depthwise ? depthwiseToOhwi(filters, k, k, inC, 1) : hwioToOhwi(filters, k, k, inC, outC);
    const [pt, pb] = padding === 'same' ? samePadding(x.shape[1], k, stride, 1) : [0, 0];
    const [pl, pr] = padding === 'same' ? samePadding(x.shape[2], k, stride, 1) : [0, 0];
    const outH = convOutputSize(x.shape[1], k, stride, 1, pt, pb);
    const outW = convOutputSize(x.shape[2], k, stride, 1, pl, pr);
    const channels = depthwise ? inC : outC;
    const bias = biasName ? Float32Array.from(this.weight(biasName, [channels])) : null;
    const spatial = [k, k, stride, stride, 1, 1, pt, pl, pb, pr, depthwise ? inC : 1];
    return this.builder.emitLayer(x, weights, bias, channels, [1, outH, outW, channels], filtersName, spatial);
  }

  /** tf.separableConv2d with 3x3 depthwise filters and 'same' padding, then + bias. */
  separable(x: TensorValue, prefix: string, outC: number, stride: number): TensorValue {
    const depthwise = this.conv(x, `${prefix}/depthwise_filter`, 3, x.shape[3], stride, 'same', null, true);
    return this.conv(depthwise, `${prefix}/pointwise_filter`, 1, outC, 1, 'same', `${prefix}/bias`);
  }

  relu(x: TensorValue): TensorValue {
    const layer = this.builder.layerOf(x);
    if (layer && layer.layer!.activation.kind === Activation.NONE) {
      layer.layer!.activation.kind = Activation.RELU;
      return x;
    }
    return this.builder.emit(OpType.UNARY, [x], [UnaryKind.RELU, f32(0), f32(0)], [], x.shape, 'relu');
  }

  add(a: TensorValue, b: TensorValue, activation = Activation.NONE): TensorValue {
    return this.builder.emit(OpType.BINARY, [a, b], [BinaryKind.ADD, activation, f32(0), f32(0), 0], [], a.shape, 'add');
  }

  pool(x: TensorValue, kind: PoolKind, k: number, stride: number): TensorValue {
    const outH = convOutputSize(x.shape[1], k, stride, 1, 0, 0);
    const outW = convOutputSize(x.shape[2], k, stride, 1, 0, 0);
    return this.builder.emit(OpType.POOL2D, [x], [kind, k, k, stride, stride, 0, 0, 0, 0, 0], [], [1, outH, outW, x.shape[3]], 'pool');
  }

  /** Flattens x and multiplies by weights [in, out], adding bias when named. */
  fullyConnected(x: TensorValue, weightsName: string, outFeatures: number, biasName: string | null): TensorValue {
    const inFeatures = x.shape.reduce((n, d) => n * d, 1);
    const flat = this.builder.emit(OpType.RESHAPE, [x], [2, 1, inFeatures], [], [1, inFeatures], 'flatten');
    const source = this.weight(weightsName, [inFeatures, outFeatures]);
    const weights = new Float32Array(source.length);
    for (let i = 0; i < inFeatures; i++) for (let o = 0; o < outFeatures; o++) weights[o * inFeatures + i] = source[i * outFeatures + o];
    const bias = biasName ? Float32Array.from(this.weight(biasName, [outFeatures])) : null;
    return this.builder.emitLayer(flat, weights, bias, outFeatures, [1, outFeatures], weightsName);
  }
}

/**
 * face-api denseBlock4: out1 = relu(conv0(x)) with stride 2, then three separable convs
 * each reading relu of the running sum, and relu(out1 + out2 + out3 + out4) as output.
 */
function denseBlock4(net: FaceApiBuilder, x: TensorValue, prefix: string, outC: number, isFirst: boolean): TensorValue {
  const conv0 = isFirst ? net.conv(x, `${prefix}/conv0/filters`, 3, outC, 2, 'same', `${prefix}/conv0/bias`) : net.separable(x, `${prefix}/conv0`, outC, 2);
  const out1 = net.relu(conv0);
  const out2 = net.separable(out1, `${prefix}/conv1`, outC, 1);
  const sum12 = net.add(out1, out2);
  const out3 = net.separable(net.relu(sum12), `${prefix}/conv2`, outC, 1);
  const sum123 = net.add(sum12, out3);
  const out4 = net.separable(net.relu(sum123), `${prefix}/conv3`, outC, 1);
  return net.add(sum123, out4, Activation.RELU);
}

function buildLandmark68(net: FaceApiBuilder): TensorValue {
  let x = net.normalize(net.builder.input([1, 112, 112, 3]));
  x = denseBlock4(net, x, 'dense0', 32, true);
  x = denseBlock4(net, x, 'dense1', 64, false);
  x = denseBlock4(net, x, 'dense2', 128, false);
  x = denseBlock4(net, x, 'dense3', 256, false);
  x = net.pool(x, PoolKind.AVERAGE, 7, 2);
  return net.fullyConnected(x, 'fc/weights', 136, 'fc/bias');
}

/** face-api convLayer: conv + bias, then the scale layer (x * weights + biases), then optional ReLU. */
function scaledConv(net: FaceApiBuilder, x: TensorValue, prefix: string, k: number, outC: number, stride: number, padding: Padding, withRelu: boolean): TensorValue {
  const out = net.conv(x, `${prefix}/conv/filters`, k, outC, stride, padding, `${prefix}/conv/bias`);
  const layer = net.builder.layerOf(out)!;
  scaleLayer(layer, net.weight(`${prefix}/scale/weights`, [outC]));
  shiftLayer(layer, net.weight(`${prefix}/scale/biases`, [outC]));
  return withRelu ? net.relu(out) : out;
}

function residual(net: FaceApiBuilder, x: TensorValue, prefix: string): TensorValue {
  const channels = x.shape[3];
  const out = scaledConv(net, x, `${prefix}/conv1`, 3, channels, 1, 'same', true);
  const out2 = scaledConv(net, out, `${prefix}/conv2`, 3, channels, 1, 'same', false);
  return net.add(out2, x, Activation.RELU);
}

/**
 * face-api residualDown: the conv branch halves the size with a 'valid' 3x3 stride-2 conv.
 * The shortcut is a 2x2 average pool. When the conv branch comes out smaller, face-api
 * pads it with zeros at the bottom and right. It pads the shortcut's channels with zeros.
 */
function residualDown(net: FaceApiBuilder, x: TensorValue, prefix: string, outC: number): TensorValue {
  let out = scaledConv(net, x, `${prefix}/conv1`, 3, outC, 2, 'valid', true);
  out = scaledConv(net, out, `${prefix}/conv2`, 3, outC, 1, 'same', false);

  let pooled = net.pool(x, PoolKind.AVERAGE, 2, 2);
  const extraH = pooled.shape[1] - out.shape[1];
  const extraW = pooled.shape[2] - out.shape[2];
  if (extraH < 0 || extraW < 0 || outC < pooled.shape[3]) {
    throw new Error(`Internal error: residualDown ${prefix} cannot match [${out.shape}] to [${pooled.shape}]`);
  }
  if (extraH || extraW) {
    const shape = [1, out.shape[1] + extraH, out.shape[2] + extraW, outC];
    out = net.builder.emit(OpType.PAD, [out], [0, extraH, 0, extraW, 0, 0, PadMode.CONSTANT, f32(0)], [], shape, `${prefix}/pad`);
  }
  if (outC > pooled.shape[3]) {
    const shape = [1, pooled.shape[1], pooled.shape[2], outC];
    pooled = net.builder.emit(OpType.PAD, [pooled], [0, 0, 0, 0, 0, outC - pooled.shape[3], PadMode.CONSTANT, f32(0)], [], shape, `${prefix}/pad_channels`);
  }
  return net.add(pooled, out, Activation.RELU);
}

function buildRecognition(net: FaceApiBuilder): TensorValue {
  let x = net.normalize(net.builder.input([1, 150, 150, 3]));
  x = scaledConv(net, x, 'conv32_down', 7, 32, 2, 'valid', true);
  x = net.pool(x, PoolKind.MAX, 3, 2);
  for (const name of ['conv32_1', 'conv32_2', 'conv32_3']) x = residual(net, x, name);
  x = residualDown(net, x, 'conv64_down', 64);
  for (const name of ['conv64_1', 'conv64_2', 'conv64_3']) x = residual(net, x, name);
  x = residualDown(net, x, 'conv128_down', 128);
  for (const name of ['conv128_1', 'conv128_2']) x = residual(net, x, name);
  x = residualDown(net, x, 'conv256_down', 256);
  for (const name of ['conv256_1', 'conv256_2']) x = residual(net, x, name);
  x = residualDown(net, x, 'conv256_down_out', 256);
  const pooled = net.builder.emit(OpType.POOL2D, [x], [PoolKind.AVERAGE, 0, 0, 1, 1, 0, 0, 0, 0, 0], [], [1, 1, 1, 256], 'global_average');
  return net.fullyConnected(pooled, 'fc', 128, null);
}

/**
 * Builds the plan of face-api's FaceLandmark68Net ('landmark68', 112 x 112 input) or
 * FaceRecognitionNet ('recognition', 150 x 150 input) from its `*-weights_manifest.json`.
 * The plan takes raw RGB 0..255 because its first op subtracts the mean and divides by 255.
 */
export function importFaceApi(kind: FaceApiKind, manifestPath: string): FaceApiModel {
  if (kind !== 'landmark68' && kind !== 'recognition') {
    throw invalidModel(manifestPath, `unknown face-api network "${String(kind)}"; expected "landmark68" or "recognition"`);
  }
  const net = new FaceApiBuilder(manifestPath, loadWeightsManifestFile(manifestPath));
  const output = kind === 'landmark68' ? buildLandmark68(net) : buildRecognition(net);
  const size = kind === 'landmark68' ? 112 : 150;
  return {
    plan: net.builder.build([output]),
    inputName: 'input',
    inputShape: [1, size, size, 3],
    outputNames: [kind === 'landmark68' ? 'landmarks' : 'descriptor'],
    outputShapes: [output.shape.slice()],
    input: { size, channels: 'RGB', range: '0..255' },
    output: kind === 'landmark68' ? LANDMARK_OUTPUT : RECOGNITION_OUTPUT,
  };
}

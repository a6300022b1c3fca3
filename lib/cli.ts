// The facebits command line: verify two photos, or evaluate on LFW.
// Exit codes: 0 same person, 1 different people, 2 error (message on stderr).

import * as path from 'node:path';
import { parseArgs } from 'node:util';

import { runGalleryCommand } from './cli-gallery';
import { printCommandError, printParseError } from './cli-errors';
import { FacebitsError } from './errors';
import { cosineSimilarity } from './compare';
import { embedLfwImages, readPairs, scoreLfw } from './eval/lfw';
import { writeReport } from './eval/report';
import { evaluateScorers, QUANTIZER_METHODS, QuantizerMethod, ScorerReport } from './eval/scorers';
import { load, LoadOptions } from './load';

const USAGE = `Usage:
  facebits verify IMAGE_A IMAGE_B [options]   decide whether two photos show the same person
  facebits eval lfw DIR [options]             k-fold LFW verification on DIR/pairs.txt
  facebits eval identify DIR [options]        closed-set identification (facebits gallery --help)
  facebits gallery add|remove|search|info     enrol faces and search them (facebits gallery --help)

Options:
  --json                     print one JSON object (for eval, as the last line)
  --threshold N              cosine similarity at or above which faces match (-1..1); an embedder
                             file without it uses 0.3, which is not calibrated for that model
  --far N                    verify: decide at the threshold calibrated for this false-accept
                             rate on LFW (built-in embedder only), instead of the default 1e-2
  --min-score N              minimum detector score, 0..1 (default 0.5)
  --detector NAME|PATH       "blazeface" (default) or an ONNX / TF.js / .fbm detector
  --decoder NAME             output decoding for a detector file: "yunet" or "blazeface"
  --detector-input N,C,H,W   input shape for a detector with dynamic dimensions
  --detector-channels RGB|BGR
  --landmarks NAME           "face-api-68" or "none" (default: face-api-68 for BlazeFace)
  --landmark-expand N        landmark crop side relative to the detector box (default 1.0)
  --no-flip                  embed only the aligned face, not also its mirror image
  --single-face              fail (MULTIPLE_FACES) on a photo with several faces instead of
                             using the most likely subject
  --embedder NAME|PATH       "fr-feature" (default) or an ONNX / TF.js / .fbm embedder
  --embedder-channels RGB|BGR
  --embedder-mean A,B,C      per-channel mean subtracted from 0..255 pixels
  --embedder-std A,B,C       per-channel divisor applied after the mean
  --embedder-input N,C,H,W   input shape for an embedder with dynamic dimensions
  --precision fp32|bf16      bf16 runs matrix products in bfloat16 where the CPU has AMX-BF16
                             or AVX512_BF16 (float32 elsewhere); default fp32
  --concurrency N            images in flight during eval (default 4)
  --bits N,N,...             eval: also score Hamming distance of fitted codes of these lengths
  --quantizers NAME,...      eval: quantisers to compare at each --bits length, from labelled
                             (default), itq, centred, random and sign
  --head                     eval: also score the learned head (fitted on the training folds)
  --report DIR               eval: write ROC curves (roc.svg) and index.html for every scorer
  --max-pixels N             largest decoded image accepted, in pixels (default 268402689)
  -h, --help                 show this help
  -v, --version              print the facebits version`;

export const OPTIONS = {
  json: { type: 'boolean' },
  threshold: { type: 'string' },
  far: { type: 'string' },
  'min-score': { type: 'string' },
  detector: { type: 'string' },
  decoder: { type: 'string' },
  'detector-input': { type: 'string' },
  'detector-channels': { type: 'string' },
  landmarks: { type: 'string' },
  'landmark-expand': { type: 'string' },
  'no-flip': { type: 'boolean' },
  'single-face': { type: 'boolean' },
  embedder: { type: 'string' },
  'embedder-channels': { type: 'string' },
  'embedder-mean': { type: 'string' },
  'embedder-std': { type: 'string' },
  'embedder-input': { type: 'string' },
  precision: { type: 'string' },
  concurrency: { type: 'string' },
  bits: { type: 'string' },
  quantizers: { type: 'string' },
  head: { type: 'boolean' },
  report: { type: 'string' },
  'max-pixels': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean', short: 'v' },
} as const;

type Values = Record<string, string | boolean | undefined>;

function usageError(message: string): FacebitsError {
  return new FacebitsError('INVALID_ARGUMENT', `${message}\n\n${USAGE}`);
}

function number(values: Values, name: string): number | undefined {
  const raw = values[name];
  if (raw === undefined) return undefined;
  const value = Number(raw);
  if (!Number.isFinite(value)) throw usageError(`--${name} expects a number, received "${raw}"`);
  return value;
}

function list(values: Values, name: string): number[] | undefined {
  const raw = values[name];
  if (raw === undefined) return undefined;
  const items = String(raw).split(',').map(Number);
  if (items.some((v) => !Number.isFinite(v))) throw usageError(`--${name} expects comma-separated numbers, received "${raw}"`);
  return items;
}

function channels(values: Values, name: string): 'RGB' | 'BGR' | undefined {
  const raw = values[name];
  if (raw === undefined) return undefined;
  if (raw !== 'RGB' && raw !== 'BGR') throw usageError(`--${name} expects RGB or BGR, received "${raw}"`);
  return raw;
}

/** Builds load() options from the model flags shared by every command. */
export function loadOptionsFrom(values: Values): LoadOptions {
  const options: LoadOptions = {
    threshold: number(values, 'threshold'),
    minScore: number(values, 'min-score'),
    landmarks: values.landmarks as LoadOptions['landmarks'],
    landmarkExpand: number(values, 'landmark-expand'),
    flip: values['no-flip'] ? false : undefined,
    multipleFaces: values['single-face'] ? 'error' : undefined,
    maxPixels: number(values, 'max-pixels'),
    precision: values.precision as LoadOptions['precision'],
  };

  const detector = values.detector as string | undefined;
  if (detector && detector !== 'blazeface') {
    const decoder = values.decoder as string | undefined;
    if (decoder !== 'yunet' && decoder !== 'blazeface') throw usageError('--detector PATH needs --decoder yunet or --decoder blazeface');
    options.detector = { path: detector, decoder, inputShape: list(values, 'detector-input'), channels: channels(values, 'detector-channels') };
  }

  const embedder = values.embedder as string | undefined;
  if (embedder && embedder !== 'fr-feature') {
    options.embedder = {
      path: embedder,
      channels: channels(values, 'embedder-channels'),
      mean: list(values, 'embedder-mean'),
      std: list(values, 'embedder-std'),
      inputShape: list(values, 'embedder-input'),
      threshold: number(values, 'threshold'),
    };
  }
  return options;
}

async function verify(positionals: string[], values: Values): Promise<number> {
  if (positionals.length !== 2) throw usageError('verify needs two images');
  if (values.far !== undefined && values.threshold !== undefined) {
    throw usageError('--far and --threshold both set the decision threshold; pass only one of them');
  }
  const fb = await load(loadOptionsFrom(values));
  try {
    // One after the other, so an error always names the first image that failed.
    const a = await fb.embed(positionals[0]);
    const b = await fb.embed(positionals[1]);
    const far = number(values, 'far');
    const result = fb.compare(a, b, far === undefined ? {} : { far });
    for (const [file, face] of [[positionals[0], a], [positionals[1], b]] as const) {
      if (face.faceCount > 1) {
        console.error(`facebits: ${file} has ${face.faceCount} faces; compared the most likely subject (--single-face makes this an error)`);
      }
    }
    if (values.json) {
      console.log(JSON.stringify({
        ...result, faces: [a.faceCount, b.faceCount], modelId: fb.modelId, isa: fb.isa, precision: fb.precision,
      }));
    } else {
      console.log(`${result.same ? 'same person' : 'different people'}`);
      console.log(`cosine ${result.cosine.toFixed(4)} (threshold ${result.threshold.toFixed(4)})`);
      console.log(`hamming ${result.hamming} of ${result.bits} bits`);
    }
    return result.same ? 0 : 1;
  } finally {
    fb.dispose();
  }
}

/** Returns a note when the impostor pairs are too few to measure `far`, and "" otherwise. */
function farCaveat(far: number, impostors: number): string {
  if (far * impostors >= 1) return '';
  return `  (only ${impostors} impostor pairs, so no impostor is accepted: this is TAR at FAR 0, not ${far})`;
}

function quantizerList(value: unknown): QuantizerMethod[] | undefined {
  if (value === undefined) return undefined;
  const names = String(value).split(',').map((name) => name.trim());
  for (const name of names) {
    if (!(QUANTIZER_METHODS as readonly string[]).includes(name)) {
      throw usageError(`--quantizers expects names from ${QUANTIZER_METHODS.join(', ')}, received "${name}"`);
    }
  }
  return names as QuantizerMethod[];
}

async function evaluate(positionals: string[], values: Values): Promise<number> {
  const [protocol, dir] = positionals;
  if (protocol !== 'lfw') throw usageError(`Unknown eval protocol "${protocol ?? ''}"; use "lfw" or "identify"`);
  if (!dir) throw usageError('eval lfw needs the folder that contains pairs.txt: facebits eval lfw DIR');
  const concurrency = number(values, 'concurrency') ?? 4;
  if (!Number.isInteger(concurrency) || concurrency < 1) throw usageError(`--concurrency expects a positive integer, received ${concurrency}`);

  const fb = await load(loadOptionsFrom(values));
  try {
    const bits = list(values, 'bits') ?? [];
    if (bits.some((b) => !Number.isInteger(b) || b < 1)) throw usageError(`--bits expects positive integers, received "${values.bits}"`);
    const quantizers = quantizerList(values.quantizers);
    const pairs = readPairs(dir);
    const embedded = await embedLfwImages(fb, pairs, { concurrency, progress: true });
    const report = scoreLfw(pairs, embedded, cosineSimilarity);
    const pct = (v: number): string => (v * 100).toFixed(2);
    console.log(`model        ${fb.modelId} (${fb.isa}, ${fb.precision})`);
    const folds = report.folds.length;
    console.log(`accuracy     ${pct(report.accuracy.mean)} ± ${pct(report.accuracy.std)} %  (${folds}-fold, threshold from the other ${folds - 1} folds)`);
    const impostors = pairs.filter((pair) => !pair.same).length;
    console.log(`TAR@FAR1e-2  ${pct(report.tar['1e-2'])} %${farCaveat(1e-2, impostors)}`);
    console.log(`TAR@FAR1e-3  ${pct(report.tar['1e-3'])} %${farCaveat(1e-3, impostors)}`);
    console.log(`no face      ${report.noFace} of ${report.images} images`);
    console.log(`speed        ${report.imagesPerSecond.toFixed(1)} images/s`);
    console.log(`threshold    ${report.threshold.toFixed(4)} (mean of the per-fold thresholds)`);
    let scorers: ScorerReport[] | undefined;
    if (bits.length || values.head || values.report) {
      scorers = evaluateScorers(pairs, embedded, { bits, quantizers, head: Boolean(values.head || values.report) });
      console.log('scorer                accuracy %        TAR@1e-2  (FAR)       TAR@1e-3  (FAR)   each fitted on the other folds');
      for (const s of scorers) {
        console.log(`${s.name.padEnd(21)} ${pct(s.accuracy.mean)} ± ${pct(s.accuracy.std)}    ${pct(s.tar['1e-2'])} (${pct(s.heldOutFar['1e-2'])})    ${pct(s.tar['1e-3'])} (${pct(s.heldOutFar['1e-3'])})`);
      }
      if (values.report) console.log(`report       ${writeReport(String(values.report), `LFW, ${fb.modelId}`, scorers)}`);
    }
    if (values.json) {
      const extra = scorers ? { scorers: scorers.map(({ scores: _scores, ...rest }) => rest) } : {};
      console.log(JSON.stringify({ ...report, ...extra }));
    }
    return 0;
  } finally {
    fb.dispose();
  }
}

/** Reads the version from the package.json one folder above this file (lib/ or dist/). */
function packageVersion(): string {
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  return (require(path.join(__dirname, '..', 'package.json')) as { version: string }).version;
}

export async function main(argv: string[]): Promise<number> {
  if (argv[0] === 'gallery' || (argv[0] === 'eval' && argv[1] === 'identify')) return runGalleryCommand(argv);
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
  } catch (error) {
    printParseError(error, USAGE);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.version) {
    console.log(packageVersion());
    return 0;
  }
  if (values.help || positionals.length === 0) {
    console.log(USAGE);
    return positionals.length === 0 && !values.help ? 2 : 0;
  }

  try {
    const [command, ...rest] = positionals;
    if (command === 'verify') return await verify(rest, values);
    if (command === 'eval') return await evaluate(rest, values);
    throw usageError(`Unknown command "${command}"`);
  } catch (error) {
    printCommandError(error);
    return 2;
  }
}

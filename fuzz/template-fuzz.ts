// Mutation fuzzer for enrolment templates (parseTemplate in lib/template.ts), which are
// parsed in TypeScript. Each round mutates a valid template (bit flips, byte runs, edge
// values in the length fields, truncation, extension), recomputes the trailing CRC-32 in
// half of the rounds so that the mutation reaches the checks behind it, and parses it. Every
// round must either parse or raise a FacebitsError with code INVALID_TEMPLATE; anything
// else is a finding, saved under fuzz/out/.
//   npx tsx fuzz/template-fuzz.ts --seconds 60 [--seed N]


import { FacebitsError } from '../lib/errors';
import { buildTemplate, crc32, parseTemplate, serializeTemplate } from '../lib/template';
import { finish, fuzzArguments, saveFinding } from './driver';

function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = Math.imul(state ^ (state >>> 15), state | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function sampleTemplate(modelId: string, dimension: number, bits: number): Uint8Array {
  const samples = [0, 1, 2].map((s) => Float32Array.from({ length: dimension }, (_, i) => Math.sin(i * (s + 1))));
  const code = new Uint8Array(Math.ceil(bits / 64) * 8).fill(0xa5);
  return serializeTemplate(buildTemplate(samples, modelId, () => code, bits));
}

function mutate(base: Uint8Array, next: () => number): Uint8Array {
  let bytes = new Uint8Array(base);
  const pick = (n: number): number => Math.floor(next() * n);
  const rounds = 1 + pick(4);
  for (let r = 0; r < rounds; r++) {
    const view = new DataView(bytes.buffer);
    switch (pick(6)) {
      case 0: if (bytes.length) bytes[pick(bytes.length)] ^= 1 << pick(8); break;
      case 1: if (bytes.length) bytes.fill(pick(256), pick(bytes.length), pick(bytes.length + 1)); break;
      case 2: {
        // The model id length, or a 32-bit field after it (dimension, count, spread, bits).
        if (bytes.length < 10) break;
        const idLength = view.getUint16(8, true);
        const values = [0, 1, 63, 64, 65, 65535, 65536, 65537, 0x7fffffff, 0xffffffff, 0x7fc00000, pick(70000)];
        const at = [8, 10 + idLength, 14 + idLength, 18 + idLength, 22 + idLength][pick(5)];
        if (at === 8) view.setUint16(8, values[pick(values.length)] & 0xffff, true);
        else if (at + 4 <= bytes.length) view.setUint32(at, values[pick(values.length)], true);
        break;
      }
      case 3: if (bytes.length >= 6) new DataView(bytes.buffer).setUint16(4, [0, 1, 2, 0xffff][pick(4)], true); break;
      case 4: bytes = bytes.slice(0, pick(bytes.length + 1)); break;
      default: {
        const extra = new Uint8Array(bytes.length + 1 + pick(64));
        extra.set(bytes);
        bytes = extra;
      }
    }
  }
  if (next() < 0.5 && bytes.length >= 4) {
    new DataView(bytes.buffer).setUint32(bytes.length - 4, crc32(bytes.subarray(0, bytes.length - 4)), true);
  }
  return bytes;
}

export interface TemplateFuzzReport {
  rounds: number;
  parsed: number;
  rejected: number;
  findings: string[];
}

/** Runs rounds until `seconds` pass or `maxRounds` are done. */
export function fuzzTemplates(seconds: number, seed = 1, maxRounds = Infinity): TemplateFuzzReport {
  const bases = [sampleTemplate('fr_feature@1', 512, 512), sampleTemplate('', 1, 1), sampleTemplate('m'.repeat(300), 130, 77)];
  const next = random(seed);
  const report: TemplateFuzzReport = { rounds: 0, parsed: 0, rejected: 0, findings: [] };
  const end = Date.now() + seconds * 1000;
  while (Date.now() < end && report.rounds < maxRounds) {
    const bytes = mutate(bases[report.rounds % bases.length], next);
    report.rounds++;
    try {
      const template = parseTemplate(bytes);
      serializeTemplate(template);
      report.parsed++;
    } catch (error) {
      if (error instanceof FacebitsError && error.code === ('INVALID_TEMPLATE' as FacebitsError['code'])) {
        report.rejected++;
      } else {
        saveFinding(report.findings, 'template', '.fbt', seed, report.rounds, bytes, error);
      }
    }
  }
  return report;
}

if (require.main === module) {
  const { seconds, seed } = fuzzArguments();
  const report = fuzzTemplates(seconds, seed);
  finish(`template-fuzz: seed ${seed}, ${report.rounds} rounds in ${seconds} s, ${report.parsed} parsed, ${report.rejected} rejected`, report.findings);
}

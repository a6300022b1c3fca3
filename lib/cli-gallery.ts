// The gallery and identification commands of the facebits command line:
//   facebits gallery add|remove|search|info GALLERY ...
//   facebits eval identify DIR
// Exit codes: 0 success (for search: a match at or above the threshold), 1 search found no
// match, 2 error (message on stderr).

import * as fs from 'node:fs';
import { parseArgs } from 'node:util';

import { loadOptionsFrom, OPTIONS } from './cli';
import { printCommandError, printParseError } from './cli-errors';
import { FacebitsError } from './errors';
import { evaluateIdentify } from './eval/identify';
import { Gallery } from './gallery';
import { load } from './load';

export const GALLERY_USAGE = `Usage:
  facebits gallery add GALLERY ID IMAGE... [options]  enrol the face in one or more photos as ID (creates GALLERY if absent)
  facebits gallery remove GALLERY ID [options]        remove ID
  facebits gallery search GALLERY IMAGE [options]     list the enrolled faces that match IMAGE
  facebits gallery info GALLERY [--json]              print the model, size and code length
  facebits eval identify DIR [options]                closed-set identification on DIR/Name/photos

Gallery options (plus the model options of "facebits --help"):
  --json                     print one JSON object (for eval, as the last line)
  --k N                      matches to list (default 5)
  --threshold N              minimum cosine similarity of a match (default: the model's threshold)
  --shortlist N              candidates kept by the Hamming scan for the cosine re-rank (default 100)
  --exact                    score every entry by cosine instead of the two-stage search
  --concurrency N            images in flight during eval (default 4)`;

const GALLERY_OPTIONS = {
  k: { type: 'string' },
  shortlist: { type: 'string' },
  exact: { type: 'boolean' },
} as const;

type Values = Record<string, string | boolean | undefined>;

function usageError(message: string): FacebitsError {
  return new FacebitsError('INVALID_ARGUMENT', `${message}\n\n${GALLERY_USAGE}`);
}

function positiveInteger(values: Values, name: string, fallback: number): number {
  const raw = values[name];
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1) throw usageError(`--${name} expects a positive integer, received "${raw}"`);
  return value;
}

async function openOrCreate(file: string, modelId: string): Promise<Gallery> {
  if (fs.existsSync(file)) return Gallery.open(file, { modelId });
  return new Gallery({ modelId });
}

async function add(args: string[], values: Values): Promise<number> {
  if (args.length < 3) throw usageError('gallery add needs a gallery file, an id and at least one image');
  const [file, id, ...images] = args;
  const fb = await load(loadOptionsFrom(values));
  try {
    const gallery = await openOrCreate(file, fb.modelId);
    // Several photos of one person enrol as one template: the normalised mean embedding.
    const { embedding, code, count, spread } = await fb.enroll(images);
    gallery.add(id, { embedding, code });
    await gallery.save(file);
    if (values.json) console.log(JSON.stringify({ added: id, photos: count, spread, size: gallery.size }));
    else console.log(`added ${id} to ${file} from ${count} photo${count > 1 ? 's' : ''} (${gallery.size} entries)`);
    return 0;
  } finally {
    fb.dispose();
  }
}

async function remove(args: string[], values: Values): Promise<number> {
  if (args.length !== 2) throw usageError('gallery remove needs a gallery file and an id');
  const [file, id] = args;
  const gallery = await Gallery.open(file);
  if (!gallery.remove(id)) throw new FacebitsError('INVALID_ARGUMENT', `Gallery ${file} has no id "${id}"; list the ids with "facebits gallery info ${file} --json"`);
  await gallery.save(file);
  if (values.json) console.log(JSON.stringify({ removed: id, size: gallery.size }));
  else console.log(`removed ${id} from ${file} (${gallery.size} entries)`);
  return 0;
}

async function search(args: string[], values: Values): Promise<number> {
  if (args.length !== 2) throw usageError('gallery search needs a gallery file and an image');
  const [file, image] = args;
  const k = positiveInteger(values, 'k', 5);
  const shortlist = positiveInteger(values, 'shortlist', 100);
  const fb = await load(loadOptionsFrom(values));
  try {
    const gallery = await Gallery.open(file, { modelId: fb.modelId });
    const probe = await fb.embed(image);
    const started = process.hrtime.bigint();
    const matches = gallery.search(probe, { k, shortlist, threshold: fb.threshold, exact: !!values.exact });
    const searchMs = Number(process.hrtime.bigint() - started) / 1e6;
    if (values.json) {
      console.log(JSON.stringify({ matches, threshold: fb.threshold, size: gallery.size, searchMs }));
    } else if (matches.length === 0) {
      console.log(`no match at or above cosine ${fb.threshold.toFixed(4)} among ${gallery.size} entries`);
    } else {
      for (const m of matches) console.log(`${m.id}\tcosine ${m.score.toFixed(4)}\thamming ${m.hamming}`);
    }
    return matches.length > 0 ? 0 : 1;
  } finally {
    fb.dispose();
  }
}

async function info(args: string[], values: Values): Promise<number> {
  if (args.length !== 1) throw usageError('gallery info needs a gallery file');
  // info reads the file only, so a model or search option would be silently ignored.
  const unused = Object.keys(values).filter((name) => name !== 'json' && values[name] !== undefined);
  if (unused.length > 0) throw usageError(`gallery info takes only --json; remove --${unused.join(', --')}`);
  const [file] = args;
  const gallery = await Gallery.open(file);
  const summary = {
    file,
    modelId: gallery.modelId,
    size: gallery.size,
    dimension: gallery.dimension,
    codeBits: gallery.codeBytes * 8,
    bytes: fs.statSync(file).size,
  };
  if (values.json) {
    console.log(JSON.stringify({ ...summary, ids: gallery.list() }));
  } else {
    console.log(`model      ${summary.modelId}`);
    console.log(`entries    ${summary.size}`);
    console.log(`embedding  ${summary.dimension} values, code ${summary.codeBits} bits`);
    console.log(`file size  ${summary.bytes} bytes`);
  }
  return 0;
}

async function identifyCommand(args: string[], values: Values): Promise<number> {
  if (args.length !== 1) throw usageError('eval identify needs a folder of person subfolders');
  const shortlist = positiveInteger(values, 'shortlist', 100);
  const concurrency = positiveInteger(values, 'concurrency', 4);
  const fb = await load(loadOptionsFrom(values));
  try {
    const report = await evaluateIdentify(fb, args[0], { shortlist, concurrency, progress: true });
    const pct = (v: number): string => (v * 100).toFixed(2);
    console.log(`model        ${fb.modelId} (${fb.isa}, ${fb.precision})`);
    console.log(`gallery      ${report.people} people, ${report.queries} queries (${report.noFace} of ${report.images} images had no face)`);
    console.log(`two-stage    rank-1 ${pct(report.twoStage.rank1)} %, rank-5 ${pct(report.twoStage.rank5)} % (shortlist ${report.shortlist})`);
    console.log(`exact scan   rank-1 ${pct(report.exact.rank1)} %, rank-5 ${pct(report.exact.rank5)} %`);
    console.log(`recall@5     ${pct(report.recallAt5)} % of the exact top 5; same best match in ${pct(report.top1Agreement)} %`);
    console.log(`search time  ${report.searchMs.twoStage.toFixed(3)} ms two-stage, ${report.searchMs.exact.toFixed(3)} ms exact, per query`);
    if (values.json) console.log(JSON.stringify(report));
    return 0;
  } finally {
    fb.dispose();
  }
}

/** Runs `gallery ...` or `eval identify ...`; argv starts with the command name. */
export async function runGalleryCommand(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: { ...OPTIONS, ...GALLERY_OPTIONS }, allowPositionals: true, strict: true });
  } catch (error) {
    printParseError(error, GALLERY_USAGE);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    console.log(GALLERY_USAGE);
    return 0;
  }

  try {
    const [command, sub, ...rest] = positionals;
    if (command === 'eval') return await identifyCommand(rest, values);
    if (sub === 'add') return await add(rest, values);
    if (sub === 'remove') return await remove(rest, values);
    if (sub === 'search') return await search(rest, values);
    if (sub === 'info') return await info(rest, values);
    throw usageError(sub ? `Unknown gallery command "${sub}"` : 'gallery needs a command: add, remove, search or info');
  } catch (error) {
    printCommandError(error);
    return 2;
  }
}

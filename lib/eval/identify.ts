// Closed-set identification: enrol one photo per person, query with the others, and
// compare the two-stage gallery search against the exact cosine scan.

import * as fs from 'node:fs';
import * as path from 'node:path';

import { FacebitsError } from '../errors';
import type { Facebits } from '../facebits';
import { Gallery, GalleryMatch, GalleryTemplate } from '../gallery';
import { Progress } from './progress';

export interface IdentifyOptions {
  /** Shortlist of the Hamming stage (default 100). */
  shortlist?: number;
  /** Threads for the Hamming scan (default 0: automatic). */
  threads?: number;
}

export interface RankAccuracy {
  rank1: number;
  rank5: number;
}

export interface IdentifyReport {
  /** People enrolled: those with at least two usable photos. */
  people: number;
  queries: number;
  shortlist: number;
  twoStage: RankAccuracy;
  exact: RankAccuracy;
  /** Mean share of the exact scan's top 5 that the two-stage top 5 also returns. */
  recallAt5: number;
  /** Share of queries where both searches return the same best match. */
  top1Agreement: number;
  /** Mean search time per query, in milliseconds. */
  searchMs: { twoStage: number; exact: number };
}

export interface FolderIdentifyReport extends IdentifyReport {
  images: number;
  noFace: number;
  imagesPerSecond: number;
}

function rankOf(matches: GalleryMatch[], person: string): number {
  return matches.findIndex((m) => m.id === person);
}

/**
 * Enrols the first template of every person with two or more, then searches with each of
 * the remaining templates, both two-stage and exact. Keys of `people` are the person ids.
 */
export function identify(people: Map<string, GalleryTemplate[]>, modelId: string, options: IdentifyOptions = {}): IdentifyReport {
  const shortlist = options.shortlist ?? 100;
  const threads = options.threads ?? 0;
  const gallery = new Gallery({ modelId });
  const queries: { person: string; template: GalleryTemplate }[] = [];
  for (const [person, templates] of people) {
    if (templates.length < 2) continue;
    gallery.add(person, templates[0]);
    for (const template of templates.slice(1)) queries.push({ person, template });
  }
  if (queries.length === 0) {
    throw new FacebitsError('INVALID_ARGUMENT', 'Identification needs at least one person with two or more usable photos');
  }

  const hits = { twoStage: [0, 0], exact: [0, 0] };
  let overlap = 0;
  let agree = 0;
  let twoStageNs = 0n;
  let exactNs = 0n;
  for (const { person, template } of queries) {
    let started = process.hrtime.bigint();
    const fast = gallery.search(template, { k: 5, shortlist, threads });
    twoStageNs += process.hrtime.bigint() - started;
    started = process.hrtime.bigint();
    const exact = gallery.search(template, { k: 5, exact: true });
    exactNs += process.hrtime.bigint() - started;

    for (const [name, matches] of [['twoStage', fast], ['exact', exact]] as const) {
      const rank = rankOf(matches, person);
      if (rank === 0) hits[name][0]++;
      if (rank >= 0 && rank < 5) hits[name][1]++;
    }
    const exactIds = new Set(exact.map((m) => m.id));
    overlap += fast.filter((m) => exactIds.has(m.id)).length / exact.length;
    if (fast[0].id === exact[0].id) agree++;
  }

  const n = queries.length;
  return {
    people: gallery.size,
    queries: n,
    shortlist,
    twoStage: { rank1: hits.twoStage[0] / n, rank5: hits.twoStage[1] / n },
    exact: { rank1: hits.exact[0] / n, rank5: hits.exact[1] / n },
    recallAt5: overlap / n,
    top1Agreement: agree / n,
    searchMs: { twoStage: Number(twoStageNs) / 1e6 / n, exact: Number(exactNs) / 1e6 / n },
  };
}

const IMAGE_EXTENSIONS = new Set(['.jpg', '.jpeg', '.png', '.webp', '.bmp']);

/** Lists DIR/Name/image files, sorted, for every person folder with two or more images. */
export function listPeople(dir: string): Map<string, string[]> {
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch (error) {
    throw new FacebitsError('INVALID_ARGUMENT', `Cannot read ${dir}: ${(error as Error).message}; pass a folder with one subfolder of photos per person`);
  }
  const people = new Map<string, string[]>();
  // Dirent.isDirectory() is false for a symbolic link, so links are followed with stat.
  const isFolder = (e: fs.Dirent): boolean => e.isDirectory() || (e.isSymbolicLink() && fs.statSync(path.join(dir, e.name)).isDirectory());
  for (const entry of entries.filter(isFolder).sort((a, b) => a.name.localeCompare(b.name))) {
    const folder = path.join(dir, entry.name);
    const files = fs.readdirSync(folder).filter((f) => IMAGE_EXTENSIONS.has(path.extname(f).toLowerCase())).sort();
    if (files.length >= 2) people.set(entry.name, files.map((f) => path.join(folder, f)));
  }
  return people;
}

/** Embeds every photo of the people in DIR with two or more photos, then runs identify(). */
export async function evaluateIdentify(
  fb: Facebits,
  dir: string,
  options: IdentifyOptions & { concurrency?: number; progress?: boolean } = {},
): Promise<FolderIdentifyReport> {
  const people = listPeople(dir);
  const files = [...people.values()].flat();
  const templates = new Map<string, GalleryTemplate | null>();
  const progress = new Progress(files.length, options.progress ?? true);
  let noFace = 0;
  let next = 0;
  const started = process.hrtime.bigint();
  const worker = async (): Promise<void> => {
    while (next < files.length) {
      const file = files[next++];
      try {
        const { embedding, code } = await fb.embed(file);
        templates.set(file, { embedding, code });
      } catch (error) {
        if ((error as FacebitsError).code !== 'NO_FACE') throw error;
        templates.set(file, null);
        noFace++;
      }
      progress.tick();
    }
  };
  await Promise.all(Array.from({ length: options.concurrency ?? 4 }, worker));
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  progress.done();

  const usable = new Map<string, GalleryTemplate[]>();
  for (const [person, paths] of people) {
    usable.set(person, paths.map((p) => templates.get(p)).filter((t): t is GalleryTemplate => !!t));
  }
  const report = identify(usable, fb.modelId, options);
  return { ...report, images: files.length, noFace, imagesPerSecond: files.length / seconds };
}

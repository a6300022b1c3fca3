// Cold start: a fresh Node.js process per sample, timed from require('facebits') to the
// first verdict on two photos of one person.

import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

import { Row } from './report';
import { summarise } from './stats';
import { PHOTOS, ROOT, WrongResultError } from './setup';

interface ChildTimes {
  same: boolean;
  cosine: number;
  importMs: number;
  loadMs: number;
  firstVerdictMs: number;
  processMs: number;
}

export function coldStartRows(runs: number): Row[] {
  const missing = [path.join(ROOT, 'dist', 'index.js'), ...PHOTOS].filter((file) => !fs.existsSync(file));
  if (missing.length) {
    console.log(`skip cold start: ${missing.join(', ')} not found (run "npm run build:ts" for dist/)`);
    return [];
  }
  const child = path.join(__dirname, 'cold-start-child.js');
  const times: ChildTimes[] = [];
  for (let i = 0; i < runs; i++) {
    const output = execFileSync(process.execPath, [child, ROOT, ...PHOTOS], { encoding: 'utf8' });
    const result = JSON.parse(output.trim().split('\n').pop() as string) as ChildTimes;
    if (!result.same) {
      throw new WrongResultError(`cold start: two photos of one person compared as different (cosine ${result.cosine})`);
    }
    times.push(result);
  }
  const section = 'Cold start, fresh process, default models';
  return [
    { section, name: 'import to first verdict', facebits: summarise(times.map((t) => t.firstVerdictMs)) },
    { section, name: '  of which import', facebits: summarise(times.map((t) => t.importMs)) },
    { section, name: '  of which load()', facebits: summarise(times.map((t) => t.loadMs)) },
    { section, name: 'process start to first verdict', facebits: summarise(times.map((t) => t.processMs)) },
  ];
}

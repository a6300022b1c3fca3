// ROC curves of several scorers as an SVG image and a small HTML page around it.

import * as fs from 'node:fs';
import * as path from 'node:path';

import type { ScorerReport } from './scorers';

const COLOURS = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#8c564b', '#17becf'];

/** ROC points (FAR, TAR) from the highest score down. */
export function rocPoints(report: ScorerReport): Array<[number, number]> {
  const sorted = report.scores.slice().sort((a, b) => b.score - a.score);
  const positives = sorted.filter((p) => p.same).length, negatives = sorted.length - positives;
  const points: Array<[number, number]> = [];
  let tp = 0, fp = 0;
  for (let i = 0; i < sorted.length; i++) {
    if (sorted[i].same) tp++;
    else fp++;
    if (i + 1 < sorted.length && sorted[i + 1].score === sorted[i].score) continue;
    points.push([fp / negatives, tp / positives]);
  }
  return points;
}

/** TAR against FAR on a log axis from 1e-4 to 1. */
export function rocSvg(reports: ScorerReport[]): string {
  const w = 640, h = 420, left = 60, right = 170, top = 20, bottom = 50;
  const pw = w - left - right, ph = h - top - bottom;
  const minFar = 1e-4;
  const x = (far: number): number => left + ((Math.log10(Math.max(far, minFar)) + 4) / 4) * pw;
  const tarLow = 0.9;
  const y = (tar: number): number => top + (1 - (Math.max(tar, tarLow) - tarLow) / (1 - tarLow)) * ph;
  const parts = [`<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}" font-family="sans-serif" font-size="12">`,
    `<rect x="${left}" y="${top}" width="${pw}" height="${ph}" fill="none" stroke="#888"/>`];
  for (let e = -4; e <= 0; e++) {
    parts.push(`<line x1="${x(10 ** e)}" y1="${top}" x2="${x(10 ** e)}" y2="${top + ph}" stroke="#eee"/>`,
      `<text x="${x(10 ** e)}" y="${top + ph + 16}" text-anchor="middle">1e${e}</text>`);
  }
  for (let t = 0.9; t <= 1.0001; t += 0.02) {
    parts.push(`<line x1="${left}" y1="${y(t)}" x2="${left + pw}" y2="${y(t)}" stroke="#eee"/>`,
      `<text x="${left - 6}" y="${y(t) + 4}" text-anchor="end">${t.toFixed(2)}</text>`);
  }
  parts.push(`<text x="${left + pw / 2}" y="${h - 10}" text-anchor="middle">false-accept rate</text>`,
    `<text transform="translate(16 ${top + ph / 2}) rotate(-90)" text-anchor="middle">true-accept rate</text>`);
  reports.forEach((r, i) => {
    const colour = COLOURS[i % COLOURS.length];
    const d = rocPoints(r).filter(([far]) => far >= minFar / 2).map(([far, tar], k) => `${k ? 'L' : 'M'}${x(far).toFixed(1)},${y(tar).toFixed(1)}`).join('');
    parts.push(`<path d="${d}" fill="none" stroke="${colour}" stroke-width="1.5"/>`,
      `<text x="${left + pw + 12}" y="${top + 16 + i * 18}" fill="${colour}">${escape(r.name)} ${(r.accuracy.mean * 100).toFixed(2)} %</text>`);
  });
  parts.push('</svg>');
  return parts.join('\n');
}

function escape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** Writes DIR/roc.svg and DIR/index.html; returns the HTML path. */
export function writeReport(dir: string, title: string, reports: ScorerReport[]): string {
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'roc.svg'), rocSvg(reports));
  const pct = (v: number): string => (v * 100).toFixed(2);
  const rows = reports.map((r) => `<tr><td>${escape(r.name)}</td><td>${pct(r.accuracy.mean)} ± ${pct(r.accuracy.std)}</td>` +
    `<td>${pct(r.tar['1e-2'])}</td><td>${pct(r.heldOutFar['1e-2'])}</td><td>${pct(r.tar['1e-3'])}</td><td>${pct(r.heldOutFar['1e-3'])}</td></tr>`).join('\n');
  const html = `<!doctype html>
<html><head><meta charset="utf-8"><title>${escape(title)}</title>
<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:4px 8px;text-align:right}td:first-child{text-align:left}</style></head>
<body><h1>${escape(title)}</h1>
<p>10-fold protocol: each scorer's quantiser, head and thresholds are fitted on nine folds and applied to the tenth.
TAR and FAR use thresholds calibrated on the training folds' impostor pairs, measured on the held-out fold, averaged over folds.
The curves pool the held-out scores.</p>
<table><tr><th>scorer</th><th>accuracy %</th><th>TAR % at FAR 1e-2</th><th>held-out FAR %</th><th>TAR % at FAR 1e-3</th><th>held-out FAR %</th></tr>
${rows}
</table>
<p><img src="roc.svg" alt="ROC curves of all scorers"></p>
</body></html>
`;
  const file = path.join(dir, 'index.html');
  fs.writeFileSync(file, html);
  return file;
}

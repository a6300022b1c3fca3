// Result rows and the printed table.

import { formatMs, Timing } from './stats';

export interface Row {
  section: string;
  name: string;
  facebits: Timing;
  peer?: { name: string; timing: Timing };
  /** facebits median time divided by the peer's; below 1 means facebits is faster. */
  ratio?: number;
  /** The same ratio of minimum times, which other processes on a shared machine disturb less. */
  ratioOfMinima?: number;
  /** Throughput, for rows measured as a rate. */
  rate?: { facebits: number; peer?: number; unit: string };
  note?: string;
}

export function timeRow(section: string, name: string, facebits: Timing, peerName?: string, peer?: Timing, note?: string): Row {
  const row: Row = { section, name, facebits, note };
  if (peerName && peer) {
    row.peer = { name: peerName, timing: peer };
    row.ratio = facebits.median / peer.median;
    row.ratioOfMinima = facebits.min / peer.min;
  }
  return row;
}

function rateText(value: number, unit: string): string {
  return `${value >= 100 ? value.toFixed(0) : value.toPrecision(3)} ${unit}`;
}

/** Prints rows grouped by section as aligned text. */
export function printRows(rows: Row[]): void {
  let section = '';
  for (const row of rows) {
    if (row.section !== section) {
      section = row.section;
      console.log(`\n## ${section}`);
    }
    const parts = [`  ${row.name.padEnd(44)} facebits ${formatMs(row.facebits).padEnd(32)}`];
    if (row.peer) parts.push(`${row.peer.name} ${formatMs(row.peer.timing).padEnd(32)}`);
    if (row.ratio !== undefined) parts.push(`ratio ${row.ratio.toFixed(2)}x`);
    if (row.ratioOfMinima !== undefined) parts.push(`(of minima ${row.ratioOfMinima.toFixed(2)}x)`);
    if (row.rate) {
      const peerRate = row.rate.peer !== undefined ? ` vs ${rateText(row.rate.peer, row.rate.unit)}` : '';
      parts.push(`(${rateText(row.rate.facebits, row.rate.unit)}${peerRate})`);
    }
    if (row.note) parts.push(`[${row.note}]`);
    console.log(parts.join('  '));
  }
}

// Pieces shared by the TypeScript fuzzers: saving a finding and the command-line entry point.

import * as fs from 'node:fs';
import * as path from 'node:path';

/**
 * Writes the input that caused an unexpected error to fuzz/out/<name>-finding-<seed>-<round><extension>
 * and records the file with the first three lines of the error's stack.
 */
export function saveFinding(
  findings: string[], name: string, extension: string, seed: number, round: number, bytes: Uint8Array, error: unknown,
): void {
  const saved = path.join(__dirname, 'out', `${name}-finding-${seed}-${round}${extension}`);
  fs.mkdirSync(path.dirname(saved), { recursive: true });
  fs.writeFileSync(saved, bytes);
  findings.push(`${saved}: ${String((error as Error)?.stack ?? error).split('\n').slice(0, 3).join(' | ')}`);
}

/** Reads `--seconds N` (default 10) and `--seed N` (default from the clock) from the command line. */
export function fuzzArguments(): { seconds: number; seed: number } {
  const args = process.argv.slice(2);
  const value = (name: string, fallback: number): number => {
    const i = args.indexOf(name);
    return i >= 0 ? Number(args[i + 1]) : fallback;
  };
  return { seconds: value('--seconds', 10), seed: value('--seed', Date.now() % 1e9) };
}

/** Prints the summary line and each finding, then exits with 1 when there are findings. */
export function finish(summary: string, findings: string[]): never {
  console.log(summary);
  for (const finding of findings) console.log(`finding: ${finding}`);
  process.exit(findings.length ? 1 : 0);
}

// Error output of the command line: one line on stderr, "facebits: CODE: message".
// Errors from the API name its option (minScore), and this file swaps in the flag (--min-score).

import { FacebitsError } from './errors';

const FLAG_OF_OPTION: Record<string, string> = {
  minScore: '--min-score',
  maxPixels: '--max-pixels',
  landmarkExpand: '--landmark-expand',
  threshold: '--threshold',
  precision: '--precision',
  concurrency: '--concurrency',
  shortlist: '--shortlist',
  k: '--k',
};

/** Rewrites "for minScore" in an API error message as "for --min-score". */
function nameFlags(message: string): string {
  return message.replace(/\bfor (\w+)\b/g, (whole, option: string) => {
    const flag = FLAG_OF_OPTION[option];
    return flag ? `for ${flag}` : whole;
  });
}

/** Prints an error thrown while running a command. */
export function printCommandError(error: unknown): void {
  const code = (error as FacebitsError).code;
  const message = error instanceof Error ? error.message : String(error);
  console.error(`facebits: ${code ? `${code}: ` : ''}${nameFlags(message)}`);
}

/** Prints an error from node:util parseArgs (an unknown flag, a missing value) with the usage. */
export function printParseError(error: unknown, usage: string): void {
  console.error(`facebits: INVALID_ARGUMENT: ${(error as Error).message}\n\n${usage}`);
}

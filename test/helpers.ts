// Shared test helpers: where the reference data lives, and typed-error assertions.

import * as fs from 'node:fs';
import * as path from 'node:path';

import * as assert from 'uvu/assert';

import { FacebitsError } from '../lib/errors';

export const SHARED = path.join(__dirname, '..', '..', 'shared');
export const LFW = path.join(SHARED, 'faces', 'lfw');
export const MODELS = path.join(SHARED, 'models');

/** Returns the path when it exists, else logs why the caller skips and returns undefined. */
export function sharedPath(relative: string, testName: string): string | undefined {
  const full = path.join(SHARED, relative);
  if (fs.existsSync(full)) return full;
  console.log(`  skip ${testName}: ${full} is absent (reference data outside the repository)`);
  return undefined;
}

/** True when FACEBITS_BACKEND selects the WebAssembly core, as `npm run test:wasm` does. */
export const ON_WASM = process.env.FACEBITS_BACKEND === 'wasm';

/**
 * Why the tests that embed all 7,701 LFW images skip on the WebAssembly backend.
 * NOTE: CI does not run full LFW accuracy on WebAssembly; docs/ACCURACY.md records a manual run.
 */
export const FULL_LFW_ON_WASM =
  'embedding every LFW image takes over 30 minutes on it with 2 cores; test/wasm.test.ts checks that its embeddings equal the native ones on 444 LFW images';

/** Returns true, after printing the reason, when a test does not run on the WebAssembly backend. */
export function skipOnWasm(testName: string, reason: string): boolean {
  if (!ON_WASM) return false;
  console.log(`  skip ${testName} on the WebAssembly backend: ${reason}`);
  return true;
}

export function lfwImage(name: string, index: number): string {
  return path.join(LFW, name, `${name}_${String(index).padStart(4, '0')}.jpg`);
}

/** Returns the code of the FacebitsError that fn throws, or undefined when it returns. */
export function errorCode(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    assert.instance(error, FacebitsError);
    return (error as FacebitsError).code;
  }
  return undefined;
}

export async function rejectsWith(promise: Promise<unknown> | (() => unknown), code: string, pattern?: RegExp): Promise<FacebitsError> {
  try {
    await (typeof promise === 'function' ? promise() : promise);
  } catch (error) {
    assert.instance(error, FacebitsError, `expected a FacebitsError, received ${String(error)}`);
    assert.is((error as FacebitsError).code, code, (error as Error).message);
    if (pattern) assert.match((error as Error).message, pattern);
    return error as FacebitsError;
  }
  throw new assert.Assertion({ message: `expected a ${code} error, but the call succeeded`, operator: 'rejects', expects: code, actual: 'no error', generated: false });
}

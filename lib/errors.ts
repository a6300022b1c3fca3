// Typed errors with a stable `code`, and the one builder for invalid-argument messages.

export type FacebitsErrorCode =
  | 'INVALID_ARGUMENT'
  | 'INVALID_IMAGE'
  | 'NO_FACE'
  | 'MULTIPLE_FACES'
  | 'INVALID_MODEL'
  | 'UNSUPPORTED_OP'
  | 'NATIVE_UNAVAILABLE'
  | 'GALLERY_TRUNCATED'
  | 'GALLERY_CORRUPTED'
  | 'GALLERY_VERSION'
  | 'MODEL_MISMATCH'
  | 'INVALID_TEMPLATE'
  | 'SEALED_INVALID'
  | 'DECRYPTION_FAILED';

export class FacebitsError extends Error {
  readonly code: FacebitsErrorCode;

  constructor(code: FacebitsErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'FacebitsError';
    this.code = code;
  }
}

function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 80 ? value.slice(0, 77) + '...' : value);
  if (value instanceof Uint8Array || value instanceof Float32Array) return `${value.constructor.name}(${value.length})`;
  // A short list of numbers, such as a shape, is shown in full.
  if (Array.isArray(value) && value.length <= 8 && value.every((item) => typeof item === 'number')) return `[${value.join(', ')}]`;
  if (Array.isArray(value)) return `array(${value.length})`;
  if (value === null || value === undefined) return String(value);
  if (isPlainObject(value)) return describeKeys(Object.keys(value));
  if (typeof value === 'object') return Object.prototype.toString.call(value);
  return String(value);
}

function isPlainObject(value: unknown): value is object {
  if (typeof value !== 'object' || value === null) return false;
  const prototype = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
}

// Lists an object's keys, such as "{ path, decoder }", so a message shows what was passed.
function describeKeys(keys: string[]): string {
  if (keys.length === 0) return '{}';
  const shown = keys.slice(0, 6).join(', ');
  return `{ ${shown}${keys.length > 6 ? ', ...' : ''} }`;
}

function typeName(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'object') return (value as object).constructor?.name ?? 'object';
  return typeof value;
}

/**
 * Builds "Expected <what> for <name> but received <value> of type <type>", followed by
 * `fix` when given. The code is INVALID_ARGUMENT unless `code` sets another.
 */
export function invalidParameter(
  name: string, expected: string, value: unknown, options: { fix?: string; code?: FacebitsErrorCode } = {},
): FacebitsError {
  const fix = options.fix ? `; ${options.fix}` : '';
  return new FacebitsError(
    options.code ?? 'INVALID_ARGUMENT',
    `Expected ${expected} for ${name} but received ${describe(value)} of type ${typeName(value)}${fix}`,
  );
}

/** Formats a computed number for a message with 3 significant digits, such as 0.000333. */
export function formatNumber(value: number): string {
  return Number.isFinite(value) ? String(Number(value.toPrecision(3))) : String(value);
}

export function invalidModel(file: string, detail: string, cause?: unknown): FacebitsError {
  return new FacebitsError('INVALID_MODEL', `Invalid model ${file}: ${detail}`, { cause });
}

/** Builds the error for an op the importer cannot lower, naming its node and file. */
export function unsupportedOp(file: string, op: string, node: string, detail?: string): FacebitsError {
  const suffix = detail ? `: ${detail}` : '';
  return new FacebitsError('UNSUPPORTED_OP', `Unsupported op ${op} at node "${node}" in ${file}${suffix}`);
}

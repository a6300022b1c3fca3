// The WebAssembly build of the core (wasm/facebits.wasm) behind the NativeBinding
// interface. This file imports nothing from Node, so the browser bundle uses it as is.
//
// The module is a standalone .wasm (emscripten STANDALONE_WASM): it needs only the few
// imports below, so no emscripten JS glue is involved. Argument checks and their messages
// follow native/addon.cpp, so callers see the same INVALID_ARGUMENT and INVALID_MODEL
// errors from both backends.

import type { ModelOptions, NativeBinding, NativeModel, NativeTensor, OpProfile } from './native';
import type { VerifyBinding } from './verify-native';

// The parts of the WebAssembly JS API used here. tsconfig targets ES2022 without the DOM
// library, and @types/node 20 does not declare WebAssembly.
declare namespace WebAssembly {
  interface Memory { readonly buffer: ArrayBuffer }
  interface Instance { readonly exports: Record<string, unknown> }
  type Imports = Record<string, Record<string, unknown>>;
  class Module {
    constructor(bytes: Uint8Array);
  }
  const Instance: new (module: Module, imports: Imports) => Instance;
  function instantiate(bytes: Uint8Array | ArrayBuffer, imports: Imports): Promise<{ instance: Instance }>;
}

interface CoreExports {
  memory: WebAssembly.Memory;
  _initialize(): void;
  malloc(bytes: number): number;
  free(pointer: number): void;
  fb_last_error(): number;
  fb_last_error_code(): number;
  fb_model_create(words: number, wordCount: number, weights: number, weightCount: number): number;
  fb_model_free(model: number): void;
  fb_model_input_count(model: number): number;
  fb_model_input_size(model: number, index: number): number;
  fb_model_input_shape(model: number, index: number): number;
  fb_model_run(model: number, inputs: number): number;
  fb_model_profile(model: number, inputs: number, runs: number): number;
  fb_outputs_count(outputs: number): number;
  fb_outputs_data(outputs: number, index: number): number;
  fb_outputs_size(outputs: number, index: number): number;
  fb_outputs_rank(outputs: number, index: number): number;
  fb_outputs_dim(outputs: number, index: number, dim: number): number;
  fb_outputs_free(outputs: number): void;
  fb_isa(): number;
  fb_supported_isas(): number;
  fb_set_isa(name: number): number;
  fb_resize_bilinear(src: number, w: number, h: number, c: number, dw: number, dh: number, swap: number, dst: number): void;
  fb_warp_affine(
    src: number, w: number, h: number, c: number, matrix: number, dw: number, dh: number, border: number, swap: number, dst: number,
  ): void;
  fb_pack_signs(values: number, count: number, out: number): void;
  fb_hamming_many(query: number, codes: number, bytes: number, count: number, out: number): void;
  fb_fit_head(
    a: number, b: number, labels: number, n: number, dim: number, prior: number, lambda: number, maxIterations: number,
    weights: number, stats: number,
  ): number;
  fb_project_signs(x: number, rows: number, dim: number, mean: number, matrix: number, bits: number, offsets: number, out: number): void;
  fb_project_values(x: number, rows: number, dim: number, mean: number, matrix: number, bits: number, out: number): void;
  fb_random_orthogonal(rows: number, cols: number, seed: number, out: number): void;
  fb_symmetric_eigen(a: number, n: number, values: number, vectors: number): void;
  fb_iterative_quantization(v: number, rows: number, c: number, iterations: number, rotation: number, loss: number): number;
}

/** Same limits as native/image.h and native/addon.cpp. */
const MAX_IMAGE_SIDE = 16384;
const MAX_IMAGE_OUTPUT_FLOATS = 2 ** 28;

/**
 * Imports of the standalone module. The core reads no environment variables and never
 * exits, so these only keep libc's start-up code satisfied. `memory` returns the
 * instance's memory once it exists.
 */
function coreImports(memory: () => WebAssembly.Memory | undefined): WebAssembly.Imports {
  return {
    env: { emscripten_notify_memory_growth: () => undefined },
    wasi_snapshot_preview1: {
      proc_exit: (code: number) => {
        throw new Error(`The facebits WebAssembly core exited with code ${code}`);
      },
      // Reports zero environment variables taking zero bytes.
      environ_sizes_get: (countPointer: number, sizePointer: number) => {
        const buffer = memory()?.buffer;
        if (!buffer) return 0;
        const view = new DataView(buffer);
        view.setUint32(countPointer, 0, true);
        view.setUint32(sizePointer, 0, true);
        return 0;
      },
      environ_get: () => 0,
      // Monotonic nanoseconds for std::chrono::steady_clock (profileSync); every clock id reads it.
      clock_time_get: (_id: number, _precision: bigint, timePointer: number) => {
        const buffer = memory()?.buffer;
        if (!buffer) return 0;
        new DataView(buffer).setBigUint64(timePointer, BigInt(Math.round(performance.now() * 1e6)), true);
        return 0;
      },
    },
  };
}

function codedError(code: 'INVALID_ARGUMENT' | 'INVALID_MODEL', message: string): Error {
  return Object.assign(new Error(message), { code });
}

function invalidArgument(message: string): Error {
  return codedError('INVALID_ARGUMENT', message);
}

// fmaLoop's accumulators, kept outside the call so the engine cannot drop the loop.
const fmaSink = new Float64Array(12);

// Maximum number of input sets per runBatch call, as in the addon.
const MAX_BATCH = 65536;

// Checks the Model options as the addon does. WebAssembly has no bfloat16 GEMM, so the precision changes nothing here.
function precisionArg(options: unknown): void {
  if (options === undefined) return;
  if (typeof options !== 'object' || options === null) {
    throw invalidArgument(`Expected an options object for options but received ${describe(options)}`);
  }
  const precision = (options as ModelOptions).precision;
  if (precision !== undefined && precision !== 'fp32' && precision !== 'bf16') {
    throw invalidArgument(`Expected 'fp32' or 'bf16' for options.precision but received ${describe(precision)}`);
  }
}

function describe(value: unknown): string {
  if (ArrayBuffer.isView(value) && !(value instanceof DataView)) return `a typed array of length ${(value as Uint8Array).length}`;
  if (typeof value === 'number') return String(value);
  if (typeof value === 'string') return `"${value}"`;
  if (value === undefined) return 'undefined';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'boolean') return String(value);
  return 'a value of another type';
}

function integerArg(value: unknown, name: string, low: number, high: number): number {
  if (typeof value !== 'number' || !(value >= low && value <= high) || value !== Math.floor(value)) {
    throw invalidArgument(`Expected an integer from ${low} to ${high} for ${name} but received ${describe(value)}`);
  }
  return value;
}

function booleanArg(value: unknown, name: string): boolean {
  if (typeof value !== 'boolean') throw invalidArgument(`Expected a boolean for ${name} but received ${describe(value)}`);
  return value;
}

function typedArrayArg<T>(value: unknown, type: new (...args: never[]) => T, typeName: string, name: string): T {
  if (!(value instanceof type)) throw invalidArgument(`Expected a ${typeName} for ${name} but received ${describe(value)}`);
  return value;
}

function checkCodeLength(length: number, name: string): void {
  if (length === 0 || length % 8 !== 0) {
    throw invalidArgument(`Expected ${name} to be a non-empty multiple of 8 bytes but it has ${length}`);
  }
}

/** Wraps an instantiated core module in the NativeBinding and VerifyBinding interfaces. */
export function bindCore(instance: WebAssembly.Instance): NativeBinding & VerifyBinding {
  const core = instance.exports as unknown as CoreExports;
  core._initialize();

  // Views are taken afresh after every call that can grow the memory, because growth
  // detaches the old ArrayBuffer.
  const bytes = (): Uint8Array => new Uint8Array(core.memory.buffer);
  const text = (pointer: number): string => {
    const heap = bytes();
    let end = pointer;
    while (heap[end] !== 0) end++;
    return new TextDecoder().decode(heap.subarray(pointer, end));
  };
  const lastError = (): string => text(core.fb_last_error());

  function alloc(byteLength: number): number {
    const pointer = core.malloc(Math.max(byteLength, 1));
    if (pointer === 0) throw new Error(`Out of WebAssembly memory while allocating ${byteLength} bytes`);
    return pointer;
  }

  function copyIn(data: ArrayBufferView): number {
    const pointer = alloc(data.byteLength);
    bytes().set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), pointer);
    return pointer;
  }

  function withString<T>(value: string, use: (pointer: number) => T): T {
    const encoded = new TextEncoder().encode(`${value}\0`);
    const pointer = copyIn(encoded);
    try {
      return use(pointer);
    } finally {
      core.free(pointer);
    }
  }

  // The wasm-side model, freed once it is disposed and no run() is pending.
  interface ModelHandle { pointer: number; pending: number; disposed: boolean }

  // Frees the wasm-side model when its JS object is collected without dispose().
  const finalizer = new FinalizationRegistry<ModelHandle>((handle) => {
    if (handle.pointer !== 0) core.fb_model_free(handle.pointer);
  });

  class WasmModel implements NativeModel {
    private readonly handle: ModelHandle;

    constructor(words: Int32Array, weights: Float32Array, options?: ModelOptions) {
      typedArrayArg(words, Int32Array, 'Int32Array', 'words');
      typedArrayArg(weights, Float32Array, 'Float32Array', 'weights');
      precisionArg(options);
      const wordsPointer = copyIn(words);
      let weightsPointer = 0;
      let pointer = 0;
      try {
        weightsPointer = copyIn(weights);
        pointer = core.fb_model_create(wordsPointer, words.length, weightsPointer, weights.length);
      } finally {
        core.free(wordsPointer);
        if (weightsPointer !== 0) core.free(weightsPointer);
      }
      if (pointer === 0) throw codedError('INVALID_MODEL', lastError());
      this.handle = { pointer, pending: 0, disposed: false };
      finalizer.register(this, this.handle, this);
    }

    private live(): number {
      if (this.handle.disposed) {
        throw codedError('INVALID_MODEL', 'The model is disposed; create a new Model to run this plan');
      }
      return this.handle.pointer;
    }

    private checkInputs(model: number, inputs: unknown): Float32Array[] {
      if (!Array.isArray(inputs)) throw invalidArgument(`Expected an array of Float32Array inputs but received ${describe(inputs)}`);
      const count = core.fb_model_input_count(model);
      if (inputs.length !== count) throw invalidArgument(`Expected ${count} inputs but received ${inputs.length}`);
      return inputs.map((item: unknown, i) => {
        if (!(item instanceof Float32Array)) {
          throw invalidArgument(`Expected a Float32Array for input ${i} but received ${describe(item)}`);
        }
        const size = core.fb_model_input_size(model, i);
        if (item.length !== size) {
          const shape = text(core.fb_model_input_shape(model, i));
          throw invalidArgument(`Input ${i} has ${item.length} floats; expected ${size} for shape ${shape}`);
        }
        return item;
      });
    }

    profileSync(inputs: Float32Array[], runs: number): OpProfile[] {
      const model = this.live();
      const checked = this.checkInputs(model, inputs);
      const count = integerArg(runs, 'runs', 1, 1e6);
      const pointers: number[] = [];
      let table = 0;
      try {
        for (const input of checked) pointers.push(copyIn(input));
        table = copyIn(Uint32Array.from(pointers));
        const json = core.fb_model_profile(model, table, count);
        if (json === 0) throw new Error(lastError());
        const rows = JSON.parse(text(json)) as Array<[string, number, number, number]>;
        return rows.map(([description, flops, seconds, fusedInto]) => ({ description, flops, seconds, fusedInto }));
      } finally {
        if (table !== 0) core.free(table);
        for (const pointer of pointers) core.free(pointer);
      }
    }

    /** WebAssembly has no bfloat16 GEMM, so bf16 precision runs float32. */
    bf16Layers(): number {
      this.live();
      return 0;
    }

    runSync(inputs: Float32Array[]): NativeTensor[] {
      const model = this.live();
      return execute(model, this.checkInputs(model, inputs));
    }

    /**
     * Checks the inputs now and runs the plan in a microtask on the calling thread:
     * WebAssembly has no thread pool here, so the run blocks the event loop. A dispose()
     * before the run starts frees the model only after the run, as in the addon.
     */
    run(inputs: Float32Array[]): Promise<NativeTensor[]> {
      let model: number;
      let checked: Float32Array[];
      try {
        model = this.live();
        checked = this.checkInputs(model, inputs);
      } catch (error) {
        return Promise.reject(error);
      }
      this.handle.pending++;
      return Promise.resolve()
        .then(() => execute(model, checked))
        .finally(() => {
          this.handle.pending--;
          this.release();
        });
    }

    /** As run(), once per input set, in one microtask. */
    runBatch(sets: Float32Array[][]): Promise<NativeTensor[][]> {
      let model: number;
      let checked: Float32Array[][];
      try {
        model = this.live();
        if (!Array.isArray(sets)) throw invalidArgument(`Expected an array of input arrays for sets but received ${describe(sets)}`);
        if (sets.length > MAX_BATCH) {
          throw invalidArgument(`Expected at most ${MAX_BATCH} input sets for sets but received ${sets.length}; split the batch`);
        }
        checked = sets.map((inputs, i) => {
          try {
            return this.checkInputs(model, inputs);
          } catch (error) {
            throw invalidArgument(`Input set ${i}: ${(error as Error).message}`);
          }
        });
      } catch (error) {
        return Promise.reject(error);
      }
      this.handle.pending++;
      return Promise.resolve()
        .then(() => checked.map((inputs) => execute(model, inputs)))
        .finally(() => {
          this.handle.pending--;
          this.release();
        });
    }

    dispose(): void {
      if (this.handle.disposed) return;
      this.handle.disposed = true;
      finalizer.unregister(this);
      this.release();
    }

    private release(): void {
      if (!this.handle.disposed || this.handle.pending > 0 || this.handle.pointer === 0) return;
      core.fb_model_free(this.handle.pointer);
      this.handle.pointer = 0;
    }
  }

  function execute(model: number, checked: Float32Array[]): NativeTensor[] {
    const pointers: number[] = [];
    let table = 0;
    let outputs = 0;
    try {
      for (const input of checked) pointers.push(copyIn(input));
      table = copyIn(Uint32Array.from(pointers));
      outputs = core.fb_model_run(model, table);
      if (outputs === 0) throw new Error(lastError());
      return readOutputs(outputs);
    } finally {
      if (outputs !== 0) core.fb_outputs_free(outputs);
      if (table !== 0) core.free(table);
      for (const pointer of pointers) core.free(pointer);
    }
  }

  function readOutputs(outputs: number): NativeTensor[] {
    const result: NativeTensor[] = [];
    const count = core.fb_outputs_count(outputs);
    for (let i = 0; i < count; i++) {
      const pointer = core.fb_outputs_data(outputs, i);
      const size = core.fb_outputs_size(outputs, i);
      const data = new Float32Array(core.memory.buffer, pointer, size).slice();
      const shape: number[] = [];
      for (let d = 0; d < core.fb_outputs_rank(outputs, i); d++) shape.push(core.fb_outputs_dim(outputs, i, d));
      result.push({ data, shape });
    }
    return result;
  }

  interface ImageArgs { src: Uint8Array; width: number; height: number; channels: number }

  function imageArgs(src: unknown, width: unknown, height: unknown, channels: unknown): ImageArgs {
    const args: ImageArgs = {
      src: typedArrayArg(src, Uint8Array, 'Uint8Array', 'src'),
      width: integerArg(width, 'width', 1, MAX_IMAGE_SIDE),
      height: integerArg(height, 'height', 1, MAX_IMAGE_SIDE),
      channels: integerArg(channels, 'channels', 1, 4),
    };
    if (args.channels === 2) throw invalidArgument('Expected 1, 3 or 4 channels but received 2');
    const expected = args.width * args.height * args.channels;
    if (args.src.length !== expected) {
      throw invalidArgument(
        `Image buffer has ${args.src.length} bytes; expected ${expected} (width ${args.width} x height ${args.height} x channels ${args.channels})`,
      );
    }
    return args;
  }

  function checkOutputSize(width: number, height: number, channels: number): number {
    const floats = width * height * channels;
    if (floats > MAX_IMAGE_OUTPUT_FLOATS) {
      throw invalidArgument(`Output ${width}x${height}x${channels} exceeds the limit of ${MAX_IMAGE_OUTPUT_FLOATS} floats`);
    }
    return floats;
  }

  // Runs an image op: copies the source in, lets `call` fill `floats` floats, copies them out.
  function imageOp(src: Uint8Array, floats: number, call: (srcPointer: number, dstPointer: number) => void): Float32Array {
    const srcPointer = copyIn(src);
    let dstPointer = 0;
    try {
      dstPointer = alloc(floats * 4);
      call(srcPointer, dstPointer);
      return new Float32Array(core.memory.buffer, dstPointer, floats).slice();
    } finally {
      core.free(srcPointer);
      if (dstPointer !== 0) core.free(dstPointer);
    }
  }

  function hammingMany(query: Uint8Array, codes: Uint8Array, count: number): Uint32Array {
    const queryPointer = copyIn(query);
    let codesPointer = 0;
    let outPointer = 0;
    try {
      codesPointer = copyIn(codes);
      outPointer = alloc(count * 4);
      core.fb_hamming_many(queryPointer, codesPointer, query.length, count, outPointer);
      return new Uint32Array(core.memory.buffer, outPointer, count).slice();
    } finally {
      core.free(queryPointer);
      if (codesPointer !== 0) core.free(codesPointer);
      if (outPointer !== 0) core.free(outPointer);
    }
  }

  // Copies each input in, allocates the outputs, runs `call` on the pointers and frees all.
  function withMemory<T>(inputs: ArrayBufferView[], outputBytes: number[], call: (inputs: number[], outputs: number[]) => T): T {
    const pointers: number[] = [];
    try {
      for (const input of inputs) pointers.push(copyIn(input));
      for (const size of outputBytes) pointers.push(alloc(size));
      return call(pointers.slice(0, inputs.length), pointers.slice(inputs.length));
    } finally {
      for (const pointer of pointers) core.free(pointer);
    }
  }

  const f32 = (pointer: number, length: number): Float32Array => new Float32Array(core.memory.buffer, pointer, length).slice();
  const f64 = (pointer: number, length: number): Float64Array => new Float64Array(core.memory.buffer, pointer, length).slice();

  function projectionArgs(x: unknown, dim: unknown, mean: unknown, matrix: unknown, bits: unknown) {
    const args = {
      x: typedArrayArg(x, Float32Array, 'Float32Array', 'x'),
      dim: integerArg(dim, 'dim', 1, 1 << 16),
      mean: typedArrayArg(mean, Float32Array, 'Float32Array', 'mean'),
      matrix: typedArrayArg(matrix, Float32Array, 'Float32Array', 'matrix'),
      bits: integerArg(bits, 'bits', 1, 1 << 16),
    };
    if (args.x.length % args.dim !== 0) throw invalidArgument('x must hold a whole number of dim-value rows');
    if (args.mean.length !== args.dim) throw invalidArgument('mean must hold dim values');
    if (args.matrix.length !== args.bits * args.dim) throw invalidArgument('matrix must hold bits x dim values');
    return { ...args, rows: args.x.length / args.dim };
  }

  const verify: VerifyBinding = {
    fitHead(a, b, labels, dim, prior, lambda, maxIterations) {
      typedArrayArg(a, Float32Array, 'Float32Array', 'a');
      typedArrayArg(b, Float32Array, 'Float32Array', 'b');
      typedArrayArg(labels, Uint8Array, 'Uint8Array', 'labels');
      const d = integerArg(dim, 'dim', 1, 1 << 16);
      typedArrayArg(prior, Float64Array, 'Float64Array', 'prior');
      if (typeof lambda !== 'number' || !Number.isFinite(lambda) || lambda < 0) throw invalidArgument('Expected a finite number >= 0 for lambda');
      const iterations = integerArg(maxIterations, 'maxIterations', 1, 100000);
      const n = labels.length;
      if (n === 0 || a.length !== n * d || b.length !== n * d) throw invalidArgument('a and b must each hold labels.length x dim values');
      if (prior.length !== 2 * d + 1) throw invalidArgument('prior must hold 2 x dim + 1 values');
      return withMemory([a, b, labels, prior], [(2 * d + 1) * 8, 3 * 8], ([pa, pb, pl, pp], [pw, ps]) => {
        if (core.fb_fit_head(pa, pb, pl, n, d, pp, lambda, iterations, pw, ps) === 0) throw invalidArgument(lastError());
        const stats = f64(ps, 3);
        return { weights: f64(pw, 2 * d + 1), iterations: stats[0], loss: stats[1], gradientNorm: stats[2] };
      });
    },

    projectSigns(x, dim, mean, matrix, bits, offsets) {
      const p = projectionArgs(x, dim, mean, matrix, bits);
      const o = typedArrayArg(offsets, Float32Array, 'Float32Array', 'offsets');
      if (o.length !== p.bits) throw invalidArgument('offsets must hold bits values');
      const outBytes = p.rows * Math.ceil(p.bits / 64) * 8;
      return withMemory([p.x, p.mean, p.matrix, o], [outBytes], ([px, pm, pw, po], [out]) => {
        core.fb_project_signs(px, p.rows, p.dim, pm, pw, p.bits, po, out);
        return bytes().slice(out, out + outBytes);
      });
    },

    projectValues(x, dim, mean, matrix, bits) {
      const p = projectionArgs(x, dim, mean, matrix, bits);
      return withMemory([p.x, p.mean, p.matrix], [p.rows * p.bits * 4], ([px, pm, pw], [out]) => {
        core.fb_project_values(px, p.rows, p.dim, pm, pw, p.bits, out);
        return f32(out, p.rows * p.bits);
      });
    },

    randomOrthogonal(rows, cols, seed) {
      const r = integerArg(rows, 'rows', 1, 1 << 16);
      const c = integerArg(cols, 'cols', 1, 1 << 16);
      const s = integerArg(seed, 'seed', 0, Number.MAX_SAFE_INTEGER);
      return withMemory([], [r * c * 4], (_, [out]) => {
        core.fb_random_orthogonal(r, c, s, out);
        return f32(out, r * c);
      });
    },

    symmetricEigen(a, n) {
      typedArrayArg(a, Float64Array, 'Float64Array', 'a');
      const size = integerArg(n, 'n', 1, 4096);
      if (a.length !== size * size) throw invalidArgument('a must hold n x n values');
      if (!a.every(Number.isFinite)) throw invalidArgument('a must be finite');
      return withMemory([a], [size * 8, size * size * 8], ([pa], [pv, pe]) => {
        core.fb_symmetric_eigen(pa, size, pv, pe);
        return { values: f64(pv, size), vectors: f64(pe, size * size) };
      });
    },

    iterativeQuantization(v, c, rotation, iterations) {
      typedArrayArg(v, Float32Array, 'Float32Array', 'v');
      const size = integerArg(c, 'c', 1, 4096);
      typedArrayArg(rotation, Float32Array, 'Float32Array', 'rotation');
      const rounds = integerArg(iterations, 'iterations', 0, 10000);
      if (v.length % size !== 0) throw invalidArgument('v must hold a whole number of c-value rows');
      if (rotation.length !== size * size) throw invalidArgument('rotation must hold c x c values');
      return withMemory([v, rotation], [8], ([pv, pr], [pl]) => {
        if (core.fb_iterative_quantization(pv, v.length / size, size, rounds, pr, pl) === 0) throw invalidArgument(lastError());
        return { rotation: f32(pr, size * size), loss: f64(pl, 1)[0] };
      });
    },
  };

  const supportedIsas = (): string[] => text(core.fb_supported_isas()).split(',');

  return {
    ...verify,
    backend: 'wasm',
    Model: WasmModel,
    bf16Gemm: () => null,
    supportedBf16Gemms: () => [],
    setBf16Gemm(name: string): void {
      if (typeof name !== 'string') throw invalidArgument(`Expected a bf16 GEMM name string but received ${describe(name)}`);
      throw invalidArgument(`bf16 GEMM "${name}" cannot run on this CPU or build; supported: none`);
    },
    isa: () => text(core.fb_isa()),
    supportedIsas,
    setIsa(name: string): void {
      if (typeof name !== 'string') throw invalidArgument(`Expected an ISA name string but received ${describe(name)}`);
      if (withString(name, (pointer) => core.fb_set_isa(pointer)) === 0) {
        throw invalidArgument(`ISA "${name}" is not supported by this CPU or build; supported: ${supportedIsas().join(', ')}`);
      }
    },

    resizeBilinear(src, width, height, channels, dstWidth, dstHeight, swapRB) {
      const a = imageArgs(src, width, height, channels);
      const dw = integerArg(dstWidth, 'dstWidth', 1, MAX_IMAGE_SIDE);
      const dh = integerArg(dstHeight, 'dstHeight', 1, MAX_IMAGE_SIDE);
      const swap = booleanArg(swapRB, 'swapRB');
      const floats = checkOutputSize(dw, dh, a.channels);
      return imageOp(a.src, floats, (s, d) => core.fb_resize_bilinear(s, a.width, a.height, a.channels, dw, dh, swap ? 1 : 0, d));
    },

    warpAffine(src, width, height, channels, matrix, dstWidth, dstHeight, border, swapRB) {
      const a = imageArgs(src, width, height, channels);
      const m = typedArrayArg(matrix, Float64Array, 'Float64Array', 'matrix');
      if (m.length !== 6) throw invalidArgument(`Expected a 2x3 matrix of 6 values but received ${m.length}`);
      for (let i = 0; i < 6; i++) {
        if (!Number.isFinite(m[i])) throw invalidArgument(`Matrix entry ${i} is not finite`);
      }
      const dw = integerArg(dstWidth, 'dstWidth', 1, MAX_IMAGE_SIDE);
      const dh = integerArg(dstHeight, 'dstHeight', 1, MAX_IMAGE_SIDE);
      if (typeof border !== 'number' || !Number.isFinite(border)) {
        throw invalidArgument(`Expected a finite number for border but received ${describe(border)}`);
      }
      const swap = booleanArg(swapRB, 'swapRB');
      const floats = checkOutputSize(dw, dh, a.channels);
      const matrixPointer = copyIn(m);
      try {
        return imageOp(a.src, floats, (s, d) =>
          core.fb_warp_affine(s, a.width, a.height, a.channels, matrixPointer, dw, dh, border, swap ? 1 : 0, d));
      } finally {
        core.free(matrixPointer);
      }
    },

    packSigns(values) {
      const v = typedArrayArg(values, Float32Array, 'Float32Array', 'values');
      const outBytes = Math.ceil(v.length / 64) * 8;
      const valuesPointer = copyIn(v);
      let outPointer = 0;
      try {
        outPointer = alloc(outBytes);
        core.fb_pack_signs(valuesPointer, v.length, outPointer);
        return bytes().slice(outPointer, outPointer + outBytes);
      } finally {
        core.free(valuesPointer);
        if (outPointer !== 0) core.free(outPointer);
      }
    },

    hamming(a, b) {
      typedArrayArg(a, Uint8Array, 'Uint8Array', 'a');
      typedArrayArg(b, Uint8Array, 'Uint8Array', 'b');
      checkCodeLength(a.length, 'a');
      if (a.length !== b.length) throw invalidArgument(`Codes differ in length: a has ${a.length} bytes, b has ${b.length}`);
      return hammingMany(a, b, 1)[0];
    },

    hammingMany(query, codes, count, out) {
      typedArrayArg(query, Uint8Array, 'Uint8Array', 'query');
      typedArrayArg(codes, Uint8Array, 'Uint8Array', 'codes');
      checkCodeLength(query.length, 'query');
      const n = integerArg(count, 'count', 0, Math.floor(codes.length / query.length));
      if (n * query.length !== codes.length) {
        throw invalidArgument(`codes has ${codes.length} bytes; expected count ${n} x ${query.length} bytes`);
      }
      if (out === undefined) return hammingMany(query, codes, n);
      typedArrayArg(out, Uint32Array, 'Uint32Array', 'out');
      if (out.length < n) {
        throw invalidArgument(`Expected out to hold at least count ${n} distances but it holds ${out.length}`);
      }
      out.set(hammingMany(query, codes, n));
      return out;
    },

    // The two calls below run in JavaScript over the WebAssembly Hamming kernel, on one
    // thread for any value of `threads`.
    readSum(buffer) {
      typedArrayArg(buffer, Uint8Array, 'Uint8Array', 'buffer');
      checkCodeLength(buffer.length, 'buffer');
      const words = new DataView(buffer.buffer, buffer.byteOffset, buffer.byteLength);
      let total = 0n;
      for (let offset = 0; offset < buffer.length; offset += 8) total += words.getBigUint64(offset, true);
      return Number(total & ((1n << 53n) - 1n));
    },

    // NOTE: runs in JavaScript, so it times the JS engine's scalar arithmetic, not SIMD128.
    fmaLoop(iterations) {
      const steps = integerArg(iterations, 'iterations', 1, 1e9);
      const acc = fmaSink.fill(0.001);
      for (let n = 0; n < steps; n++) {
        for (let i = 0; i < 12; i++) acc[i] = acc[i] * 0.999 + 0.001;
      }
      return 24 * steps;
    },

    hammingTopK(query, codes, count, k, threads) {
      typedArrayArg(query, Uint8Array, 'Uint8Array', 'query');
      typedArrayArg(codes, Uint8Array, 'Uint8Array', 'codes');
      checkCodeLength(query.length, 'query');
      const n = integerArg(count, 'count', 0, 4294967295);
      if (n * query.length !== codes.length) {
        throw invalidArgument(`codes has ${codes.length} bytes; expected count ${n} x ${query.length} bytes`);
      }
      const limit = integerArg(k, 'k', 0, 4294967295);
      integerArg(threads, 'threads', 0, 1024);
      const distances = hammingMany(query, codes, n);
      const order = Array.from(distances.keys()).sort((a, b) => distances[a] - distances[b] || a - b);
      const nearest = order.slice(0, Math.min(limit, n));
      return { indices: Uint32Array.from(nearest), distances: Uint32Array.from(nearest, (i) => distances[i]) };
    },
  };
}

/** Compiles and instantiates the core synchronously (Node, workers; browsers reject this on the main thread). */
export function instantiateCoreSync(wasmBytes: Uint8Array): NativeBinding & VerifyBinding {
  let instance: WebAssembly.Instance | undefined;
  const imports = coreImports(() => instance?.exports.memory as WebAssembly.Memory | undefined);
  instance = new WebAssembly.Instance(new WebAssembly.Module(wasmBytes), imports);
  return bindCore(instance);
}

/** Compiles and instantiates the core without blocking; use this in browsers. */
export async function instantiateCore(wasmBytes: Uint8Array | ArrayBuffer): Promise<NativeBinding & VerifyBinding> {
  let instance: WebAssembly.Instance | undefined;
  const imports = coreImports(() => instance?.exports.memory as WebAssembly.Memory | undefined);
  instance = (await WebAssembly.instantiate(wasmBytes, imports)).instance;
  return bindCore(instance);
}

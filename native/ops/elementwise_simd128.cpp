// WebAssembly SIMD128 element-wise kernels: BINARY, the activation pass and
// CHANNEL_AFFINE (emcc -msimd128).
//
// Contracts: as binaryScalar, activationScalar and channelAffineScalar. Any alignment;
// out may alias an input with stride 1. Each lane computes exactly what the scalar loop
// computes, NaN operands of MAX and MIN included.

#if defined(__wasm_simd128__)

#include <cstddef>

#include "ops.h"
#include "simd128.h"

namespace facebits {

void binarySimd128(int32_t kind, const float* a, int64_t strideA, const float* b, int64_t strideB, float* out,
                   int64_t count);
void activationSimd128(float* data, int64_t rows, int64_t channels, const ActParams& act);
void channelAffineSimd128(const float* x, const float* scale, const float* shift, float* y, int64_t rows,
                          int64_t channels);

namespace {

// std::max(x, y) is (x < y) ? y : x and std::min(x, y) is (y < x) ? y : x, which are the
// definitions of pmax and pmin.
template <int KIND>
inline v128_t binary4(v128_t x, v128_t y) {
  switch (static_cast<BinaryKind>(KIND)) {
    case BinaryKind::ADD: return wasm_f32x4_add(x, y);
    case BinaryKind::SUB: return wasm_f32x4_sub(x, y);
    case BinaryKind::MUL: return wasm_f32x4_mul(x, y);
    case BinaryKind::DIV: return wasm_f32x4_div(x, y);
    case BinaryKind::MAX: return wasm_f32x4_pmax(x, y);
    case BinaryKind::MIN: return wasm_f32x4_pmin(x, y);
  }
  return x;
}

template <int KIND>
inline float binary1(float x, float y) {
  switch (static_cast<BinaryKind>(KIND)) {
    case BinaryKind::ADD: return x + y;
    case BinaryKind::SUB: return x - y;
    case BinaryKind::MUL: return x * y;
    case BinaryKind::DIV: return x / y;
    case BinaryKind::MAX: return x < y ? y : x;
    case BinaryKind::MIN: return y < x ? y : x;
  }
  return x;
}

// One operand per stride pattern: stride 1 reads 4 consecutive floats, stride 0 repeats one.
template <int KIND, bool VARY_A, bool VARY_B>
void binaryRun(const float* a, const float* b, float* out, ptrdiff_t count) {
  const v128_t fixedA = wasm_f32x4_splat(a[0]);
  const v128_t fixedB = wasm_f32x4_splat(b[0]);
  ptrdiff_t i = 0;
  for (; i + 4 <= count; i += 4) {
    const v128_t x = VARY_A ? wasm_v128_load(a + i) : fixedA;
    const v128_t y = VARY_B ? wasm_v128_load(b + i) : fixedB;
    wasm_v128_store(out + i, binary4<KIND>(x, y));
  }
  for (; i < count; ++i) out[i] = binary1<KIND>(a[VARY_A ? i : 0], b[VARY_B ? i : 0]);
}

template <int KIND>
void binaryKind(const float* a, int64_t strideA, const float* b, int64_t strideB, float* out, ptrdiff_t count) {
  if (strideA && strideB) {
    binaryRun<KIND, true, true>(a, b, out, count);
  } else if (strideA) {
    binaryRun<KIND, true, false>(a, b, out, count);
  } else if (strideB) {
    binaryRun<KIND, false, true>(a, b, out, count);
  } else {
    binaryRun<KIND, false, false>(a, b, out, count);
  }
}

}  // namespace

void binarySimd128(int32_t kind, const float* a, int64_t strideA, const float* b, int64_t strideB, float* out,
                   int64_t count) {
  const ptrdiff_t n = static_cast<ptrdiff_t>(count);
  switch (static_cast<BinaryKind>(kind)) {
    case BinaryKind::ADD: binaryKind<0>(a, strideA, b, strideB, out, n); return;
    case BinaryKind::SUB: binaryKind<1>(a, strideA, b, strideB, out, n); return;
    case BinaryKind::MUL: binaryKind<2>(a, strideA, b, strideB, out, n); return;
    case BinaryKind::DIV: binaryKind<3>(a, strideA, b, strideB, out, n); return;
    case BinaryKind::MAX: binaryKind<4>(a, strideA, b, strideB, out, n); return;
    case BinaryKind::MIN: binaryKind<5>(a, strideA, b, strideB, out, n); return;
  }
}

void activationSimd128(float* data, int64_t rows, int64_t channels, const ActParams& act) {
  if (!simd128::isVectorActivation(act.kind)) {
    activationScalar(data, rows, channels, act);
    return;
  }
  const ptrdiff_t width = static_cast<ptrdiff_t>(channels);
  const ptrdiff_t vectorWidth = width & ~ptrdiff_t(3);
  const v128_t lo = wasm_f32x4_splat(act.a);
  const v128_t hi = wasm_f32x4_splat(act.b);
  for (ptrdiff_t r = 0; r < static_cast<ptrdiff_t>(rows); ++r) {
    float* row = data + r * width;
    ptrdiff_t c = 0;
    for (; c < vectorWidth; c += 4) {
      // PRELU takes per-channel slopes; LEAKY_RELU takes act.a, which lo already holds.
      const v128_t slope = act.kind == 3 ? wasm_v128_load(act.slopes + c) : lo;
      wasm_v128_store(row + c, simd128::activate4(wasm_v128_load(row + c), act.kind, lo, hi, slope));
    }
    for (; c < width; ++c) row[c] = activate(row[c], act, c);
  }
}

void channelAffineSimd128(const float* x, const float* scale, const float* shift, float* y, int64_t rows,
                          int64_t channels) {
  const ptrdiff_t width = static_cast<ptrdiff_t>(channels);
  const ptrdiff_t vectorWidth = width & ~ptrdiff_t(3);
  for (ptrdiff_t r = 0; r < static_cast<ptrdiff_t>(rows); ++r) {
    const float* in = x + r * width;
    float* out = y + r * width;
    ptrdiff_t c = 0;
    for (; c < vectorWidth; c += 4) {
      const v128_t v = wasm_f32x4_mul(wasm_v128_load(in + c), wasm_v128_load(scale + c));
      wasm_v128_store(out + c, wasm_f32x4_add(v, wasm_v128_load(shift + c)));
    }
    for (; c < width; ++c) out[c] = in[c] * scale[c] + shift[c];
  }
}

}  // namespace facebits

#endif  // __wasm_simd128__

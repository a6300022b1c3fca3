// The WebAssembly SIMD128 kernel set, built only by the emscripten build in wasm/
// (compiled with -msimd128). The GEMM and depthwise kernels use 128-bit vectors; the
// pooling, element-wise and affine kernels are the scalar ones, which clang vectorizes
// at -O3 with -msimd128.
//
// SIMD128 has no fused multiply-add, so sums round after each product and results differ
// from the AVX2/AVX-512 sets by float rounding only.

#if defined(__wasm_simd128__)

#include <wasm_simd128.h>

#include "kernels.h"
#include "ops/ops.h"

namespace facebits {

const KernelTable* wasmSimd128Kernels();

namespace {

// Rows of A per GEMM tile. 3 rows x 16 columns keep 12 accumulators, 4 panel vectors
// and one broadcast, close to the 16 vector registers V8 has on x86-64.
constexpr int64_t kTileRows = 3;

inline v128_t activate4(v128_t x, int32_t kind, v128_t lo, v128_t hi, v128_t slope) {
  const v128_t zero = wasm_f32x4_splat(0.0f);
  switch (kind) {
    case 1: return wasm_f32x4_pmax(zero, x);
    case 2: return wasm_f32x4_pmin(hi, wasm_f32x4_pmax(lo, x));
    case 3:
    case 4: return wasm_v128_bitselect(x, wasm_f32x4_mul(x, slope), wasm_f32x4_ge(x, zero));
    default: return x;
  }
}

template <int MR>
void tile(int64_t depth, const float* a, int64_t lda, const float* panel, const float* bias, const float* slopes,
          const ActParams& act, float* c, int64_t ldc, int64_t columns) {
  v128_t acc[MR][4];
  for (int r = 0; r < MR; ++r) {
    for (int q = 0; q < 4; ++q) acc[r][q] = wasm_v128_load(bias + 4 * q);
  }
  for (int64_t k = 0; k < depth; ++k) {
    const float* row = panel + k * kPanelWidth;
    const v128_t w0 = wasm_v128_load(row);
    const v128_t w1 = wasm_v128_load(row + 4);
    const v128_t w2 = wasm_v128_load(row + 8);
    const v128_t w3 = wasm_v128_load(row + 12);
    for (int r = 0; r < MR; ++r) {
      const v128_t x = wasm_f32x4_splat(a[r * lda + k]);
      acc[r][0] = wasm_f32x4_add(acc[r][0], wasm_f32x4_mul(x, w0));
      acc[r][1] = wasm_f32x4_add(acc[r][1], wasm_f32x4_mul(x, w1));
      acc[r][2] = wasm_f32x4_add(acc[r][2], wasm_f32x4_mul(x, w2));
      acc[r][3] = wasm_f32x4_add(acc[r][3], wasm_f32x4_mul(x, w3));
    }
  }

  // SIGMOID (kind 5) is applied by the caller, as in every GEMM kernel.
  if (act.kind != 0 && act.kind != 5) {
    const v128_t lo = wasm_f32x4_splat(act.a);
    const v128_t hi = wasm_f32x4_splat(act.b);
    for (int q = 0; q < 4; ++q) {
      const v128_t slope = act.kind == 3 ? wasm_v128_load(slopes + 4 * q) : lo;  // LEAKY_RELU slope is act.a
      for (int r = 0; r < MR; ++r) acc[r][q] = activate4(acc[r][q], act.kind, lo, hi, slope);
    }
  }

  for (int r = 0; r < MR; ++r) {
    float* out = c + r * ldc;
    if (columns == kPanelWidth) {
      for (int q = 0; q < 4; ++q) wasm_v128_store(out + 4 * q, acc[r][q]);
      continue;
    }
    alignas(16) float lanes[kPanelWidth];
    for (int q = 0; q < 4; ++q) wasm_v128_store(lanes + 4 * q, acc[r][q]);
    for (int64_t j = 0; j < columns; ++j) out[j] = lanes[j];
  }
}

void gemmSimd128(int64_t rows, const float* a, int64_t lda, const PackedMatrix& b, const ActParams& act, float* c,
                 int64_t ldc) {
  for (int64_t p = 0; p < b.panelCount; ++p) {
    const float* panel = b.panels + p * b.k * kPanelWidth;
    const int64_t column = p * kPanelWidth;
    const int64_t columns = b.n - column < kPanelWidth ? b.n - column : kPanelWidth;
    const float* slopes = b.slopes ? b.slopes + column : nullptr;
    for (int64_t m = 0; m < rows; m += kTileRows) {
      const int64_t count = rows - m < kTileRows ? rows - m : kTileRows;
      const float* aRows = a + m * lda;
      float* cRows = c + m * ldc + column;
      if (count == 3) tile<3>(b.k, aRows, lda, panel, b.bias + column, slopes, act, cRows, ldc, columns);
      else if (count == 2) tile<2>(b.k, aRows, lda, panel, b.bias + column, slopes, act, cRows, ldc, columns);
      else tile<1>(b.k, aRows, lda, panel, b.bias + column, slopes, act, cRows, ldc, columns);
    }
  }
}

// Depthwise convolution, 4 channels per vector with a scalar tail. Same contract and
// summation order (bias, then taps in ky, kx order) as depthwiseScalar.
void depthwiseSimd128(const ConvGeometry& g, const float* input, const float* weights, const float* bias,
                      const ActParams& act, float* output) {
  const int64_t vectorChannels = g.c & ~int64_t(3);
  for (int64_t n = 0; n < g.n; ++n) {
    for (int64_t oy = 0; oy < g.oh; ++oy) {
      for (int64_t ox = 0; ox < g.ow; ++ox) {
        float* out = output + ((n * g.oh + oy) * g.ow + ox) * g.c;
        for (int64_t c = 0; c < g.c; ++c) out[c] = bias[c];
        for (int64_t ky = 0; ky < g.kh; ++ky) {
          const int64_t iy = oy * g.sh - g.padTop + ky * g.dh;
          if (iy < 0 || iy >= g.h) continue;
          for (int64_t kx = 0; kx < g.kw; ++kx) {
            const int64_t ix = ox * g.sw - g.padLeft + kx * g.dw;
            if (ix < 0 || ix >= g.w) continue;
            const float* in = input + ((n * g.h + iy) * g.w + ix) * g.c;
            const float* w = weights + (ky * g.kw + kx) * g.c;
            int64_t c = 0;
            for (; c < vectorChannels; c += 4) {
              const v128_t sum = wasm_f32x4_add(wasm_v128_load(out + c),
                                                wasm_f32x4_mul(wasm_v128_load(in + c), wasm_v128_load(w + c)));
              wasm_v128_store(out + c, sum);
            }
            for (; c < g.c; ++c) out[c] += in[c] * w[c];
          }
        }
        for (int64_t c = 0; c < g.c; ++c) out[c] = activate(out[c], act, c);
      }
    }
  }
}

}  // namespace

const KernelTable* wasmSimd128Kernels() {
  static const KernelTable table = {
      "simd128", false, gemmSimd128, depthwiseSimd128, poolScalar, binaryScalar, activationScalar, channelAffineScalar,
  };
  return &table;
}

}  // namespace facebits

#endif  // __wasm_simd128__

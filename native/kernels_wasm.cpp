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

// GEMM tiles are 4 rows x 8 columns (half a panel): 8 accumulators, 2 panel vectors and
// one broadcast fit in the 16 vector registers V8 has on x86-64. A 16-column tile needs
// more than 16 and spills to the stack; it measured about 2x slower.
constexpr int64_t kTileRows = 4;
constexpr int64_t kTileColumns = 8;

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

// One tile: MR rows of A against columns [half * 8, half * 8 + 8) of one panel; `columns`
// of them (1..8) are stored.
template <int MR>
void tile(int64_t depth, const float* a, int64_t lda, const float* panel, const float* bias, const float* slopes,
          const ActParams& act, float* c, int64_t ldc, int64_t columns) {
  v128_t acc0[MR], acc1[MR];
  const v128_t bias0 = wasm_v128_load(bias);
  const v128_t bias1 = wasm_v128_load(bias + 4);
  for (int r = 0; r < MR; ++r) {
    acc0[r] = bias0;
    acc1[r] = bias1;
  }
  for (int64_t k = 0; k < depth; ++k) {
    const v128_t w0 = wasm_v128_load(panel + k * kPanelWidth);
    const v128_t w1 = wasm_v128_load(panel + k * kPanelWidth + 4);
    for (int r = 0; r < MR; ++r) {
      const v128_t x = wasm_v128_load32_splat(a + r * lda + k);
      acc0[r] = wasm_f32x4_add(acc0[r], wasm_f32x4_mul(x, w0));
      acc1[r] = wasm_f32x4_add(acc1[r], wasm_f32x4_mul(x, w1));
    }
  }

  // SIGMOID (kind 5) is applied by the caller, as in every GEMM kernel.
  if (act.kind != 0 && act.kind != 5) {
    const v128_t lo = wasm_f32x4_splat(act.a);
    const v128_t hi = wasm_f32x4_splat(act.b);
    const v128_t slope0 = act.kind == 3 ? wasm_v128_load(slopes) : lo;  // LEAKY_RELU slope is act.a
    const v128_t slope1 = act.kind == 3 ? wasm_v128_load(slopes + 4) : lo;
    for (int r = 0; r < MR; ++r) {
      acc0[r] = activate4(acc0[r], act.kind, lo, hi, slope0);
      acc1[r] = activate4(acc1[r], act.kind, lo, hi, slope1);
    }
  }

  for (int r = 0; r < MR; ++r) {
    float* out = c + r * ldc;
    if (columns == kTileColumns) {
      wasm_v128_store(out, acc0[r]);
      wasm_v128_store(out + 4, acc1[r]);
      continue;
    }
    alignas(16) float lanes[kTileColumns];
    wasm_v128_store(lanes, acc0[r]);
    wasm_v128_store(lanes + 4, acc1[r]);
    for (int64_t j = 0; j < columns; ++j) out[j] = lanes[j];
  }
}

void gemmSimd128(int64_t rows, const float* a, int64_t lda, const PackedMatrix& b, const ActParams& act, float* c,
                 int64_t ldc) {
  for (int64_t p = 0; p < b.panelCount; ++p) {
    for (int64_t half = 0; half < 2; ++half) {
      const int64_t column = p * kPanelWidth + half * kTileColumns;
      if (column >= b.n) break;
      const int64_t columns = b.n - column < kTileColumns ? b.n - column : kTileColumns;
      const float* panel = b.panels + p * b.k * kPanelWidth + half * kTileColumns;
      const float* slopes = b.slopes ? b.slopes + column : nullptr;
      for (int64_t m = 0; m < rows; m += kTileRows) {
        const int64_t count = rows - m < kTileRows ? rows - m : kTileRows;
        const float* aRows = a + m * lda;
        float* cRows = c + m * ldc + column;
        switch (count) {
          case 4: tile<4>(b.k, aRows, lda, panel, b.bias + column, slopes, act, cRows, ldc, columns); break;
          case 3: tile<3>(b.k, aRows, lda, panel, b.bias + column, slopes, act, cRows, ldc, columns); break;
          case 2: tile<2>(b.k, aRows, lda, panel, b.bias + column, slopes, act, cRows, ldc, columns); break;
          default: tile<1>(b.k, aRows, lda, panel, b.bias + column, slopes, act, cRows, ldc, columns); break;
        }
      }
    }
  }
}

// Depthwise convolution: for each output pixel and block of 4 channels, the taps are
// summed in a register (bias first, then taps in ky, kx order, as depthwiseScalar does)
// and the activation is applied before the one store. The last c % 4 channels run scalar.
void depthwiseSimd128(const ConvGeometry& g, const float* input, const float* weights, const float* bias,
                      const ActParams& act, float* output) {
  const int64_t vectorChannels = g.c & ~int64_t(3);
  const bool vectorAct = act.kind == 0 || act.kind == 1 || act.kind == 2 || act.kind == 3 || act.kind == 4;
  const v128_t lo = wasm_f32x4_splat(act.a);
  const v128_t hi = wasm_f32x4_splat(act.b);
  for (int64_t n = 0; n < g.n; ++n) {
    for (int64_t oy = 0; oy < g.oh; ++oy) {
      // Rows of taps inside the image for this output row.
      const int64_t iy0 = oy * g.sh - g.padTop;
      for (int64_t ox = 0; ox < g.ow; ++ox) {
        const int64_t ix0 = ox * g.sw - g.padLeft;
        float* out = output + ((n * g.oh + oy) * g.ow + ox) * g.c;
        int64_t c = 0;
        for (; c < vectorChannels; c += 4) {
          v128_t acc = wasm_v128_load(bias + c);
          for (int64_t ky = 0; ky < g.kh; ++ky) {
            const int64_t iy = iy0 + ky * g.dh;
            if (iy < 0 || iy >= g.h) continue;
            const float* row = input + ((n * g.h + iy) * g.w) * g.c + c;
            const float* w = weights + ky * g.kw * g.c + c;
            for (int64_t kx = 0; kx < g.kw; ++kx) {
              const int64_t ix = ix0 + kx * g.dw;
              if (ix < 0 || ix >= g.w) continue;
              acc = wasm_f32x4_add(acc, wasm_f32x4_mul(wasm_v128_load(row + ix * g.c), wasm_v128_load(w + kx * g.c)));
            }
          }
          if (vectorAct) {
            const v128_t slope = act.kind == 3 ? wasm_v128_load(act.slopes + c) : lo;  // LEAKY_RELU slope is act.a
            wasm_v128_store(out + c, activate4(acc, act.kind, lo, hi, slope));
          } else {
            wasm_v128_store(out + c, acc);
            for (int64_t j = c; j < c + 4; ++j) out[j] = activate(out[j], act, j);
          }
        }
        for (; c < g.c; ++c) {
          float sum = bias[c];
          for (int64_t ky = 0; ky < g.kh; ++ky) {
            const int64_t iy = iy0 + ky * g.dh;
            if (iy < 0 || iy >= g.h) continue;
            for (int64_t kx = 0; kx < g.kw; ++kx) {
              const int64_t ix = ix0 + kx * g.dw;
              if (ix < 0 || ix >= g.w) continue;
              sum += input[((n * g.h + iy) * g.w + ix) * g.c + c] * weights[(ky * g.kw + kx) * g.c + c];
            }
          }
          out[c] = activate(sum, act, c);
        }
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

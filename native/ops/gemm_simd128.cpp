// WebAssembly SIMD128 GEMM over packed panels (emcc -msimd128).
//
// Contract: as gemmScalar (gemm.cpp): C[m][n] = act(sum_k A[m][k] * B[k][n] + bias[n]),
// A rows x k with row stride lda, B a PackedMatrix, C rows x n with row stride ldc, any
// alignment of A and C. SIGMOID is left to the caller. Each sum starts from the bias and
// adds the products in k order, as gemmScalar does, so without fused multiply-add in
// SIMD128 the results equal the scalar kernel's bit for bit.
//
// Tiles are 4 rows x 8 columns (half a panel): 8 accumulators, two panel vectors and one
// broadcast A value fit in the 15 x86-64 vector registers V8 allocates. Each product
// takes a multiply and an add, so the loop is bound by the floating-point ports; tiles of
// 5 and 6 rows measured no faster in MobileFaceNet on a Xeon (Sapphire Rapids).

#if defined(__wasm_simd128__)

#include <cstddef>

#include "ops.h"
#include "simd128.h"

namespace facebits {

void gemmSimd128(int64_t rows, const float* a, int64_t lda, const PackedMatrix& b, const ActParams& act, float* c,
                 int64_t ldc);

namespace {

constexpr ptrdiff_t kTileRows = 4;
constexpr ptrdiff_t kTileColumns = 8;

// One tile: MR rows of A against the 8 columns of `panel` (a half panel, row stride 16).
// `columns` (1..8) of them are stored.
template <int MR>
inline void tile(ptrdiff_t depth, const float* a, ptrdiff_t lda, const float* panel, const float* bias,
                 const float* slopes, const ActParams& act, float* c, ptrdiff_t ldc, ptrdiff_t columns) {
  v128_t acc0[MR], acc1[MR];
  const v128_t bias0 = wasm_v128_load(bias);
  const v128_t bias1 = wasm_v128_load(bias + 4);
  for (int r = 0; r < MR; ++r) {
    acc0[r] = bias0;
    acc1[r] = bias1;
  }
  const float* w = panel;
  for (ptrdiff_t k = 0; k < depth; ++k, w += kPanelWidth) {
    const v128_t w0 = wasm_v128_load(w);
    const v128_t w1 = wasm_v128_load(w + 4);
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
    // PRELU takes the panel's per-column slopes; LEAKY_RELU takes act.a, which lo holds.
    const v128_t slope0 = act.kind == 3 ? wasm_v128_load(slopes) : lo;
    const v128_t slope1 = act.kind == 3 ? wasm_v128_load(slopes + 4) : lo;
    for (int r = 0; r < MR; ++r) {
      acc0[r] = simd128::activate4(acc0[r], act.kind, lo, hi, slope0);
      acc1[r] = simd128::activate4(acc1[r], act.kind, lo, hi, slope1);
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
    for (ptrdiff_t j = 0; j < columns; ++j) out[j] = lanes[j];
  }
}

// One tile of `count` (1 to 4) rows against one half panel.
inline void tileRows(ptrdiff_t count, ptrdiff_t depth, const float* a, ptrdiff_t lda, const float* panel,
                     const float* bias, const float* slopes, const ActParams& act, float* c, ptrdiff_t ldc,
                     ptrdiff_t columns) {
  switch (count) {
    case 4: tile<4>(depth, a, lda, panel, bias, slopes, act, c, ldc, columns); return;
    case 3: tile<3>(depth, a, lda, panel, bias, slopes, act, c, ldc, columns); return;
    case 2: tile<2>(depth, a, lda, panel, bias, slopes, act, c, ldc, columns); return;
    default: tile<1>(depth, a, lda, panel, bias, slopes, act, c, ldc, columns); return;
  }
}

}  // namespace

void gemmSimd128(int64_t rows, const float* a, int64_t lda, const PackedMatrix& b, const ActParams& act, float* c,
                 int64_t ldc) {
  const ptrdiff_t depth = static_cast<ptrdiff_t>(b.k);
  const ptrdiff_t n = static_cast<ptrdiff_t>(b.n);
  const ptrdiff_t m = static_cast<ptrdiff_t>(rows);
  const ptrdiff_t strideA = static_cast<ptrdiff_t>(lda);
  const ptrdiff_t strideC = static_cast<ptrdiff_t>(ldc);
  const ptrdiff_t halves = (n + kTileColumns - 1) / kTileColumns;
  // A tile row of A (kTileRows x depth floats) stays in L1 while it meets every column of B.
  for (ptrdiff_t row = 0; row < m; row += kTileRows) {
    const ptrdiff_t count = m - row < kTileRows ? m - row : kTileRows;
    const float* aRows = a + row * strideA;
    float* cRows = c + row * strideC;
    for (ptrdiff_t h = 0; h < halves; ++h) {
      const ptrdiff_t column = h * kTileColumns;
      const ptrdiff_t columns = n - column < kTileColumns ? n - column : kTileColumns;
      const float* panel = b.panels + (h / 2) * depth * kPanelWidth + (h % 2) * kTileColumns;
      const float* slopes = b.slopes ? b.slopes + column : nullptr;
      tileRows(count, depth, aRows, strideA, panel, b.bias + column, slopes, act, cRows + column, strideC, columns);
    }
  }
}

}  // namespace facebits

#endif  // __wasm_simd128__

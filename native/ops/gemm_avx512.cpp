// AVX-512F GEMM micro-kernel over packed panels (compiled with -mavx512f -mavx512bw
// -mavx512vl -mfma).
//
// Contract: as gemmScalar in gemm.cpp. Panels are read with aligned 512-bit loads
// (64-byte aligned, 16 floats per k), A with broadcasts, C with masked unaligned stores
// so a partial last panel never writes past column n.
// Register blocking: up to 12 rows x 16 columns = 12 ZMM accumulators.

#include <immintrin.h>

#include "../kernels.h"

namespace facebits {

void gemmAvx512(int64_t rows, const float* a, int64_t lda, const PackedMatrix& b, const ActParams& act, float* c,
                int64_t ldc);

namespace {

constexpr int64_t kTileRows = 12;
constexpr int64_t kBlockRows = 96;

inline __m512 activate16(__m512 x, int32_t kind, __m512 lo, __m512 hi, __m512 slope) {
  const __m512 zero = _mm512_setzero_ps();
  switch (kind) {
    case 1: return _mm512_max_ps(x, zero);
    case 2: return _mm512_min_ps(_mm512_max_ps(x, lo), hi);
    case 3:
    case 4: {
      const __mmask16 negative = _mm512_cmp_ps_mask(x, zero, _CMP_LT_OQ);
      return _mm512_mask_mul_ps(x, negative, x, slope);
    }
    default: return x;
  }
}

template <int MR>
inline void tile(int64_t depth, const float* a, int64_t lda, const float* panel, const float* bias,
                 const float* slopes, const ActParams& act, float* c, int64_t ldc, __mmask16 columns) {
  __m512 acc[MR];
  const __m512 b0 = _mm512_load_ps(bias);
  for (int r = 0; r < MR; ++r) acc[r] = b0;
  for (int64_t k = 0; k < depth; ++k) {
    const __m512 w = _mm512_load_ps(panel + k * 16);
    for (int r = 0; r < MR; ++r) acc[r] = _mm512_fmadd_ps(_mm512_set1_ps(a[r * lda + k]), w, acc[r]);
  }
  if (act.kind != 0 && act.kind != 5) {
    const __m512 lo = _mm512_set1_ps(act.a);
    const __m512 hi = _mm512_set1_ps(act.b);
    const __m512 slope = act.kind == 3 ? _mm512_load_ps(slopes) : lo;
    for (int r = 0; r < MR; ++r) acc[r] = activate16(acc[r], act.kind, lo, hi, slope);
  }
  for (int r = 0; r < MR; ++r) _mm512_mask_storeu_ps(c + r * ldc, columns, acc[r]);
}

template <int MR>
void tileFn(int64_t depth, const float* a, int64_t lda, const float* panel, const float* bias, const float* slopes,
            const ActParams& act, float* c, int64_t ldc, __mmask16 columns) {
  tile<MR>(depth, a, lda, panel, bias, slopes, act, c, ldc, columns);
}

using TileFn = void (*)(int64_t, const float*, int64_t, const float*, const float*, const float*, const ActParams&,
                        float*, int64_t, __mmask16);

const TileFn kTiles[kTileRows + 1] = {
    nullptr,    tileFn<1>, tileFn<2>, tileFn<3>,  tileFn<4>,  tileFn<5>,  tileFn<6>,
    tileFn<7>,  tileFn<8>, tileFn<9>, tileFn<10>, tileFn<11>, tileFn<12>,
};

}  // namespace

void gemmAvx512(int64_t rows, const float* a, int64_t lda, const PackedMatrix& b, const ActParams& act, float* c,
                int64_t ldc) {
  for (int64_t block = 0; block < rows; block += kBlockRows) {
    const int64_t blockEnd = block + kBlockRows < rows ? block + kBlockRows : rows;
    for (int64_t p = 0; p < b.panelCount; ++p) {
      const float* panel = b.panels + p * b.k * 16;
      const int64_t column = p * 16;
      const int64_t columns = b.n - column < 16 ? b.n - column : 16;
      const __mmask16 mask = static_cast<__mmask16>((1u << columns) - 1u);
      const float* slopes = b.slopes ? b.slopes + column : nullptr;
      for (int64_t m = block; m < blockEnd; m += kTileRows) {
        const int64_t count = blockEnd - m < kTileRows ? blockEnd - m : kTileRows;
        kTiles[count](b.k, a + m * lda, lda, panel, b.bias + column, slopes, act, c + m * ldc + column, ldc, mask);
      }
    }
  }
}

}  // namespace facebits

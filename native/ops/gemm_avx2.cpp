// AVX2 + FMA GEMM micro-kernel over packed panels (compiled with -mavx2 -mfma).
//
// Contract: as gemmScalar in gemm.cpp. A is read with unaligned broadcasts, panels with
// aligned 256-bit loads (64-byte aligned, 16 floats per k), C with unaligned stores
// (masked for a partial last panel, so nothing past column n is written).
// Register blocking: up to 6 rows x 16 columns = 12 YMM accumulators, 2 YMM for the
// panel row and 1 for the broadcast A value. Bias and the activation are applied in
// registers before the store; SIGMOID is left to the caller.
//
// Everything except gemmAvx2 has internal linkage so no AVX2 code can be picked by the
// linker for a baseline caller.

#include <immintrin.h>

#include "../kernels.h"

namespace facebits {

void gemmAvx2(int64_t rows, const float* a, int64_t lda, const PackedMatrix& b, const ActParams& act, float* c,
              int64_t ldc);

namespace {

constexpr int64_t kTileRows = 6;
constexpr int64_t kBlockRows = 72;  // rows of A kept hot in L1/L2 across all panels

inline __m256 activate8(__m256 x, int32_t kind, __m256 lo, __m256 hi, __m256 slope) {
  const __m256 zero = _mm256_setzero_ps();
  switch (kind) {
    case 1: return _mm256_max_ps(x, zero);
    case 2: return _mm256_min_ps(hi, _mm256_max_ps(lo, x));
    case 3:
    case 4: return _mm256_blendv_ps(_mm256_mul_ps(x, slope), x, _mm256_cmp_ps(x, zero, _CMP_GE_OQ));
    default: return x;
  }
}

inline __m256i columnMask(int64_t columns) {
  const __m256i index = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  const int clamped = columns < 0 ? 0 : (columns > 8 ? 8 : static_cast<int>(columns));
  return _mm256_cmpgt_epi32(_mm256_set1_epi32(clamped), index);
}

// The r loops are unrolled explicitly so GCC keeps the accumulators in registers instead
// of mirroring them on the stack every k step.
template <int MR>
inline void tile(int64_t depth, const float* a, int64_t lda, const float* panel, const float* bias,
                 const float* slopes, const ActParams& act, float* c, int64_t ldc, int64_t columns) {
  __m256 acc0[MR], acc1[MR];
  const __m256 bias0 = _mm256_load_ps(bias);
  const __m256 bias1 = _mm256_load_ps(bias + 8);
#pragma GCC unroll 6
  for (int r = 0; r < MR; ++r) {
    acc0[r] = bias0;
    acc1[r] = bias1;
  }
  for (int64_t k = 0; k < depth; ++k) {
    const __m256 w0 = _mm256_load_ps(panel + k * 16);
    const __m256 w1 = _mm256_load_ps(panel + k * 16 + 8);
#pragma GCC unroll 6
    for (int r = 0; r < MR; ++r) {
      const __m256 x = _mm256_broadcast_ss(a + r * lda + k);
      acc0[r] = _mm256_fmadd_ps(x, w0, acc0[r]);
      acc1[r] = _mm256_fmadd_ps(x, w1, acc1[r]);
    }
  }
  if (act.kind != 0 && act.kind != 5) {
    const __m256 lo = _mm256_set1_ps(act.a);
    const __m256 hi = _mm256_set1_ps(act.b);
    __m256 s0 = lo, s1 = lo;  // LEAKY_RELU slope is act.a
    if (act.kind == 3) {
      s0 = _mm256_load_ps(slopes);
      s1 = _mm256_load_ps(slopes + 8);
    }
#pragma GCC unroll 6
    for (int r = 0; r < MR; ++r) {
      acc0[r] = activate8(acc0[r], act.kind, lo, hi, s0);
      acc1[r] = activate8(acc1[r], act.kind, lo, hi, s1);
    }
  }
  if (columns == 16) {
#pragma GCC unroll 6
    for (int r = 0; r < MR; ++r) {
      _mm256_storeu_ps(c + r * ldc, acc0[r]);
      _mm256_storeu_ps(c + r * ldc + 8, acc1[r]);
    }
    return;
  }
  const __m256i mask0 = columnMask(columns);
  const __m256i mask1 = columnMask(columns - 8);
#pragma GCC unroll 6
  for (int r = 0; r < MR; ++r) {
    _mm256_maskstore_ps(c + r * ldc, mask0, acc0[r]);
    _mm256_maskstore_ps(c + r * ldc + 8, mask1, acc1[r]);
  }
}

void tileRows(int64_t count, int64_t depth, const float* a, int64_t lda, const float* panel, const float* bias,
              const float* slopes, const ActParams& act, float* c, int64_t ldc, int64_t columns) {
  switch (count) {
    case 6: tile<6>(depth, a, lda, panel, bias, slopes, act, c, ldc, columns); break;
    case 5: tile<5>(depth, a, lda, panel, bias, slopes, act, c, ldc, columns); break;
    case 4: tile<4>(depth, a, lda, panel, bias, slopes, act, c, ldc, columns); break;
    case 3: tile<3>(depth, a, lda, panel, bias, slopes, act, c, ldc, columns); break;
    case 2: tile<2>(depth, a, lda, panel, bias, slopes, act, c, ldc, columns); break;
    default: tile<1>(depth, a, lda, panel, bias, slopes, act, c, ldc, columns); break;
  }
}

}  // namespace

void gemmAvx2(int64_t rows, const float* a, int64_t lda, const PackedMatrix& b, const ActParams& act, float* c,
              int64_t ldc) {
  for (int64_t block = 0; block < rows; block += kBlockRows) {
    const int64_t blockEnd = block + kBlockRows < rows ? block + kBlockRows : rows;
    for (int64_t p = 0; p < b.panelCount; ++p) {
      const float* panel = b.panels + p * b.k * 16;
      const int64_t column = p * 16;
      const int64_t columns = b.n - column < 16 ? b.n - column : 16;
      const float* slopes = b.slopes ? b.slopes + column : nullptr;
      for (int64_t m = block; m < blockEnd; m += kTileRows) {
        const int64_t count = blockEnd - m < kTileRows ? blockEnd - m : kTileRows;
        tileRows(count, b.k, a + m * lda, lda, panel, b.bias + column, slopes, act, c + m * ldc + column, ldc, columns);
      }
    }
  }
}

}  // namespace facebits

// AVX2 max and average pooling, vectorised over channels (compiled with -mavx2 -mfma).
//
// Contract: as poolScalar in pool2d.cpp. Any alignment; the last c % 8 channels use
// masked loads and stores. MAXPS returns its second operand when either is NaN, so the max
// takes the accumulator second (a NaN in it stays) and a NaN input replaces it.

#include <immintrin.h>

#include "../kernels.h"

namespace facebits {

void poolAvx2(const PoolGeometry& g, const float* input, float* output);

namespace {

inline __m256i tailMask(int64_t count) {
  const __m256i index = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  return _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int>(count > 8 ? 8 : count)), index);
}

// Reduces the cells [yBegin, yEnd) x [xBegin, xEnd) of one image into out[c].
void reduceWindow(const PoolGeometry& g, const float* image, int64_t yBegin, int64_t yEnd, int64_t xBegin, int64_t xEnd,
                  float scale, float* out) {
  const bool isMax = g.kind == 0;
  for (int64_t ch = 0; ch < g.c; ch += 8) {
    const __m256i mask = tailMask(g.c - ch);
    __m256 acc = isMax ? _mm256_set1_ps(-__builtin_inff()) : _mm256_setzero_ps();
    for (int64_t y = yBegin; y < yEnd; ++y) {
      const float* row = image + y * g.w * g.c + ch;
      for (int64_t x = xBegin; x < xEnd; ++x) {
        // Masked-off lanes load as 0; they are never stored.
        const __m256 v = _mm256_maskload_ps(row + x * g.c, mask);
        if (isMax) {
          acc = _mm256_blendv_ps(_mm256_max_ps(v, acc), v, _mm256_cmp_ps(v, v, _CMP_UNORD_Q));
        } else {
          acc = _mm256_add_ps(acc, v);
        }
      }
    }
    if (!isMax) acc = _mm256_mul_ps(acc, _mm256_set1_ps(scale));
    _mm256_maskstore_ps(out + ch, mask, acc);
  }
}

}  // namespace

void poolAvx2(const PoolGeometry& g, const float* input, float* output) {
  if (g.global) {
    for (int64_t n = 0; n < g.n; ++n) {
      reduceWindow(g, input + n * g.h * g.w * g.c, 0, g.h, 0, g.w, 1.0f / static_cast<float>(g.h * g.w),
                   output + n * g.c);
    }
    return;
  }
  for (int64_t n = 0; n < g.n; ++n) {
    const float* image = input + n * g.h * g.w * g.c;
    for (int64_t oy = 0; oy < g.oh; ++oy) {
      const int64_t y0 = oy * g.sh - g.padTop;
      const int64_t yBegin = y0 < 0 ? 0 : y0;
      const int64_t yEnd = y0 + g.kh > g.h ? g.h : y0 + g.kh;
      for (int64_t ox = 0; ox < g.ow; ++ox) {
        const int64_t x0 = ox * g.sw - g.padLeft;
        const int64_t xBegin = x0 < 0 ? 0 : x0;
        const int64_t xEnd = x0 + g.kw > g.w ? g.w : x0 + g.kw;
        int64_t cells = g.countIncludePad ? g.kh * g.kw : (yEnd - yBegin) * (xEnd - xBegin);
        if (cells < 1) cells = 1;
        reduceWindow(g, image, yBegin, yEnd, xBegin, xEnd, 1.0f / static_cast<float>(cells),
                     output + ((n * g.oh + oy) * g.ow + ox) * g.c);
      }
    }
  }
}

}  // namespace facebits

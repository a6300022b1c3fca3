// AVX2 + FMA depthwise convolution, vectorised over channels (compiled with -mavx2 -mfma).
//
// Contract: input NHWC [n, h, w, c], weights [kh][kw][c], bias [c], output NHWC
// [n, oh, ow, c]; any alignment (unaligned loads, masked loads and stores for the last
// c % 8 channels). Any kernel size, stride and dilation; taps that fall into the padding
// are skipped. Bias and the activation are fused; SIGMOID is applied per element.

#include <immintrin.h>
#include <math.h>

#include "../kernels.h"

namespace facebits {

void depthwiseAvx2(const ConvGeometry& g, const float* input, const float* weights, const float* bias,
                   const ActParams& act, float* output);

namespace {

inline __m256 activate8(__m256 x, const ActParams& act, const float* slopes, __m256i mask) {
  const __m256 zero = _mm256_setzero_ps();
  switch (act.kind) {
    case 1: return _mm256_max_ps(x, zero);
    case 2: return _mm256_min_ps(_mm256_set1_ps(act.b), _mm256_max_ps(_mm256_set1_ps(act.a), x));
    case 3: {
      const __m256 s = _mm256_maskload_ps(slopes, mask);
      return _mm256_blendv_ps(_mm256_mul_ps(x, s), x, _mm256_cmp_ps(x, zero, _CMP_GE_OQ));
    }
    case 4:
      return _mm256_blendv_ps(_mm256_mul_ps(x, _mm256_set1_ps(act.a)), x, _mm256_cmp_ps(x, zero, _CMP_GE_OQ));
    case 5: {
      alignas(32) float v[8];
      _mm256_store_ps(v, x);
      for (int i = 0; i < 8; ++i) v[i] = 1.0f / (1.0f + expf(-v[i]));
      return _mm256_load_ps(v);
    }
    default: return x;
  }
}

inline __m256i tailMask(int64_t count) {
  const __m256i index = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  return _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int>(count)), index);
}

}  // namespace

void depthwiseAvx2(const ConvGeometry& g, const float* input, const float* weights, const float* bias,
                   const ActParams& act, float* output) {
  const int64_t c = g.c;
  const __m256i full = _mm256_set1_epi32(-1);
  for (int64_t n = 0; n < g.n; ++n) {
    const float* image = input + n * g.h * g.w * c;
    for (int64_t oy = 0; oy < g.oh; ++oy) {
      const int64_t y0 = oy * g.sh - g.padTop;
      int64_t kyBegin = 0, kyEnd = g.kh;
      while (kyBegin < kyEnd && y0 + kyBegin * g.dh < 0) ++kyBegin;
      while (kyEnd > kyBegin && y0 + (kyEnd - 1) * g.dh >= g.h) --kyEnd;
      for (int64_t ox = 0; ox < g.ow; ++ox) {
        const int64_t x0 = ox * g.sw - g.padLeft;
        int64_t kxBegin = 0, kxEnd = g.kw;
        while (kxBegin < kxEnd && x0 + kxBegin * g.dw < 0) ++kxBegin;
        while (kxEnd > kxBegin && x0 + (kxEnd - 1) * g.dw >= g.w) --kxEnd;
        float* out = output + ((n * g.oh + oy) * g.ow + ox) * c;

        int64_t ch = 0;
        for (; ch + 32 <= c; ch += 32) {
          __m256 acc0 = _mm256_loadu_ps(bias + ch), acc1 = _mm256_loadu_ps(bias + ch + 8);
          __m256 acc2 = _mm256_loadu_ps(bias + ch + 16), acc3 = _mm256_loadu_ps(bias + ch + 24);
          for (int64_t ky = kyBegin; ky < kyEnd; ++ky) {
            const float* row = image + (y0 + ky * g.dh) * g.w * c + ch;
            const float* wrow = weights + ky * g.kw * c + ch;
            for (int64_t kx = kxBegin; kx < kxEnd; ++kx) {
              const float* in = row + (x0 + kx * g.dw) * c;
              const float* w = wrow + kx * c;
              acc0 = _mm256_fmadd_ps(_mm256_loadu_ps(in), _mm256_loadu_ps(w), acc0);
              acc1 = _mm256_fmadd_ps(_mm256_loadu_ps(in + 8), _mm256_loadu_ps(w + 8), acc1);
              acc2 = _mm256_fmadd_ps(_mm256_loadu_ps(in + 16), _mm256_loadu_ps(w + 16), acc2);
              acc3 = _mm256_fmadd_ps(_mm256_loadu_ps(in + 24), _mm256_loadu_ps(w + 24), acc3);
            }
          }
          const float* s = act.slopes ? act.slopes + ch : nullptr;
          _mm256_storeu_ps(out + ch, activate8(acc0, act, s, full));
          _mm256_storeu_ps(out + ch + 8, activate8(acc1, act, s ? s + 8 : s, full));
          _mm256_storeu_ps(out + ch + 16, activate8(acc2, act, s ? s + 16 : s, full));
          _mm256_storeu_ps(out + ch + 24, activate8(acc3, act, s ? s + 24 : s, full));
        }
        for (; ch < c; ch += 8) {
          const __m256i mask = c - ch >= 8 ? full : tailMask(c - ch);
          __m256 acc = _mm256_maskload_ps(bias + ch, mask);
          for (int64_t ky = kyBegin; ky < kyEnd; ++ky) {
            const float* row = image + (y0 + ky * g.dh) * g.w * c + ch;
            const float* wrow = weights + ky * g.kw * c + ch;
            for (int64_t kx = kxBegin; kx < kxEnd; ++kx) {
              const __m256 x = _mm256_maskload_ps(row + (x0 + kx * g.dw) * c, mask);
              acc = _mm256_fmadd_ps(x, _mm256_maskload_ps(wrow + kx * c, mask), acc);
            }
          }
          const float* s = act.slopes ? act.slopes + ch : nullptr;
          _mm256_maskstore_ps(out + ch, mask, activate8(acc, act, s, mask));
        }
      }
    }
  }
}

}  // namespace facebits

// Helpers shared by the AVX-512 depthwise (conv2d_avx512.cpp) and direct
// (conv2d_direct_avx512.cpp) convolutions and the AVX-512 and AMX GEMMs (gemm_avx512.cpp,
// gemm_amx.cpp). Include it only from files compiled with -mavx512f.
#pragma once

#include <immintrin.h>
#include <math.h>

#include <cstdint>

#include "../kernels.h"

namespace facebits {
namespace conv_avx512 {

// Applies activation kind (the Activation codes of plan.h, not SIGMOID) to 16 floats. lo and
// hi are the CLIP bounds and slope the PReLU or leaky ReLU slopes. CLIP passes x as the second
// operand of max and min, which return that operand when either is NaN, so NaN stays NaN as in
// the scalar reference.
inline __m512 activate16(__m512 x, int32_t kind, __m512 lo, __m512 hi, __m512 slope) {
  const __m512 zero = _mm512_setzero_ps();
  switch (kind) {
    case 1: return _mm512_max_ps(x, zero);
    case 2: return _mm512_min_ps(hi, _mm512_max_ps(lo, x));
    case 3:
    case 4: {
      const __mmask16 negative = _mm512_cmp_ps_mask(x, zero, _CMP_LT_OQ);
      return _mm512_mask_mul_ps(x, negative, x, slope);
    }
    default: return x;
  }
}

// Applies act (not SIGMOID) to every accumulator. Each case is a loop with constant trip
// counts that the compiler unrolls, so the accumulators stay in registers. SIGMOID is
// left to the entry points, because a call to expf here would make GCC keep the
// caller's accumulators on the stack through the whole tap loop.
template <int PIXELS, int BLOCKS>
inline void activateAll(__m512 (&acc)[PIXELS][BLOCKS], const ActParams& act, const float* slopes,
                        __mmask16 lastMask) {
  const __m512 zero = _mm512_setzero_ps();
  if (act.kind == 1) {
    #pragma GCC unroll 8
    for (int p = 0; p < PIXELS; ++p)
      #pragma GCC unroll 8
      for (int b = 0; b < BLOCKS; ++b) acc[p][b] = _mm512_max_ps(acc[p][b], zero);
  } else if (act.kind == 2) {
    const __m512 lo = _mm512_set1_ps(act.a);
    const __m512 hi = _mm512_set1_ps(act.b);
    #pragma GCC unroll 8
    for (int p = 0; p < PIXELS; ++p)
      #pragma GCC unroll 8
      for (int b = 0; b < BLOCKS; ++b) acc[p][b] = _mm512_min_ps(hi, _mm512_max_ps(lo, acc[p][b]));
  } else if (act.kind == 3 || act.kind == 4) {
    __m512 slope[BLOCKS];
    #pragma GCC unroll 8
    for (int b = 0; b < BLOCKS; ++b) {
      const __mmask16 m = b == BLOCKS - 1 ? lastMask : 0xffff;
      slope[b] = act.kind == 3 ? _mm512_maskz_loadu_ps(m, slopes + 16 * b) : _mm512_set1_ps(act.a);
    }
    #pragma GCC unroll 8
    for (int p = 0; p < PIXELS; ++p) {
      #pragma GCC unroll 8
      for (int b = 0; b < BLOCKS; ++b) {
        const __mmask16 negative = _mm512_cmp_ps_mask(acc[p][b], zero, _CMP_LT_OQ);
        acc[p][b] = _mm512_mask_mul_ps(acc[p][b], negative, acc[p][b], slope[b]);
      }
    }
  }
}

// Applies the logistic sigmoid to count floats in place.
inline void sigmoidInPlace(float* data, int64_t count) {
  for (int64_t i = 0; i < count; ++i) data[i] = 1.0f / (1.0f + expf(-data[i]));
}

struct Window {
  int64_t begin, end;
};

// Kernel taps [begin, end) whose input index origin + tap * dilation lies in [0, size).
inline Window validTaps(int64_t origin, int64_t taps, int64_t dilation, int64_t size) {
  Window w{0, taps};
  while (w.begin < w.end && origin + w.begin * dilation < 0) ++w.begin;
  while (w.end > w.begin && origin + (w.end - 1) * dilation >= size) --w.end;
  return w;
}

}  // namespace conv_avx512
}  // namespace facebits

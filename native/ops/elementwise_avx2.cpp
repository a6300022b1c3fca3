// AVX2 element-wise kernels: BINARY inner loop, activations and CHANNEL_AFFINE
// (compiled with -mavx2 -mfma).
//
// Contracts: as binaryScalar (binary.cpp), activationScalar (unary.cpp) and
// channelAffineScalar (channel_affine.cpp). Any alignment, unaligned loads and stores;
// outputs may alias inputs with stride 1. SIGMOID uses the libm expf per element.

#include <immintrin.h>
#include <math.h>

#include "../kernels.h"

namespace facebits {

void binaryAvx2(int32_t kind, const float* a, int64_t strideA, const float* b, int64_t strideB, float* out,
                int64_t count);
void activationAvx2(float* data, int64_t rows, int64_t channels, const ActParams& act);
void channelAffineAvx2(const float* x, const float* scale, const float* shift, float* y, int64_t rows,
                       int64_t channels);

namespace {

inline __m256 apply8(int32_t kind, __m256 x, __m256 y) {
  switch (kind) {
    case 0: return _mm256_add_ps(x, y);
    case 1: return _mm256_sub_ps(x, y);
    case 2: return _mm256_mul_ps(x, y);
    case 3: return _mm256_div_ps(x, y);
    case 4: return _mm256_max_ps(x, y);
    default: return _mm256_min_ps(x, y);
  }
}

inline float apply1(int32_t kind, float x, float y) {
  switch (kind) {
    case 0: return x + y;
    case 1: return x - y;
    case 2: return x * y;
    case 3: return x / y;
    case 4: return x > y ? x : y;
    default: return x < y ? x : y;
  }
}

inline __m256 load8(const float* p, int64_t stride) { return stride ? _mm256_loadu_ps(p) : _mm256_broadcast_ss(p); }

inline float activate1(float x, const ActParams& act, int64_t channel) {
  switch (act.kind) {
    case 1: return x > 0.0f ? x : 0.0f;
    case 2: return x < act.a ? act.a : (x > act.b ? act.b : x);
    case 3: return x >= 0.0f ? x : x * act.slopes[channel];
    case 4: return x >= 0.0f ? x : x * act.a;
    case 5: return 1.0f / (1.0f + expf(-x));
    default: return x;
  }
}

}  // namespace

void binaryAvx2(int32_t kind, const float* a, int64_t strideA, const float* b, int64_t strideB, float* out,
                int64_t count) {
  int64_t i = 0;
  for (; i + 8 <= count; i += 8) {
    _mm256_storeu_ps(out + i, apply8(kind, load8(a + i * strideA, strideA), load8(b + i * strideB, strideB)));
  }
  for (; i < count; ++i) out[i] = apply1(kind, a[i * strideA], b[i * strideB]);
}

void activationAvx2(float* data, int64_t rows, int64_t channels, const ActParams& act) {
  if (act.kind == 0) return;
  const __m256 zero = _mm256_setzero_ps();
  const __m256 lo = _mm256_set1_ps(act.a);
  const __m256 hi = _mm256_set1_ps(act.b);
  for (int64_t r = 0; r < rows; ++r) {
    float* row = data + r * channels;
    int64_t c = 0;
    if (act.kind != 5) {
      for (; c + 8 <= channels; c += 8) {
        __m256 x = _mm256_loadu_ps(row + c);
        switch (act.kind) {
          case 1: x = _mm256_max_ps(x, zero); break;
          case 2: x = _mm256_min_ps(hi, _mm256_max_ps(lo, x)); break;
          case 3:
            x = _mm256_blendv_ps(_mm256_mul_ps(x, _mm256_loadu_ps(act.slopes + c)), x, _mm256_cmp_ps(x, zero, _CMP_GE_OQ));
            break;
          case 4: x = _mm256_blendv_ps(_mm256_mul_ps(x, lo), x, _mm256_cmp_ps(x, zero, _CMP_GE_OQ)); break;
        }
        _mm256_storeu_ps(row + c, x);
      }
    }
    for (; c < channels; ++c) row[c] = activate1(row[c], act, c);
  }
}

void channelAffineAvx2(const float* x, const float* scale, const float* shift, float* y, int64_t rows,
                       int64_t channels) {
  if (channels < 8) {
    // With few channels, as in an RGB input, scale and shift repeat over a period of
    // 8 * channels floats, a multiple of both the vector width and the channel count, so
    // the tensor streams as one flat array.
    const int64_t period = channels * 8;
    float periodScale[56];
    float periodShift[56];
    for (int64_t i = 0; i < period; ++i) {
      periodScale[i] = scale[i % channels];
      periodShift[i] = shift[i % channels];
    }
    const int64_t total = rows * channels;
    int64_t i = 0;
    for (; i + period <= total; i += period) {
      for (int64_t j = 0; j < period; j += 8) {
        const __m256 v = _mm256_loadu_ps(x + i + j);
        _mm256_storeu_ps(y + i + j, _mm256_fmadd_ps(v, _mm256_loadu_ps(periodScale + j), _mm256_loadu_ps(periodShift + j)));
      }
    }
    for (; i < total; ++i) y[i] = x[i] * scale[i % channels] + shift[i % channels];
    return;
  }
  for (int64_t r = 0; r < rows; ++r) {
    const float* in = x + r * channels;
    float* out = y + r * channels;
    int64_t c = 0;
    for (; c + 8 <= channels; c += 8) {
      _mm256_storeu_ps(out + c, _mm256_fmadd_ps(_mm256_loadu_ps(in + c), _mm256_loadu_ps(scale + c), _mm256_loadu_ps(shift + c)));
    }
    for (; c < channels; ++c) out[c] = in[c] * scale[c] + shift[c];
  }
}

}  // namespace facebits

// NEON CHANNEL_AFFINE kernel (AArch64 Advanced SIMD).
//
// Contract: as channelAffineScalar in channel_affine.cpp: y[r][c] = x[r][c] * scale[c] +
// shift[c], any alignment, y may alias x. The vector lanes use a fused multiply-add, so
// they can differ from the scalar kernel by one rounding of the product.

#if defined(__aarch64__)

#include <arm_neon.h>

#include "../kernels.h"

namespace facebits {

void channelAffineNeon(const float* x, const float* scale, const float* shift, float* y, int64_t rows,
                       int64_t channels);

void channelAffineNeon(const float* x, const float* scale, const float* shift, float* y, int64_t rows,
                       int64_t channels) {
  if (channels < 4) {
    // With 1 to 3 channels, as in an RGB input, scale and shift repeat every 4 * channels
    // floats. That period is a multiple of both the vector width and the channel count, so
    // the tensor streams as one flat array.
    const int64_t period = channels * 4;
    float periodScale[12];
    float periodShift[12];
    for (int64_t i = 0; i < period; ++i) {
      periodScale[i] = scale[i % channels];
      periodShift[i] = shift[i % channels];
    }
    const int64_t total = rows * channels;
    int64_t i = 0;
    for (; i + period <= total; i += period) {
      for (int64_t j = 0; j < period; j += 4) {
        const float32x4_t v = vld1q_f32(x + i + j);
        vst1q_f32(y + i + j, vfmaq_f32(vld1q_f32(periodShift + j), v, vld1q_f32(periodScale + j)));
      }
    }
    for (; i < total; ++i) y[i] = x[i] * scale[i % channels] + shift[i % channels];
    return;
  }
  for (int64_t r = 0; r < rows; ++r) {
    const float* in = x + r * channels;
    float* out = y + r * channels;
    int64_t c = 0;
    for (; c + 4 <= channels; c += 4) {
      vst1q_f32(out + c, vfmaq_f32(vld1q_f32(shift + c), vld1q_f32(in + c), vld1q_f32(scale + c)));
    }
    for (; c < channels; ++c) out[c] = in[c] * scale[c] + shift[c];
  }
}

}  // namespace facebits

#endif  // __aarch64__

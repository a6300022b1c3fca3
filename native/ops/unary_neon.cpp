// NEON activation kernel (RELU, CLIP, PRELU, LEAKY_RELU, SIGMOID) for UNARY and the fused
// activations (AArch64 Advanced SIMD).
//
// Contract: as activationScalar in unary.cpp: applies act in place to rows x channels
// floats, any alignment, PReLU slopes indexed by channel. Four lanes at a time, then a
// scalar loop for the last channels % 4. SIGMOID uses the libm expf per element.

#if defined(__aarch64__)

#include <arm_neon.h>

#include "../kernels.h"
#include "activation_neon.h"

namespace facebits {

void activationNeon(float* data, int64_t rows, int64_t channels, const ActParams& act);

void activationNeon(float* data, int64_t rows, int64_t channels, const ActParams& act) {
  if (act.kind == 0) return;
  const float32x4_t lo = vdupq_n_f32(act.a);
  const float32x4_t hi = vdupq_n_f32(act.b);
  for (int64_t r = 0; r < rows; ++r) {
    float* row = data + r * channels;
    int64_t c = 0;
    if (act.kind != 5) {
      for (; c + 4 <= channels; c += 4) {
        const float32x4_t slope = act.kind == 3 ? vld1q_f32(act.slopes + c) : lo;
        vst1q_f32(row + c, neon::activate4(vld1q_f32(row + c), act.kind, lo, hi, slope));
      }
    }
    for (; c < channels; ++c) row[c] = neon::activate1(row[c], act, c);
  }
}

}  // namespace facebits

#endif  // __aarch64__

// NEON activation of four lanes, shared by the NEON kernels (AArch64 only).
//
// Advanced SIMD is part of the AArch64 baseline, so these inline functions carry no ISA
// flags and any translation unit on arm64 may include this header.
#pragma once

#if defined(__aarch64__)

#include <arm_neon.h>
#include <math.h>

#include "../kernels.h"

namespace facebits {
namespace neon {

// Applies act (Activation codes of plan.h) to four values. slope holds the PReLU slopes of
// these four channels or the LeakyReLU slope. RELU uses FMAXNM so that NaN gives 0, as the
// scalar `x > 0 ? x : 0` does; CLIP uses FMAX and FMIN so that NaN stays NaN, as in the
// scalar kernel. SIGMOID calls expf per lane.
inline float32x4_t activate4(float32x4_t x, int32_t kind, float32x4_t lo, float32x4_t hi, float32x4_t slope) {
  const float32x4_t zero = vdupq_n_f32(0.0f);
  switch (kind) {
    case 1: return vmaxnmq_f32(x, zero);
    case 2: return vminq_f32(vmaxq_f32(x, lo), hi);
    case 3:
    case 4: return vbslq_f32(vcgeq_f32(x, zero), x, vmulq_f32(x, slope));
    case 5: {
      float v[4];
      vst1q_f32(v, x);
      for (float& lane : v) lane = 1.0f / (1.0f + expf(-lane));
      return vld1q_f32(v);
    }
    default: return x;
  }
}

// Scalar activation for the last channels % 4 lanes; matches activate() in ops.h.
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

}  // namespace neon
}  // namespace facebits

#endif  // __aarch64__

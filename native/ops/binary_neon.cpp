// NEON inner kernel of BINARY (AArch64 Advanced SIMD).
//
// Contract: as binaryScalar in binary.cpp: out[i] = a[i * strideA] (kind) b[i * strideB],
// strides 0 or 1, any alignment, out may alias a or b when their stride is 1. Four lanes
// at a time, then a scalar loop for the last count % 4. Each lane rounds once, as the
// scalar kernel does, so results match it exactly for non-NaN inputs.

#if defined(__aarch64__)

#include <arm_neon.h>

#include "../kernels.h"

namespace facebits {

void binaryNeon(int32_t kind, const float* a, int64_t strideA, const float* b, int64_t strideB, float* out,
                int64_t count);

namespace {

inline float32x4_t apply4(int32_t kind, float32x4_t x, float32x4_t y) {
  switch (kind) {
    case 0: return vaddq_f32(x, y);
    case 1: return vsubq_f32(x, y);
    case 2: return vmulq_f32(x, y);
    case 3: return vdivq_f32(x, y);
    case 4: return vmaxq_f32(x, y);
    default: return vminq_f32(x, y);
  }
}

inline float apply1(int32_t kind, float x, float y) {
  switch (kind) {
    case 0: return x + y;
    case 1: return x - y;
    case 2: return x * y;
    case 3: return x / y;
    case 4: return x < y ? y : x;
    default: return y < x ? y : x;
  }
}

// Loads four floats, or broadcasts one when the operand is repeated (stride 0).
inline float32x4_t load4(const float* p, int64_t stride) { return stride ? vld1q_f32(p) : vld1q_dup_f32(p); }

}  // namespace

void binaryNeon(int32_t kind, const float* a, int64_t strideA, const float* b, int64_t strideB, float* out,
                int64_t count) {
  int64_t i = 0;
  for (; i + 4 <= count; i += 4) {
    vst1q_f32(out + i, apply4(kind, load4(a + i * strideA, strideA), load4(b + i * strideB, strideB)));
  }
  for (; i < count; ++i) out[i] = apply1(kind, a[i * strideA], b[i * strideB]);
}

}  // namespace facebits

#endif  // __aarch64__

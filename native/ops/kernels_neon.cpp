// The NEON kernel set (AArch64 Advanced SIMD). Advanced SIMD is part of the AArch64
// baseline, so every arm64 build has this set and no run-time feature check is needed.
// On other architectures the NEON sources compile to nothing and neonKernels() returns
// nullptr.
// NOTE: these kernels have run only under qemu-user, never on arm64 hardware. Their tile
// sizes were chosen from instruction counts and compiler output (bench/arm64/), so their
// speed on real cores is unmeasured.

#include "../kernels.h"

namespace facebits {

#if defined(__aarch64__)

void gemmNeon(int64_t rows, const float* a, int64_t lda, const PackedMatrix& b, const ActParams& act, float* c,
              int64_t ldc);
void directConvNeon(const ConvGeometry& g, const float* input, const float* weights, const float* bias,
                    const ActParams& act, const PackedMatrix* post, const ActParams& postAct, float* output);
void depthwiseNeon(const ConvGeometry& g, const float* input, const float* weights, const float* bias,
                   const ActParams& act, float* output);
void poolNeon(const PoolGeometry& g, const float* input, float* output);
void binaryNeon(int32_t kind, const float* a, int64_t strideA, const float* b, int64_t strideB, float* out,
                int64_t count);
void activationNeon(float* data, int64_t rows, int64_t channels, const ActParams& act);
void channelAffineNeon(const float* x, const float* scale, const float* shift, float* y, int64_t rows,
                       int64_t channels);

const KernelTable* neonKernels() {
  static const KernelTable table = [] {
    KernelTable t = {"neon", false, gemmNeon, depthwiseNeon, poolNeon, binaryNeon, activationNeon, channelAffineNeon};
    t.directConv = directConvNeon;
    return t;
  }();
  return &table;
}

#else

const KernelTable* neonKernels() { return nullptr; }

#endif

}  // namespace facebits

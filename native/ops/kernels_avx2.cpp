// The AVX2 + FMA kernel set (compiled with -mavx2 -mfma). cpu.cpp hands it out only
// after CPUID and XGETBV report AVX2, FMA and OS support for YMM state.

#include "../kernels.h"

namespace facebits {

void gemmAvx2(int64_t rows, const float* a, int64_t lda, const PackedMatrix& b, const ActParams& act, float* c,
              int64_t ldc);
void depthwiseAvx2(const ConvGeometry& g, const float* input, const float* weights, const float* bias,
                   const ActParams& act, float* output);
void poolAvx2(const PoolGeometry& g, const float* input, float* output);
void binaryAvx2(int32_t kind, const float* a, int64_t strideA, const float* b, int64_t strideB, float* out,
                int64_t count);
void activationAvx2(float* data, int64_t rows, int64_t channels, const ActParams& act);
void channelAffineAvx2(const float* x, const float* scale, const float* shift, float* y, int64_t rows,
                       int64_t channels);

const KernelTable* avx2Kernels() {
  static const KernelTable table = {
      "avx2", false, gemmAvx2, depthwiseAvx2, poolAvx2, binaryAvx2, activationAvx2, channelAffineAvx2,
  };
  return &table;
}

}  // namespace facebits

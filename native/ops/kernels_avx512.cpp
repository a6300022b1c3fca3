// The AVX-512 kernel set: the AVX-512 GEMM (1x1 convolutions, im2col convolutions and
// fully connected layers) with the AVX2 kernels for everything else. cpu.cpp hands it
// out only after CPUID and XGETBV report AVX-512 F/BW/VL, AVX2, FMA and OS support for
// ZMM state.

#include "../kernels.h"

namespace facebits {

void gemmAvx512(int64_t rows, const float* a, int64_t lda, const PackedMatrix& b, const ActParams& act, float* c,
                int64_t ldc);

const KernelTable* avx512Kernels() {
  static const KernelTable table = [] {
    KernelTable t = *avx2Kernels();
    t.name = "avx512";
    t.gemm = gemmAvx512;
    return t;
  }();
  return &table;
}

}  // namespace facebits

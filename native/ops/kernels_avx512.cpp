// The AVX-512 kernel set: the AVX-512 GEMM (1x1 convolutions, im2col convolutions and
// fully connected layers), depthwise and direct convolution and pooling, with the AVX2
// kernels for everything else. cpu.cpp hands it out only after CPUID and XGETBV report AVX-512
// F/BW/VL, AVX2, FMA and OS support for ZMM state. Its bfloat16 GEMM runs only for models
// loaded with bf16 precision, on AMX tiles or VDPBF16PS as cpu.cpp chose.

#include "../kernels.h"

namespace facebits {

void gemmAvx512(int64_t rows, const float* a, int64_t lda, const PackedMatrix& b, const ActParams& act, float* c,
                int64_t ldc);
void directConvAvx512(const ConvGeometry& g, const float* input, const float* weights, const float* bias,
                      const ActParams& act, const PackedMatrix* post, const ActParams& postAct, float* output);
void poolAvx512(const PoolGeometry& g, const float* input, float* output);
void depthwiseAvx512(const ConvGeometry& g, const float* input, const float* weights, const float* bias,
                     const ActParams& act, float* output);

const KernelTable* avx512Kernels() {
  static const KernelTable table = [] {
    KernelTable t = *avx2Kernels();
    t.name = "avx512";
    t.gemm = gemmAvx512;
    t.depthwise = depthwiseAvx512;
    t.directConv = directConvAvx512;
    t.pool = poolAvx512;
    t.gemmBf16 = gemmBf16;
    return t;
  }();
  return &table;
}

}  // namespace facebits

// The WebAssembly SIMD128 kernel set, built only by the emscripten build in wasm/
// (compiled with -msimd128). The GEMM, depthwise and element-wise kernels are in
// native/ops/*_simd128.cpp; pooling uses the scalar kernel, which clang vectorizes at -O3.
//
// SIMD128 has no fused multiply-add, so sums round after each product and results differ
// from the AVX2/AVX-512 sets by float rounding only.

#if defined(__wasm_simd128__)

#include "kernels.h"
#include "ops/ops.h"

namespace facebits {

void gemmSimd128(int64_t rows, const float* a, int64_t lda, const PackedMatrix& b, const ActParams& act, float* c,
                 int64_t ldc);
void depthwiseSimd128(const ConvGeometry& g, const float* input, const float* weights, const float* bias,
                      const ActParams& act, float* output);
void binarySimd128(int32_t kind, const float* a, int64_t strideA, const float* b, int64_t strideB, float* out,
                   int64_t count);
void activationSimd128(float* data, int64_t rows, int64_t channels, const ActParams& act);
void channelAffineSimd128(const float* x, const float* scale, const float* shift, float* y, int64_t rows,
                          int64_t channels);

const KernelTable* wasmSimd128Kernels();

const KernelTable* wasmSimd128Kernels() {
  static const KernelTable table = {
      "simd128", false, gemmSimd128, depthwiseSimd128, poolScalar, binarySimd128, activationSimd128,
      channelAffineSimd128,
  };
  return &table;
}

}  // namespace facebits

#endif  // __wasm_simd128__

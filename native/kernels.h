// Kernel interfaces shared by the executor and the per-ISA kernel libraries.
//
// This header is included by translation units compiled with -mavx2 or -mavx512f, so
// it holds only plain structs and declarations. An inline function or template defined
// here would be emitted once per ISA and the linker could keep the AVX copy for
// baseline callers.
#pragma once

#include <cstdint>

namespace facebits {

// Activation applied after bias. kind uses the Activation codes of plan.h.
// slopes has one value per output channel (already expanded) when kind is PRELU.
struct ActParams {
  int32_t kind = 0;
  float a = 0.0f;
  float b = 0.0f;
  const float* slopes = nullptr;
};

// Pre-packed right-hand side of C = A x B, B being K x N.
// Panel p contains columns [16p, 16p + 16) as K rows of 16 floats, zero-padded past N.
// bias and slopes (PReLU, per column) have panelCount * 16 floats, zero-padded. Panel
// data is 64-byte aligned. GEMM kernels take PReLU slopes from here, not from ActParams.
constexpr int64_t kPanelWidth = 16;
//
// tiles, when not null, contains the same B in bfloat16 for the AMX kernel (packTilesBf16 in
// gemm.cpp). It is a run of 1 KiB tiles of 32 rows of K by 16 columns, with K zero-padded to
// tileDepth (a multiple of 32) and N to a multiple of 32. Only models loaded with bf16
// precision have it.
constexpr int64_t kTileDepth = 32;
struct PackedMatrix {
  const float* panels = nullptr;
  const float* bias = nullptr;
  const float* slopes = nullptr;
  int64_t k = 0;
  int64_t n = 0;
  int64_t panelCount = 0;
  const uint16_t* tiles = nullptr;
  int64_t tileDepth = 0;
};

// C[m * ldc + n] = act(sum_k A[m * lda + k] * B[k][n] + bias[n]) for m < rows, n < B.n.
// SIGMOID is applied by the caller after the GEMM; kernels treat it as NONE.
using GemmFn = void (*)(int64_t rows, const float* a, int64_t lda, const PackedMatrix& b, const ActParams& act, float* c,
                        int64_t ldc);

// Convolution geometry, NHWC input [n, h, w, c] and output [n, oh, ow, oc].
struct ConvGeometry {
  int64_t n, h, w, c;
  int64_t oh, ow, oc;
  int64_t kh, kw, sh, sw, dh, dw, padTop, padLeft;
  int64_t groups;
};

// Depthwise convolution (groups == c == oc). weights are [kh][kw][c], bias has c floats.
using DepthwiseFn = void (*)(const ConvGeometry& g, const float* input, const float* weights, const float* bias,
                             const ActParams& act, float* output);

// Direct convolution for inputs with few channels, such as an RGB first layer, where
// im2col rows are too short for the GEMM to run well. groups must be 1. weights are
// [kh][kw][c][oc rounded up to 16], zero-padded. bias and PReLU slopes have oc floats.
// When post is not null, a 1x1 convolution follows in the same pass: each output pixel
// is post->n floats, postAct(post^T * act(conv) + post->bias), with post->k == oc <= 16
// and post->n <= 16. postAct must not be SIGMOID.
using DirectConvFn = void (*)(const ConvGeometry& g, const float* input, const float* weights, const float* bias,
                              const ActParams& act, const PackedMatrix* post, const ActParams& postAct,
                              float* output);

struct PoolGeometry {
  int64_t n, h, w, c, oh, ow;
  int64_t kh, kw, sh, sw, padTop, padLeft;
  int32_t kind;  // PoolKind
  bool global;
  bool countIncludePad;
};
using PoolFn = void (*)(const PoolGeometry& g, const float* input, float* output);

// out[i] = a[i * strideA] (kind) b[i * strideB] for i < count, strides 0 or 1.
using BinaryFn = void (*)(int32_t kind, const float* a, int64_t strideA, const float* b, int64_t strideB, float* out,
                          int64_t count);

// Applies act in place to rows x channels floats; slopes are indexed by channel.
using ActivationFn = void (*)(float* data, int64_t rows, int64_t channels, const ActParams& act);

// y[r][c] = x[r][c] * scale[c] + shift[c].
using ChannelAffineFn = void (*)(const float* x, const float* scale, const float* shift, float* y, int64_t rows,
                                 int64_t channels);

// One kernel set. The scalar set has reference = true: the executor then runs the
// direct reference convolution and fully connected loops instead of the packed GEMM.
struct KernelTable {
  const char* name;
  bool reference;
  GemmFn gemm;
  DepthwiseFn depthwise;
  PoolFn pool;
  BinaryFn binary;
  ActivationFn activation;
  ChannelAffineFn channelAffine;
  // Optional kernels. A table without one leaves it nullptr and the executor falls back
  // to the general path.
  DirectConvFn directConv = nullptr;  // else im2col and the GEMM
  // GEMM over PackedMatrix::tiles in bfloat16 with float32 accumulation, for matrices that
  // have tiles. Tiles exist only where bf16Ready() (native/cpu.h) holds.
  GemmFn gemmBf16 = nullptr;
};

const KernelTable* scalarKernels();
// Each returns nullptr when the addon was built without that ISA's sources.
const KernelTable* avx2Kernels();
const KernelTable* avx512Kernels();
const KernelTable* neonKernels();
// The bfloat16 GEMMs, each nullptr when the addon was built without it: AMX-BF16 tiles
// (gemm_amx.cpp) and AVX512_BF16 VDPBF16PS (gemm_avx512_bf16.cpp).
GemmFn amxBf16Gemm();
GemmFn avx512Bf16Gemm();
// Runs the bfloat16 GEMM that cpu.cpp chose (see setBf16Gemm in native/cpu.h).
void gemmBf16(int64_t rows, const float* a, int64_t lda, const PackedMatrix& b, const ActParams& act, float* c,
              int64_t ldc);

}  // namespace facebits

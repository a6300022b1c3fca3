// Baseline (no ISA flags) operator entry points: scalar reference kernels, the
// data-movement ops and the drivers that call into a KernelTable.
// All tensors are dense float32, row-major, with the shapes given in each file's header.
#pragma once

#include <cmath>
#include <cstdint>
#include <vector>

#include "../kernels.h"
#include "../plan.h"

namespace facebits {

// Rounds value up to a multiple of step (step > 0).
inline int64_t roundUp(int64_t value, int64_t step) { return (value + step - 1) / step * step; }

// Scalar activation of one value in output channel `channel`.
inline float activate(float x, const ActParams& act, int64_t channel) {
  switch (static_cast<Activation>(act.kind)) {
    case Activation::NONE: return x;
    case Activation::RELU: return x > 0.0f ? x : 0.0f;
    case Activation::CLIP: return x < act.a ? act.a : (x > act.b ? act.b : x);
    case Activation::PRELU: return x >= 0.0f ? x : x * act.slopes[channel];
    case Activation::LEAKY_RELU: return x >= 0.0f ? x : x * act.a;
    case Activation::SIGMOID: return 1.0f / (1.0f + std::exp(-x));
  }
  return x;
}

// The larger of best and x, or NaN when either is NaN, as max pooling takes it.
inline float maxKeepingNan(float best, float x) { return x > best || x != x ? x : best; }

// gemm.cpp
// Packs B[k][n] = w[n * ldw + k] (n < columns, k < depth) into panels, see PackedMatrix.
// panels must hold panelCount(columns) * depth * 16 floats.
int64_t panelCount(int64_t columns);
void packPanels(const float* w, int64_t columns, int64_t depth, int64_t ldw, float* panels);
void gemmScalar(int64_t rows, const float* a, int64_t lda, const PackedMatrix& b, const ActParams& act, float* c,
                int64_t ldc);
// The GEMM for b: the table's bfloat16 GEMM when b has tiles and the table has one.
inline GemmFn gemmFor(const KernelTable& k, const PackedMatrix& b) { return b.tiles && k.gemmBf16 ? k.gemmBf16 : k.gemm; }
// The name of the GEMM that gemmFor picks, as the profiler prints it.
inline const char* gemmName(const KernelTable& k, const PackedMatrix& b) { return b.tiles && k.gemmBf16 ? "gemm bf16" : "gemm"; }
// Rounds a float to bfloat16, to nearest even (NaN stays NaN).
uint16_t toBf16(float x);
// Whether a GEMM of this shape runs in bfloat16 when the model allows it: the depth fills at
// least one AMX tile row and B is wider than the narrow dot-product case.
bool bf16Applies(int64_t columns, int64_t depth);
// uint16 values packTilesBf16 writes for a columns x depth B.
int64_t tilesBf16Size(int64_t columns, int64_t depth);
// Packs B[k][n] = w[n * ldw + k] into bfloat16 tiles, see PackedMatrix::tiles.
void packTilesBf16(const float* w, int64_t columns, int64_t depth, int64_t ldw, uint16_t* tiles);

// conv2d.cpp
void conv2dReference(const ConvGeometry& g, const float* input, const float* weights, const float* bias,
                     const ActParams& act, float* output);
void depthwiseScalar(const ConvGeometry& g, const float* input, const float* weights, const float* bias,
                     const ActParams& act, float* output);
// Whether g is a 1x1 conv with stride 1 and no padding: a GEMM straight over the input pixels.
bool isPointwise(const ConvGeometry& g);
// Fast path: im2col into `scratch` (conv2dScratchFloats floats) and the table's GEMM.
// packed has one PackedMatrix per group.
int64_t conv2dScratchFloats(const ConvGeometry& g);
void conv2dPacked(const KernelTable& k, const ConvGeometry& g, const float* input, const PackedMatrix* packed,
                  const ActParams& act, float* scratch, float* output);

// Direct convolution (KernelTable::directConv) applies to one group with at most
// kDirectConvMaxChannels input and kDirectConvMaxOutChannels output channels.
constexpr int64_t kDirectConvMaxChannels = 4;
constexpr int64_t kDirectConvMaxOutChannels = 64;
bool directConvApplies(const ConvGeometry& g);
// Repacks OHWI weights to the [kh][kw][c][oc rounded up to 16] layout of DirectConvFn.
std::vector<float> packDirectWeights(const ConvGeometry& g, const float* weights);

// fully_connected.cpp
void fullyConnectedReference(int64_t rows, int64_t depth, int64_t outFeatures, const float* input, const float* weights,
                             const float* bias, const ActParams& act, float* output);

// pool2d.cpp
void poolScalar(const PoolGeometry& g, const float* input, float* output);

// binary.cpp
void binaryScalar(int32_t kind, const float* a, int64_t strideA, const float* b, int64_t strideB, float* out,
                  int64_t count);
// NumPy-broadcast a (kind) b into out, shapes right-aligned to the output shape, then
// act on each chunk while it is in cache. act must not be PRELU (no channel index).
void binaryBroadcast(const KernelTable& k, int32_t kind, const float* a, const Shape& shapeA, const float* b,
                     const Shape& shapeB, float* out, const Shape& shapeOut, const ActParams& act);

// unary.cpp
void activationScalar(float* data, int64_t rows, int64_t channels, const ActParams& act);
void unary(const KernelTable& k, int32_t kind, float a, float b, const float* slopes, int64_t slopeCount,
           const float* input, float* output, const Shape& shape);

// channel_affine.cpp
void channelAffineScalar(const float* x, const float* scale, const float* shift, float* y, int64_t rows, int64_t channels);

// pad.cpp: NHWC [n, h, w, c] to [n, h + top + bottom, w + left + right, c + before + after].
struct PadParams {
  int64_t top, bottom, left, right, before, after;
  int32_t mode;
  float value;
};
void pad(const Shape& in, const PadParams& p, const float* input, float* output);

// transpose.cpp
void transpose(const Shape& in, const int32_t* perm, const float* input, float* output);

// concat.cpp
void concat(const Shape* shapes, const float* const* inputs, int64_t count, int32_t axis, float* output);

// slice.cpp
void slice(const Shape& in, const int64_t* start, const Shape& out, const float* input, float* output);

// softmax.cpp
void softmax(const Shape& shape, int32_t axis, const float* input, float* output);

// l2_normalize.cpp
void l2Normalize(int64_t rows, int64_t length, float eps, const float* input, float* output);

// resize.cpp: NHWC resize with the ResizeMode and ResizeCoordinates codes of plan.h.
void resize(const Shape& in, int64_t outH, int64_t outW, int32_t mode, int32_t coordinates, const float* input,
            float* output);

}  // namespace facebits

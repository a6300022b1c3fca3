// UNARY and the scalar activation kernel.
//
// Contract: input and output have the same shape, dense float32, any alignment, and may
// be the same buffer. PReLU slopes are indexed by the last dimension (already expanded to
// its length). RELU, CLIP, PRELU, LEAKY_RELU and SIGMOID go through the kernel table's
// activation kernel; EXP, TANH, ABS, SQRT and NEG use the scalar loops here.

#include <cstring>

#include "ops.h"

namespace facebits {

void activationScalar(float* data, int64_t rows, int64_t channels, const ActParams& act) {
  for (int64_t r = 0; r < rows; ++r) {
    float* row = data + r * channels;
    for (int64_t c = 0; c < channels; ++c) row[c] = activate(row[c], act, c);
  }
}

void unary(const KernelTable& k, int32_t kind, float a, float b, const float* slopes, int64_t slopeCount,
           const float* input, float* output, const Shape& shape) {
  (void)slopeCount;
  const int64_t size = shape.size();
  const int64_t channels = shape.dims[shape.rank - 1];
  switch (static_cast<UnaryKind>(kind)) {
    case UnaryKind::RELU:
    case UnaryKind::CLIP:
    case UnaryKind::PRELU:
    case UnaryKind::LEAKY_RELU:
    case UnaryKind::SIGMOID: {
      // UnaryKind and Activation share the codes 1 to 5.
      ActParams act;
      act.kind = kind;
      act.a = a;
      act.b = b;
      act.slopes = slopes;
      if (output != input) std::memcpy(output, input, sizeof(float) * size);
      k.activation(output, size / channels, channels, act);
      return;
    }
    case UnaryKind::EXP:
      for (int64_t i = 0; i < size; ++i) output[i] = std::exp(input[i]);
      return;
    case UnaryKind::TANH:
      for (int64_t i = 0; i < size; ++i) output[i] = std::tanh(input[i]);
      return;
    case UnaryKind::ABS:
      for (int64_t i = 0; i < size; ++i) output[i] = std::fabs(input[i]);
      return;
    case UnaryKind::SQRT:
      for (int64_t i = 0; i < size; ++i) output[i] = std::sqrt(input[i]);
      return;
    case UnaryKind::NEG:
      for (int64_t i = 0; i < size; ++i) output[i] = -input[i];
      return;
  }
}

}  // namespace facebits

// BINARY: element-wise a (kind) b with NumPy broadcasting up to rank 4.
//
// Contract of the inner kernel (BinaryFn): out[i] = a[i * strideA] (kind) b[i * strideB],
// strides 0 or 1, any alignment, out may alias a or b when their stride is 1.
// binaryBroadcast merges trailing dimensions that broadcast the same way, so same-shape
// operands and per-channel operands reach the inner kernel as long contiguous runs.

#include <algorithm>

#include "ops.h"

namespace facebits {

void binaryScalar(int32_t kind, const float* a, int64_t strideA, const float* b, int64_t strideB, float* out,
                  int64_t count) {
  for (int64_t i = 0; i < count; ++i) {
    const float x = a[i * strideA];
    const float y = b[i * strideB];
    float r = 0.0f;
    switch (static_cast<BinaryKind>(kind)) {
      case BinaryKind::ADD: r = x + y; break;
      case BinaryKind::SUB: r = x - y; break;
      case BinaryKind::MUL: r = x * y; break;
      case BinaryKind::DIV: r = x / y; break;
      case BinaryKind::MAX: r = std::max(x, y); break;
      case BinaryKind::MIN: r = std::min(x, y); break;
    }
    out[i] = r;
  }
}

namespace {

// Right-aligns a shape to rank 4 with leading ones.
void alignDims(const Shape& s, int64_t* dims) {
  for (int i = 0; i < kMaxRank; ++i) {
    const int source = i - (kMaxRank - s.rank);
    dims[i] = source >= 0 ? s.dims[source] : 1;
  }
}

}  // namespace

void binaryBroadcast(const KernelTable& k, int32_t kind, const float* a, const Shape& shapeA, const float* b,
                     const Shape& shapeB, float* out, const Shape& shapeOut, const ActParams& act) {
  int64_t da[kMaxRank], db[kMaxRank], dout[kMaxRank];
  alignDims(shapeA, da);
  alignDims(shapeB, db);
  alignDims(shapeOut, dout);

  // Merge trailing dimensions whose broadcast pattern (full or repeated) matches.
  int64_t inner = 1;
  int64_t innerA = -1;  // 1: a varies over the merged dims, 0: a is repeated, -1: undecided
  int64_t innerB = -1;
  int split = kMaxRank;
  for (int i = kMaxRank - 1; i >= 0; --i) {
    if (dout[i] == 1) {
      --split;
      continue;
    }
    const int64_t fa = da[i] == dout[i] ? 1 : 0;
    const int64_t fb = db[i] == dout[i] ? 1 : 0;
    if ((innerA != -1 && fa != innerA) || (innerB != -1 && fb != innerB)) break;
    innerA = fa;
    innerB = fb;
    inner *= dout[i];
    --split;
  }
  if (innerA == -1) innerA = 1;
  if (innerB == -1) innerB = 1;

  // Strides of a and b over the outer dimensions [0, split), 0 where broadcast.
  int64_t sa[kMaxRank], sb[kMaxRank];
  int64_t strideA = 1, strideB = 1;
  for (int i = kMaxRank - 1; i >= 0; --i) {
    sa[i] = da[i] == 1 ? 0 : strideA;
    sb[i] = db[i] == 1 ? 0 : strideB;
    strideA *= da[i];
    strideB *= db[i];
  }

  int64_t outer[kMaxRank] = {1, 1, 1, 1};
  for (int i = 0; i < split; ++i) outer[i] = dout[i];
  float* dst = out;
  for (int64_t i0 = 0; i0 < outer[0]; ++i0) {
    for (int64_t i1 = 0; i1 < outer[1]; ++i1) {
      for (int64_t i2 = 0; i2 < outer[2]; ++i2) {
        for (int64_t i3 = 0; i3 < outer[3]; ++i3) {
          const int64_t offsetA = i0 * sa[0] + i1 * sa[1] + i2 * sa[2] + i3 * sa[3];
          const int64_t offsetB = i0 * sb[0] + i1 * sb[1] + i2 * sb[2] + i3 * sb[3];
          k.binary(kind, a + offsetA, innerA, b + offsetB, innerB, dst, inner);
          if (act.kind != 0) k.activation(dst, 1, inner, act);
          dst += inner;
        }
      }
    }
  }
}

}  // namespace facebits

// TRANSPOSE: output dim i is input dim perm[i], rank 1 to 4, any alignment.

#include "ops.h"

namespace facebits {

void transpose(const Shape& in, const int32_t* perm, const float* input, float* output) {
  // Align to rank 4 with leading unit dims that map to themselves.
  const int lead = kMaxRank - in.rank;
  int64_t inDims[kMaxRank], inStrides[kMaxRank], outDims[kMaxRank], stride[kMaxRank];
  for (int i = 0; i < kMaxRank; ++i) inDims[i] = i < lead ? 1 : in.dims[i - lead];
  int64_t s = 1;
  for (int i = kMaxRank - 1; i >= 0; --i) {
    inStrides[i] = s;
    s *= inDims[i];
  }
  for (int i = 0; i < kMaxRank; ++i) {
    const int source = i < lead ? i : perm[i - lead] + lead;
    outDims[i] = inDims[source];
    stride[i] = inStrides[source];
  }
  float* out = output;
  for (int64_t i0 = 0; i0 < outDims[0]; ++i0)
    for (int64_t i1 = 0; i1 < outDims[1]; ++i1)
      for (int64_t i2 = 0; i2 < outDims[2]; ++i2) {
        const float* base = input + i0 * stride[0] + i1 * stride[1] + i2 * stride[2];
        for (int64_t i3 = 0; i3 < outDims[3]; ++i3) *out++ = base[i3 * stride[3]];
      }
}

}  // namespace facebits

// SLICE: output[i] = input[start + i] per axis, step 1, rank 1 to 4, any alignment.

#include <cstring>

#include "ops.h"

namespace facebits {

void slice(const Shape& in, const int64_t* start, const Shape& out, const float* input, float* output) {
  const int lead = kMaxRank - in.rank;
  int64_t inDims[kMaxRank], outDims[kMaxRank], begin[kMaxRank], strides[kMaxRank];
  for (int i = 0; i < kMaxRank; ++i) {
    inDims[i] = i < lead ? 1 : in.dims[i - lead];
    outDims[i] = i < lead ? 1 : out.dims[i - lead];
    begin[i] = i < lead ? 0 : start[i - lead];
  }
  int64_t s = 1;
  for (int i = kMaxRank - 1; i >= 0; --i) {
    strides[i] = s;
    s *= inDims[i];
  }
  float* dst = output;
  for (int64_t i0 = 0; i0 < outDims[0]; ++i0)
    for (int64_t i1 = 0; i1 < outDims[1]; ++i1)
      for (int64_t i2 = 0; i2 < outDims[2]; ++i2) {
        const float* src = input + (i0 + begin[0]) * strides[0] + (i1 + begin[1]) * strides[1] +
                           (i2 + begin[2]) * strides[2] + begin[3];
        std::memcpy(dst, src, sizeof(float) * outDims[3]);
        dst += outDims[3];
      }
}

}  // namespace facebits

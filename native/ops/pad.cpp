// PAD: NHWC spatial and channel padding.
//
// Contract: input [n, h, w, c], output [n, h + top + bottom, w + left + right,
// c + before + after], any alignment. CONSTANT fills with value, EDGE repeats the border
// cell, REFLECT mirrors without repeating the border (each pad is smaller than its dim).

#include <algorithm>
#include <cstring>

#include "ops.h"

namespace facebits {

namespace {

// Maps an output index to an input index, or -1 for a constant cell.
int64_t sourceIndex(int64_t i, int64_t before, int64_t size, int32_t mode) {
  int64_t s = i - before;
  if (s >= 0 && s < size) return s;
  switch (static_cast<PadMode>(mode)) {
    case PadMode::CONSTANT: return -1;
    case PadMode::EDGE: return s < 0 ? 0 : size - 1;
    case PadMode::REFLECT: return s < 0 ? -s : 2 * (size - 1) - s;
  }
  return -1;
}

}  // namespace

void pad(const Shape& in, const PadParams& p, const float* input, float* output) {
  const int64_t n = in.dims[0], h = in.dims[1], w = in.dims[2], c = in.dims[3];
  const int64_t oh = h + p.top + p.bottom, ow = w + p.left + p.right, oc = c + p.before + p.after;
  for (int64_t b = 0; b < n; ++b) {
    for (int64_t y = 0; y < oh; ++y) {
      const int64_t sy = sourceIndex(y, p.top, h, p.mode);
      for (int64_t x = 0; x < ow; ++x) {
        const int64_t sx = sourceIndex(x, p.left, w, p.mode);
        float* out = output + ((b * oh + y) * ow + x) * oc;
        if (sy < 0 || sx < 0) {
          std::fill(out, out + oc, p.value);
          continue;
        }
        const float* src = input + ((b * h + sy) * w + sx) * c;
        for (int64_t ch = 0; ch < p.before; ++ch) {
          const int64_t s = sourceIndex(ch, p.before, c, p.mode);
          out[ch] = s < 0 ? p.value : src[s];
        }
        std::memcpy(out + p.before, src, sizeof(float) * c);
        for (int64_t ch = p.before + c; ch < oc; ++ch) {
          const int64_t s = sourceIndex(ch, p.before, c, p.mode);
          out[ch] = s < 0 ? p.value : src[s];
        }
      }
    }
  }
}

}  // namespace facebits

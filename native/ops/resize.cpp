// RESIZE: NHWC nearest or bilinear resize, any alignment.
//
// A destination index d maps to the source coordinate
//   ASYMMETRIC          d * in / out
//   HALF_PIXEL          (d + 0.5) * in / out - 0.5
//   PYTORCH_HALF_PIXEL  as HALF_PIXEL, but 0 when out is 1
//   ALIGN_CORNERS       d * (in - 1) / (out - 1), 0 when out is 1
// Nearest takes floor(source) for ASYMMETRIC and floor(source + 0.5) (round half up) for
// the other modes. Bilinear clamps the source coordinate to [0, in - 1].

#include <algorithm>
#include <cstring>
#include <vector>

#include "ops.h"

namespace facebits {

namespace {

double sourceCoordinate(int64_t d, int64_t in, int64_t out, int32_t coordinates) {
  const double scale = static_cast<double>(in) / static_cast<double>(out);
  switch (static_cast<ResizeCoordinates>(coordinates)) {
    case ResizeCoordinates::ASYMMETRIC: return d * scale;
    case ResizeCoordinates::HALF_PIXEL: return (d + 0.5) * scale - 0.5;
    case ResizeCoordinates::PYTORCH_HALF_PIXEL: return out > 1 ? (d + 0.5) * scale - 0.5 : 0.0;
    case ResizeCoordinates::ALIGN_CORNERS:
      return out > 1 ? d * static_cast<double>(in - 1) / static_cast<double>(out - 1) : 0.0;
  }
  return 0.0;
}

struct Tap {
  int64_t low, high;
  float weight;  // weight of `high`
};

std::vector<Tap> taps(int64_t in, int64_t out, int32_t mode, int32_t coordinates) {
  std::vector<Tap> result(out);
  for (int64_t d = 0; d < out; ++d) {
    double s = sourceCoordinate(d, in, out, coordinates);
    if (mode == static_cast<int32_t>(ResizeMode::NEAREST)) {
      const bool asymmetric = coordinates == static_cast<int32_t>(ResizeCoordinates::ASYMMETRIC);
      int64_t i = static_cast<int64_t>(std::floor(asymmetric ? s : s + 0.5));
      i = std::min(std::max<int64_t>(i, 0), in - 1);
      result[d] = {i, i, 0.0f};
    } else {
      s = std::min(std::max(s, 0.0), static_cast<double>(in - 1));
      const int64_t low = static_cast<int64_t>(std::floor(s));
      const int64_t high = std::min(low + 1, in - 1);
      result[d] = {low, high, static_cast<float>(s - low)};
    }
  }
  return result;
}

// Nearest resize: each output pixel is a copy of one source pixel's channels, and an output
// row whose source row equals the previous one's (as in a 2x upsample) is a copy of that row.
void resizeNearest(const Shape& in, int64_t outH, int64_t outW, const std::vector<Tap>& ys,
                   const std::vector<Tap>& xs, const float* input, float* output) {
  const int64_t n = in.dims[0], h = in.dims[1], w = in.dims[2], c = in.dims[3];
  const int64_t rowFloats = outW * c;
  for (int64_t b = 0; b < n; ++b) {
    const float* image = input + b * h * w * c;
    float* out = output + b * outH * rowFloats;
    for (int64_t y = 0; y < outH; ++y) {
      float* dst = out + y * rowFloats;
      if (y > 0 && ys[y].low == ys[y - 1].low) {
        std::memcpy(dst, dst - rowFloats, sizeof(float) * rowFloats);
        continue;
      }
      const float* row = image + ys[y].low * w * c;
      for (int64_t x = 0; x < outW; ++x) std::memcpy(dst + x * c, row + xs[x].low * c, sizeof(float) * c);
    }
  }
}

}  // namespace

void resize(const Shape& in, int64_t outH, int64_t outW, int32_t mode, int32_t coordinates, const float* input,
            float* output) {
  const int64_t n = in.dims[0], h = in.dims[1], w = in.dims[2], c = in.dims[3];
  const std::vector<Tap> ys = taps(h, outH, mode, coordinates);
  const std::vector<Tap> xs = taps(w, outW, mode, coordinates);
  if (mode == static_cast<int32_t>(ResizeMode::NEAREST)) {
    resizeNearest(in, outH, outW, ys, xs, input, output);
    return;
  }
  float* out = output;
  for (int64_t b = 0; b < n; ++b) {
    const float* image = input + b * h * w * c;
    for (int64_t y = 0; y < outH; ++y) {
      const Tap ty = ys[y];
      const float* row0 = image + ty.low * w * c;
      const float* row1 = image + ty.high * w * c;
      for (int64_t x = 0; x < outW; ++x) {
        const Tap tx = xs[x];
        const float* p00 = row0 + tx.low * c;
        const float* p01 = row0 + tx.high * c;
        const float* p10 = row1 + tx.low * c;
        const float* p11 = row1 + tx.high * c;
        for (int64_t ch = 0; ch < c; ++ch) {
          const float top = p00[ch] + (p01[ch] - p00[ch]) * tx.weight;
          const float bottom = p10[ch] + (p11[ch] - p10[ch]) * tx.weight;
          *out++ = top + (bottom - top) * ty.weight;
        }
      }
    }
  }
}

}  // namespace facebits

// Image preprocessing kernels (scalar; they run once per face, not per layer).
// Contract: src is height x width x channels uint8, dense; dst is dstHeight x dstWidth x
// channels float32, dense. Sizes are validated by the binding (addon.cpp).

#include "image.h"

#include <algorithm>
#include <cmath>
#include <vector>

namespace facebits {

namespace {

struct Tap {
  int64_t low, high;
  float weight;  // weight of `high`
};

std::vector<Tap> halfPixelTaps(int64_t in, int64_t out) {
  std::vector<Tap> taps(out);
  const double scale = static_cast<double>(in) / static_cast<double>(out);
  for (int64_t d = 0; d < out; ++d) {
    double s = (d + 0.5) * scale - 0.5;
    s = std::min(std::max(s, 0.0), static_cast<double>(in - 1));
    const int64_t low = static_cast<int64_t>(s);
    taps[d] = {low, std::min(low + 1, in - 1), static_cast<float>(s - low)};
  }
  return taps;
}

// Output channel order: the source channel for destination channel c.
void channelOrder(int64_t channels, bool swapRB, int64_t* order) {
  for (int64_t c = 0; c < channels; ++c) order[c] = c;
  if (swapRB && channels >= 3) {
    order[0] = 2;
    order[2] = 0;
  }
}

}  // namespace

void resizeBilinearU8(const uint8_t* src, int64_t width, int64_t height, int64_t channels, int64_t dstWidth,
                      int64_t dstHeight, bool swapRB, float* dst) {
  const std::vector<Tap> xs = halfPixelTaps(width, dstWidth);
  const std::vector<Tap> ys = halfPixelTaps(height, dstHeight);
  int64_t order[4];
  channelOrder(channels, swapRB, order);
  for (int64_t y = 0; y < dstHeight; ++y) {
    const uint8_t* row0 = src + ys[y].low * width * channels;
    const uint8_t* row1 = src + ys[y].high * width * channels;
    const float fy = ys[y].weight;
    for (int64_t x = 0; x < dstWidth; ++x) {
      const Tap tx = xs[x];
      float* out = dst + (y * dstWidth + x) * channels;
      for (int64_t c = 0; c < channels; ++c) {
        const int64_t s = order[c];
        const float p00 = row0[tx.low * channels + s], p01 = row0[tx.high * channels + s];
        const float p10 = row1[tx.low * channels + s], p11 = row1[tx.high * channels + s];
        const float top = p00 + (p01 - p00) * tx.weight;
        const float bottom = p10 + (p11 - p10) * tx.weight;
        out[c] = top + (bottom - top) * fy;
      }
    }
  }
}

void warpAffineU8(const uint8_t* src, int64_t width, int64_t height, int64_t channels, const double* matrix,
                  int64_t dstWidth, int64_t dstHeight, float border, bool swapRB, float* dst) {
  int64_t order[4];
  channelOrder(channels, swapRB, order);
  for (int64_t y = 0; y < dstHeight; ++y) {
    for (int64_t x = 0; x < dstWidth; ++x) {
      const double sx = matrix[0] * x + matrix[1] * y + matrix[2];
      const double sy = matrix[3] * x + matrix[4] * y + matrix[5];
      float* out = dst + (y * dstWidth + x) * channels;
      // Outside (-1, size) no neighbour is inside; this also catches NaN and infinity.
      if (!(sx > -1.0 && sx < static_cast<double>(width) && sy > -1.0 && sy < static_cast<double>(height))) {
        for (int64_t c = 0; c < channels; ++c) out[c] = border;
        continue;
      }
      const int64_t x0 = static_cast<int64_t>(std::floor(sx));
      const int64_t y0 = static_cast<int64_t>(std::floor(sy));
      const float fx = static_cast<float>(sx - x0);
      const float fy = static_cast<float>(sy - y0);
      const bool in00 = x0 >= 0 && y0 >= 0;
      const bool in01 = x0 + 1 < width && y0 >= 0;
      const bool in10 = x0 >= 0 && y0 + 1 < height;
      const bool in11 = x0 + 1 < width && y0 + 1 < height;
      const uint8_t* p00 = src + (y0 * width + x0) * channels;
      for (int64_t c = 0; c < channels; ++c) {
        const int64_t s = order[c];
        const float v00 = in00 ? p00[s] : border;
        const float v01 = in01 ? p00[channels + s] : border;
        const float v10 = in10 ? p00[width * channels + s] : border;
        const float v11 = in11 ? p00[width * channels + channels + s] : border;
        const float top = v00 + (v01 - v00) * fx;
        const float bottom = v10 + (v11 - v10) * fx;
        out[c] = top + (bottom - top) * fy;
      }
    }
  }
}

}  // namespace facebits

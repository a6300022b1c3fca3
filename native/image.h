// Image preprocessing: HWC uint8 pixels in, HWC float32 (0..255) out.
#pragma once

#include <cstdint>

namespace facebits {

constexpr int64_t kMaxImageSide = 16384;

// Bilinear resize with half-pixel centres: destination pixel x samples source
// x' = (x + 0.5) * width / dstWidth - 0.5, clamped to [0, width - 1].
// swapRB exchanges channels 0 and 2 of the output (3 or 4 channels only).
void resizeBilinearU8(const uint8_t* src, int64_t width, int64_t height, int64_t channels, int64_t dstWidth,
                      int64_t dstHeight, bool swapRB, float* dst);

// Affine warp: destination pixel (x, y) samples source (m[0] x + m[1] y + m[2],
// m[3] x + m[4] y + m[5]), integer coordinates at pixel centres, bilinear. Each of the
// four neighbours outside the source reads as `border`.
void warpAffineU8(const uint8_t* src, int64_t width, int64_t height, int64_t channels, const double* matrix,
                  int64_t dstWidth, int64_t dstHeight, float border, bool swapRB, float* dst);

}  // namespace facebits

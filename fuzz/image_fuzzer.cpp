// Fuzz target: image buffers and dimensions through resizeBilinearU8 and warpAffineU8,
// with extreme and non-finite transforms. Arguments satisfy what the binding checks
// (channels 1, 3 or 4; a buffer of exactly width x height x channels bytes), and every
// output value must lie between the smallest and largest of the pixels and the border.
#include <fuzzer/FuzzedDataProvider.h>

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <vector>

#include "../native/image.h"

namespace {

double pickCoefficient(FuzzedDataProvider& in) {
  static const double special[] = {0.0,
                                   -0.0,
                                   1.0,
                                   -1.0,
                                   0.5,
                                   1e-300,
                                   1e300,
                                   -1e300,
                                   DBL_MAX,
                                   -DBL_MAX,
                                   DBL_MIN,
                                   std::numeric_limits<double>::infinity(),
                                   -std::numeric_limits<double>::infinity(),
                                   std::numeric_limits<double>::quiet_NaN(),
                                   9.2233720368547758e18,
                                   -9.2233720368547758e18,
                                   0.9999999999999999,
                                   -0.9999999999999999};
  switch (in.ConsumeIntegralInRange<int>(0, 3)) {
    case 0: return special[in.ConsumeIntegralInRange<size_t>(0, sizeof special / sizeof special[0] - 1)];
    case 1: return in.ConsumeFloatingPoint<double>();
    default: return in.ConsumeFloatingPointInRange<double>(-70.0, 70.0);
  }
}

void checkRange(const std::vector<float>& out, float low, float high, const char* what) {
  for (float v : out) {
    if (!(v >= low - 1e-3f && v <= high + 1e-3f)) {
      std::fprintf(stderr, "%s wrote %g outside [%g, %g]\n", what, v, low, high);
      std::abort();
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider in(data, size);
  const int64_t width = in.ConsumeIntegralInRange<int64_t>(1, 48);
  const int64_t height = in.ConsumeIntegralInRange<int64_t>(1, 48);
  static const int64_t channelChoices[] = {1, 3, 4};
  const int64_t channels = channelChoices[in.ConsumeIntegralInRange<int>(0, 2)];
  const int64_t dstWidth = in.ConsumeIntegralInRange<int64_t>(1, 64);
  const int64_t dstHeight = in.ConsumeIntegralInRange<int64_t>(1, 64);
  const bool swapRB = in.ConsumeBool();
  double matrix[6];
  for (double& m : matrix) m = pickCoefficient(in);
  const float border = in.ConsumeFloatingPointInRange<float>(-1000.0f, 1000.0f);

  // The pixel buffer gets exactly the size the binding requires, in its own allocation, so
  // ASan sees any read past either end.
  std::vector<uint8_t> bytes = in.ConsumeRemainingBytes<uint8_t>();
  const size_t pixels = static_cast<size_t>(width * height * channels);
  uint8_t* src = static_cast<uint8_t*>(std::malloc(pixels));
  uint8_t lowest = 255, highest = 0;
  for (size_t i = 0; i < pixels; ++i) {
    src[i] = bytes.empty() ? static_cast<uint8_t>(i * 37) : bytes[i % bytes.size()];
    if (src[i] < lowest) lowest = src[i];
    if (src[i] > highest) highest = src[i];
  }

  std::vector<float> out(static_cast<size_t>(dstWidth * dstHeight * channels));
  facebits::resizeBilinearU8(src, width, height, channels, dstWidth, dstHeight, swapRB, out.data());
  checkRange(out, lowest, highest, "resizeBilinearU8");

  facebits::warpAffineU8(src, width, height, channels, matrix, dstWidth, dstHeight, border, swapRB, out.data());
  checkRange(out, std::min<float>(lowest, border), std::max<float>(highest, border), "warpAffineU8");

  // The largest side the binding accepts, from a source of any size into one row.
  std::vector<float> row(static_cast<size_t>(facebits::kMaxImageSide * channels));
  facebits::resizeBilinearU8(src, width, height, channels, facebits::kMaxImageSide, 1, swapRB, row.data());
  checkRange(row, lowest, highest, "resizeBilinearU8 (widest row)");
  std::free(src);
  return 0;
}

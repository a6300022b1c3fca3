// Calls one kernel on one representative layer, for bench/arm64/instructions.ts, which counts
// the AArch64 instructions each call executes under qemu-aarch64-static.
//
// Usage: kernel-calls <case> <neon|scalar> <calls>
// The scalar set runs what the executor runs for it: conv2dReference for convolutions (the
// scalar table is the reference table) and the serial popcount for Hamming distances.

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "../../native/binary.h"
#include "../../native/cpu.h"
#include "../../native/ops/ops.h"

using namespace facebits;

namespace {

ConvGeometry geometry(int64_t h, int64_t w, int64_t c, int64_t oc, int64_t k, int64_t stride, int64_t pad,
                      int64_t groups) {
  ConvGeometry g{};
  g.n = 1;
  g.h = h;
  g.w = w;
  g.c = c;
  g.oc = oc;
  g.kh = g.kw = k;
  g.sh = g.sw = stride;
  g.dh = g.dw = 1;
  g.padTop = g.padLeft = pad;
  g.groups = groups;
  g.oh = (h + 2 * pad - k) / stride + 1;
  g.ow = (w + 2 * pad - k) / stride + 1;
  return g;
}

std::vector<float> ramp(size_t count, float scale) {
  std::vector<float> out(count);
  for (size_t i = 0; i < count; ++i) out[i] = scale * static_cast<float>(static_cast<int>(i % 17) - 8);
  return out;
}

// Runs a dense convolution `calls` times, through the packed GEMM (or the direct kernel) for
// the NEON set and through conv2dReference for the scalar set.
float convolution(const ConvGeometry& g, bool neon, int calls) {
  const int64_t depth = g.kh * g.kw * g.c;
  const std::vector<float> input = ramp(static_cast<size_t>(g.h * g.w * g.c), 0.01f);
  const std::vector<float> weights = ramp(static_cast<size_t>(g.oc * depth), 0.02f);
  const std::vector<float> bias = ramp(static_cast<size_t>(g.oc), 0.1f);
  std::vector<float> output(static_cast<size_t>(g.oh * g.ow * g.oc));
  ActParams act;
  act.kind = 1;  // RELU
  if (!neon) {
    for (int i = 0; i < calls; ++i) conv2dReference(g, input.data(), weights.data(), bias.data(), act, output.data());
    return output[output.size() / 2];
  }
  const KernelTable& k = *neonKernels();
  if (k.directConv && directConvApplies(g)) {
    const std::vector<float> packed = packDirectWeights(g, weights.data());
    for (int i = 0; i < calls; ++i) k.directConv(g, input.data(), packed.data(), bias.data(), act, nullptr, ActParams(), output.data());
    return output[output.size() / 2];
  }
  const int64_t panels = panelCount(g.oc);
  std::vector<float> storage(static_cast<size_t>(panels * depth * kPanelWidth + 16));
  float* aligned = storage.data();
  while (reinterpret_cast<uintptr_t>(aligned) % 64 != 0) ++aligned;
  packPanels(weights.data(), g.oc, depth, depth, aligned);
  std::vector<float> paddedBias(static_cast<size_t>(panels * kPanelWidth), 0.0f);
  std::vector<float> slopes(paddedBias.size(), 0.0f);
  std::memcpy(paddedBias.data(), bias.data(), sizeof(float) * bias.size());
  const PackedMatrix matrix{aligned, paddedBias.data(), slopes.data(), depth, g.oc, panels};
  std::vector<float> scratch(static_cast<size_t>(conv2dScratchFloats(g)) + 1);
  for (int i = 0; i < calls; ++i) conv2dPacked(k, g, input.data(), &matrix, act, scratch.data(), output.data());
  return output[output.size() / 2];
}

float depthwise(const ConvGeometry& g, bool neon, int calls) {
  const std::vector<float> input = ramp(static_cast<size_t>(g.h * g.w * g.c), 0.01f);
  const std::vector<float> weights = ramp(static_cast<size_t>(g.kh * g.kw * g.c), 0.02f);
  const std::vector<float> bias = ramp(static_cast<size_t>(g.c), 0.1f);
  std::vector<float> output(static_cast<size_t>(g.oh * g.ow * g.c));
  ActParams act;
  act.kind = 1;
  const KernelTable& k = neon ? *neonKernels() : *scalarKernels();
  for (int i = 0; i < calls; ++i) k.depthwise(g, input.data(), weights.data(), bias.data(), act, output.data());
  return output[output.size() / 2];
}

// One query against `count` 512-bit codes, as hammingMany scans them.
float hamming(size_t count, bool neon, int calls) {
  std::vector<uint8_t> codes(count * 64);
  for (size_t i = 0; i < codes.size(); ++i) codes[i] = static_cast<uint8_t>(i * 2654435761u >> 13);
  const uint8_t* query = codes.data() + 64 * (count / 2);
  std::vector<uint32_t> out(count);
  for (int c = 0; c < calls; ++c) {
    if (neon) {
      uint8x16_t q[4];
      for (int b = 0; b < 4; ++b) q[b] = vld1q_u8(query + 16 * b);
      for (size_t i = 0; i < count; ++i) out[i] = binary::hammingFixedNeon<4>(q, codes.data() + i * 64);
    } else {
      for (size_t i = 0; i < count; ++i) out[i] = static_cast<uint32_t>(binary::hammingSerial(query, codes.data() + i * 64, 64));
    }
  }
  return static_cast<float>(out[count / 3]);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: kernel-calls <case> <neon|scalar> <calls>\n");
    return 2;
  }
  const std::string name = argv[1];
  const bool neon = std::string(argv[2]) == "neon";
  const int calls = std::atoi(argv[3]);
  float result = 0.0f;
  if (name == "first-conv") {
    result = convolution(geometry(64, 64, 3, 16, 3, 2, 1, 1), neon, calls);
  } else if (name == "pointwise") {
    result = convolution(geometry(14, 14, 64, 128, 1, 1, 0, 1), neon, calls);
  } else if (name == "head") {
    result = convolution(geometry(40, 40, 64, 1, 1, 1, 0, 1), neon, calls);
  } else if (name == "conv3x3") {
    result = convolution(geometry(14, 14, 32, 32, 3, 1, 1, 1), neon, calls);
  } else if (name == "depthwise") {
    result = depthwise(geometry(28, 28, 64, 64, 3, 1, 1, 64), neon, calls);
  } else if (name == "hamming") {
    result = hamming(10000, neon, calls);
  } else {
    std::fprintf(stderr, "unknown case %s\n", name.c_str());
    return 2;
  }
  // Printing a result keeps the compiler from dropping the calls.
  std::printf("%g\n", static_cast<double>(result));
  return 0;
}

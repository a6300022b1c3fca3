// Checks every NEON kernel against the scalar reference kernel. test/neon-kernels.test.ts
// cross-compiles this file with the core sources for AArch64 and runs it under
// qemu-aarch64-static.
//
// Output: one line per check, "<group>\t<PASS|FAIL>\t<detail>", and exit status 1 when any
// check fails. Tolerances, per group:
//   gemm, conv, direct_conv, depthwise
//                          |neon - scalar| <= (2 * depth + 4) * 2^-24 * sum |terms|, the
//                          standard bound for two depth-term float sums in different orders
//                          (the NEON kernels fuse multiply-adds, the reference may not)
//   channel_affine         |neon - scalar| <= 4 * 2^-24 * (|x * scale| + |shift|), one FMA
//                          against a rounded product and sum
//   binary, activation, pool, dispatch, hamming
//                          exact: each lane takes the same IEEE operations in the same
//                          order as the scalar kernel

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "../../native/binary.h"
#include "../../native/cpu.h"
#include "../../native/ops/ops.h"

using namespace facebits;

namespace {

int failures = 0;

void report(const std::string& group, bool ok, const std::string& detail) {
  std::printf("%s\t%s\t%s\n", group.c_str(), ok ? "PASS" : "FAIL", detail.c_str());
  if (!ok) ++failures;
}

// Deterministic generator (xorshift64*), so a failure reproduces.
struct Random {
  uint64_t state;
  explicit Random(uint64_t seed) : state(seed * 0x9e3779b97f4a7c15ull + 1) {}
  uint64_t next() {
    state ^= state >> 12;
    state ^= state << 25;
    state ^= state >> 27;
    return state * 0x2545f4914f6cdd1dull;
  }
  // Uniform in [-1, 1), with about one value in 16 exactly zero to exercise x >= 0 branches.
  float value() {
    const uint64_t bits = next();
    if ((bits & 15) == 0) return 0.0f;
    return static_cast<float>(static_cast<double>(bits >> 40) / static_cast<double>(1ull << 23) - 1.0);
  }
  std::vector<float> values(size_t count) {
    std::vector<float> out(count);
    for (float& v : out) v = value();
    return out;
  }
};

const char* kActivationNames[] = {"none", "relu", "clip", "prelu", "leaky_relu", "sigmoid"};

// Returns an activation of this kind with fixed parameters. slopes must outlive the result.
ActParams activation(int32_t kind, const float* slopes) {
  ActParams act;
  act.kind = kind;
  if (kind == 2) {
    act.a = -0.25f;
    act.b = 0.5f;
  }
  if (kind == 4) act.a = 0.125f;
  act.slopes = kind == 3 ? slopes : nullptr;
  return act;
}

std::vector<float> absolute(const std::vector<float>& v) {
  std::vector<float> out(v.size());
  for (size_t i = 0; i < v.size(); ++i) out[i] = std::fabs(v[i]);
  return out;
}

// Largest |got - want| / tolerance over the compared values. A ratio above 1 fails.
struct Comparison {
  double worst = 0.0;
  double worstError = 0.0;
  size_t worstIndex = 0;

  void add(size_t index, float got, float want, double tolerance) {
    if (std::isnan(got) && std::isnan(want)) return;
    // A NaN on one side only is an infinite error.
    const bool oneNaN = std::isnan(got) != std::isnan(want);
    const double error = oneNaN ? INFINITY : std::fabs(static_cast<double>(got) - static_cast<double>(want));
    const double ratio = tolerance > 0 ? error / tolerance : (error > 0 ? INFINITY : 0.0);
    if (!(ratio <= worst)) {
      worst = ratio;
      worstError = error;
      worstIndex = index;
    }
  }
  bool ok() const { return worst <= 1.0; }
  std::string detail(const std::string& name) const {
    char text[256];
    std::snprintf(text, sizeof text, "%s: max error %.3g (%.3g of tolerance) at index %zu", name.c_str(), worstError,
                  worst, worstIndex);
    return text;
  }
};

double sumTolerance(int64_t depth, float magnitude) {
  return (2.0 * static_cast<double>(depth) + 4.0) * std::ldexp(1.0, -24) * static_cast<double>(magnitude) + 1e-30;
}

// A packed right-hand side with its aligned storage.
struct Packed {
  std::vector<float> storage;
  std::vector<float> bias;
  std::vector<float> slopes;
  PackedMatrix matrix;
};

// Packs weights w[column * ldw + k] (columns x depth) with bias and PReLU slopes.
void pack(Packed& p, const float* w, int64_t columns, int64_t depth, int64_t ldw, const float* bias,
          const float* slopes) {
  const int64_t panels = panelCount(columns);
  p.storage.assign(static_cast<size_t>(panels * depth * kPanelWidth + 16), 0.0f);
  float* aligned = p.storage.data();
  while (reinterpret_cast<uintptr_t>(aligned) % 64 != 0) ++aligned;
  packPanels(w, columns, depth, ldw, aligned);
  p.bias.assign(static_cast<size_t>(panels * kPanelWidth), 0.0f);
  p.slopes.assign(static_cast<size_t>(panels * kPanelWidth), 0.0f);
  for (int64_t i = 0; i < columns; ++i) {
    p.bias[i] = bias[i];
    p.slopes[i] = slopes[i];
  }
  p.matrix.panels = aligned;
  p.matrix.bias = p.bias.data();
  p.matrix.slopes = p.slopes.data();
  p.matrix.k = depth;
  p.matrix.n = columns;
  p.matrix.panelCount = panels;
}

void checkDispatch(const KernelTable& neon) {
  const std::vector<std::string> names = supportedIsas();
  std::string joined;
  for (const std::string& name : names) joined += (joined.empty() ? "" : ",") + name;
  report("dispatch", names.size() == 2 && names[0] == "neon" && names[1] == "scalar", "supported " + joined);
  report("dispatch", std::string(currentKernels().name) == "neon", std::string("current ") + currentKernels().name);
  report("dispatch", !neon.reference, "the neon table is not the reference table");
}

void checkGemm(const KernelTable& neon, const KernelTable& scalar) {
  Random random(1);
  const int64_t rowCounts[] = {1, 2, 3, 4, 5, 6, 7, 11, 80, 83};
  const int64_t depths[] = {1, 3, 7, 16, 27, 130};
  // 1 to 4 columns take the dot-product path, the others the panel tiles.
  const int64_t columnCounts[] = {1, 2, 3, 4, 5, 16, 17, 33};
  int cases = 0;
  for (int64_t rows : rowCounts) {
    for (int64_t depth : depths) {
      for (int64_t columns : columnCounts) {
        const int32_t kind = static_cast<int32_t>(cases % 6);
        ++cases;
        const int64_t lda = depth + 3;     // row stride larger than the row
        const int64_t ldc = columns + 2;   // columns past n must stay untouched
        const std::vector<float> a = random.values(static_cast<size_t>(rows * lda));
        const std::vector<float> w = random.values(static_cast<size_t>(columns * depth));
        const std::vector<float> bias = random.values(static_cast<size_t>(columns));
        std::vector<float> slopes = absolute(random.values(static_cast<size_t>(columns)));
        Packed packed, packedAbs;
        pack(packed, w.data(), columns, depth, depth, bias.data(), slopes.data());
        const std::vector<float> wAbs = absolute(w), biasAbs = absolute(bias), aAbs = absolute(a);
        pack(packedAbs, wAbs.data(), columns, depth, depth, biasAbs.data(), slopes.data());

        const ActParams act = activation(kind, nullptr);
        const float sentinel = 12345.0f;
        std::vector<float> got(static_cast<size_t>(rows * ldc), sentinel), want(got), magnitude(got);
        neon.gemm(rows, a.data(), lda, packed.matrix, act, got.data(), ldc);
        scalar.gemm(rows, a.data(), lda, packed.matrix, act, want.data(), ldc);
        scalar.gemm(rows, aAbs.data(), lda, packedAbs.matrix, ActParams(), magnitude.data(), ldc);

        Comparison cmp;
        bool untouched = true;
        for (int64_t m = 0; m < rows; ++m) {
          for (int64_t n = 0; n < ldc; ++n) {
            const size_t i = static_cast<size_t>(m * ldc + n);
            if (n >= columns) {
              untouched = untouched && got[i] == sentinel;
              continue;
            }
            cmp.add(i, got[i], want[i], sumTolerance(depth, magnitude[i]));
          }
        }
        char name[160];
        std::snprintf(name, sizeof name, "rows %lld depth %lld columns %lld %s", static_cast<long long>(rows),
                      static_cast<long long>(depth), static_cast<long long>(columns), kActivationNames[kind]);
        report("gemm", cmp.ok(), cmp.detail(name));
        report("gemm", untouched, std::string(name) + ": columns past n untouched");
      }
    }
  }
}

ConvGeometry geometry(int64_t n, int64_t h, int64_t w, int64_t c, int64_t oc, int64_t kh, int64_t kw, int64_t sh,
                      int64_t sw, int64_t dh, int64_t dw, int64_t padTop, int64_t padLeft, int64_t padBottom,
                      int64_t padRight, int64_t groups) {
  ConvGeometry g{};
  g.n = n;
  g.h = h;
  g.w = w;
  g.c = c;
  g.oc = oc;
  g.kh = kh;
  g.kw = kw;
  g.sh = sh;
  g.sw = sw;
  g.dh = dh;
  g.dw = dw;
  g.padTop = padTop;
  g.padLeft = padLeft;
  g.groups = groups;
  g.oh = (h + padTop + padBottom - (kh - 1) * dh - 1) / sh + 1;
  g.ow = (w + padLeft + padRight - (kw - 1) * dw - 1) / sw + 1;
  return g;
}

// Convolutions through the NEON GEMM (im2col or 1x1) against conv2dReference.
void checkConv(const KernelTable& neon) {
  struct Case {
    const char* name;
    ConvGeometry g;
  };
  const Case cases[] = {
      {"first layer 3x3 stride 2 pad 1, 3 to 16 channels", geometry(1, 17, 15, 3, 16, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 1)},
      {"1x1, 20 to 35 channels, batch 2", geometry(2, 5, 7, 20, 35, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1)},
      {"3x3 dilation 2 pad 2, 8 to 13 channels", geometry(1, 9, 11, 8, 13, 3, 3, 1, 1, 2, 2, 2, 2, 2, 2, 1)},
      {"5x3 stride 2x1 uneven pad, 5 to 7 channels", geometry(1, 12, 9, 5, 7, 5, 3, 2, 1, 1, 1, 2, 0, 1, 2, 1)},
      {"3x3 two groups, 6 to 10 channels", geometry(1, 8, 8, 6, 10, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 2)},
      {"1x1 stride 2, 16 to 17 channels", geometry(1, 9, 9, 16, 17, 1, 1, 2, 2, 1, 1, 0, 0, 0, 0, 1)},
  };
  Random random(2);
  int index = 0;
  for (const Case& c : cases) {
    const ConvGeometry& g = c.g;
    const int32_t kind = static_cast<int32_t>(index++ % 6);
    const int64_t cg = g.c / g.groups;
    const int64_t ocg = g.oc / g.groups;
    const int64_t depth = g.kh * g.kw * cg;
    const std::vector<float> input = random.values(static_cast<size_t>(g.n * g.h * g.w * g.c));
    const std::vector<float> weights = random.values(static_cast<size_t>(g.oc * depth));
    const std::vector<float> bias = random.values(static_cast<size_t>(g.oc));
    const std::vector<float> slopes = absolute(random.values(static_cast<size_t>(g.oc)));
    std::vector<Packed> packed(static_cast<size_t>(g.groups));
    std::vector<PackedMatrix> matrices;
    for (int64_t group = 0; group < g.groups; ++group) {
      pack(packed[group], weights.data() + group * ocg * depth, ocg, depth, depth, bias.data() + group * ocg,
           slopes.data() + group * ocg);
      matrices.push_back(packed[group].matrix);
    }
    const ActParams act = activation(kind, slopes.data());
    const size_t outputs = static_cast<size_t>(g.n * g.oh * g.ow * g.oc);
    std::vector<float> got(outputs), want(outputs), magnitude(outputs);
    std::vector<float> scratch(static_cast<size_t>(conv2dScratchFloats(g)) + 1);
    conv2dPacked(neon, g, input.data(), matrices.data(), act, scratch.data(), got.data());
    conv2dReference(g, input.data(), weights.data(), bias.data(), act, want.data());
    const std::vector<float> inputAbs = absolute(input), weightsAbs = absolute(weights), biasAbs = absolute(bias);
    conv2dReference(g, inputAbs.data(), weightsAbs.data(), biasAbs.data(), ActParams(), magnitude.data());
    Comparison cmp;
    for (size_t i = 0; i < outputs; ++i) cmp.add(i, got[i], want[i], sumTolerance(depth, magnitude[i]));
    report("conv", cmp.ok(), cmp.detail(std::string(c.name) + " " + kActivationNames[kind]));
  }
}

// The direct convolution for few input channels against conv2dReference.
void checkDirectConv(const KernelTable& neon) {
  struct Case {
    const char* name;
    ConvGeometry g;
  };
  const Case cases[] = {
      {"3x3 stride 2 pad 1, 3 to 16 channels", geometry(1, 17, 15, 3, 16, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 1)},
      {"3x3 stride 2 pad 1, 3 to 32 channels, batch 2", geometry(2, 12, 13, 3, 32, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 1)},
      {"3x3 stride 1 pad 1, 3 to 13 channels", geometry(1, 9, 10, 3, 13, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1)},
      {"3x3 stride 2 pad 1, 3 to 64 channels", geometry(1, 11, 9, 3, 64, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 1)},
      {"5x5 dilation 2 pad 4, 1 to 40 channels", geometry(1, 14, 11, 1, 40, 5, 5, 1, 1, 2, 2, 4, 4, 4, 4, 1)},
      {"7x3 stride 2x1 uneven pad, 4 to 20 channels", geometry(1, 16, 9, 4, 20, 7, 3, 2, 1, 1, 1, 3, 0, 2, 2, 1)},
  };
  Random random(9);
  int index = 0;
  for (const Case& c : cases) {
    const ConvGeometry& g = c.g;
    const int32_t kind = static_cast<int32_t>(index++ % 6);
    const int64_t depth = g.kh * g.kw * g.c;
    if (!directConvApplies(g)) {
      report("direct_conv", false, std::string(c.name) + ": directConvApplies() rejects this geometry");
      continue;
    }
    const std::vector<float> input = random.values(static_cast<size_t>(g.n * g.h * g.w * g.c));
    const std::vector<float> weights = random.values(static_cast<size_t>(g.oc * depth));
    const std::vector<float> bias = random.values(static_cast<size_t>(g.oc));
    const std::vector<float> slopes = absolute(random.values(static_cast<size_t>(g.oc)));
    const std::vector<float> packed = packDirectWeights(g, weights.data());
    const ActParams act = activation(kind, slopes.data());
    const size_t outputs = static_cast<size_t>(g.n * g.oh * g.ow * g.oc);
    // One extra float past the output must stay untouched.
    const float sentinel = 12345.0f;
    std::vector<float> got(outputs + 1, sentinel), want(outputs), magnitude(outputs);
    neon.directConv(g, input.data(), packed.data(), bias.data(), act, nullptr, ActParams(), got.data());
    conv2dReference(g, input.data(), weights.data(), bias.data(), act, want.data());
    const std::vector<float> inputAbs = absolute(input), weightsAbs = absolute(weights), biasAbs = absolute(bias);
    conv2dReference(g, inputAbs.data(), weightsAbs.data(), biasAbs.data(), ActParams(), magnitude.data());
    Comparison cmp;
    for (size_t i = 0; i < outputs; ++i) cmp.add(i, got[i], want[i], sumTolerance(depth, magnitude[i]));
    const std::string name = std::string(c.name) + " " + kActivationNames[kind];
    report("direct_conv", cmp.ok(), cmp.detail(name));
    report("direct_conv", got[outputs] == sentinel, name + ": nothing written past the output");
  }

  // A fused 1x1 convolution (post) after the direct one, against two reference convolutions.
  struct FusedCase {
    const char* name;
    ConvGeometry g;
    int64_t postChannels;
  };
  const FusedCase fusedCases[] = {
      {"3x3 stride 2 pad 1, 3 to 16 to 16 channels", geometry(1, 17, 15, 3, 16, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 1), 16},
      {"3x3 stride 1 pad 1, 3 to 13 to 5 channels, batch 2", geometry(2, 9, 10, 3, 13, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1),
       5},
      {"5x5 pad 2, 1 to 8 to 11 channels", geometry(1, 7, 13, 1, 8, 5, 5, 1, 1, 1, 1, 2, 2, 2, 2, 1), 11},
  };
  for (const FusedCase& c : fusedCases) {
    const ConvGeometry& g = c.g;
    const int32_t kind = static_cast<int32_t>(index++ % 5);  // SIGMOID is never fused
    const int32_t postKind = static_cast<int32_t>((index + 2) % 5);
    const int64_t depth = g.kh * g.kw * g.c;
    const ConvGeometry pointwise = geometry(g.n, g.oh, g.ow, g.oc, c.postChannels, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1);
    const std::vector<float> input = random.values(static_cast<size_t>(g.n * g.h * g.w * g.c));
    const std::vector<float> weights = random.values(static_cast<size_t>(g.oc * depth));
    const std::vector<float> bias = random.values(static_cast<size_t>(g.oc));
    const std::vector<float> slopes = absolute(random.values(static_cast<size_t>(g.oc)));
    const std::vector<float> postWeights = random.values(static_cast<size_t>(c.postChannels * g.oc));
    const std::vector<float> postBias = random.values(static_cast<size_t>(c.postChannels));
    const std::vector<float> postSlopes = absolute(random.values(static_cast<size_t>(c.postChannels)));
    const std::vector<float> packed = packDirectWeights(g, weights.data());
    Packed post;
    pack(post, postWeights.data(), c.postChannels, g.oc, g.oc, postBias.data(), postSlopes.data());
    const ActParams act = activation(kind, slopes.data());
    const ActParams postAct = activation(postKind, postSlopes.data());

    const size_t middle = static_cast<size_t>(g.n * g.oh * g.ow * g.oc);
    const size_t outputs = static_cast<size_t>(g.n * g.oh * g.ow * c.postChannels);
    const float sentinel = 12345.0f;
    std::vector<float> got(outputs + 1, sentinel), stage(middle), want(outputs);
    neon.directConv(g, input.data(), packed.data(), bias.data(), act, &post.matrix, postAct, got.data());
    conv2dReference(g, input.data(), weights.data(), bias.data(), act, stage.data());
    conv2dReference(pointwise, stage.data(), postWeights.data(), postBias.data(), postAct, want.data());

    std::vector<float> stageAbs(middle), magnitude(outputs);
    const std::vector<float> inputAbs = absolute(input), weightsAbs = absolute(weights), biasAbs = absolute(bias);
    const std::vector<float> postWeightsAbs = absolute(postWeights), postBiasAbs = absolute(postBias);
    conv2dReference(g, inputAbs.data(), weightsAbs.data(), biasAbs.data(), ActParams(), stageAbs.data());
    conv2dReference(pointwise, stageAbs.data(), postWeightsAbs.data(), postBiasAbs.data(), ActParams(),
                    magnitude.data());
    Comparison cmp;
    // Both stages round, so the depth of the bound is the sum of their depths.
    for (size_t i = 0; i < outputs; ++i) cmp.add(i, got[i], want[i], sumTolerance(depth + g.oc, magnitude[i]));
    const std::string name = std::string(c.name) + " " + kActivationNames[kind] + " then " + kActivationNames[postKind];
    report("direct_conv", cmp.ok(), cmp.detail("fused 1x1: " + name));
    report("direct_conv", got[outputs] == sentinel, "fused 1x1: " + name + ": nothing written past the output");
  }
}

void checkDepthwise(const KernelTable& neon, const KernelTable& scalar) {
  struct Case {
    const char* name;
    ConvGeometry g;
  };
  std::vector<Case> cases;
  for (int64_t c : {1, 3, 4, 5, 16, 17, 35, 64}) {
    cases.push_back({"3x3 stride 1 pad 1", geometry(1, 7, 6, c, c, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, c)});
    cases.push_back({"3x3 stride 2 pad 1, batch 2", geometry(2, 9, 8, c, c, 3, 3, 2, 2, 1, 1, 1, 1, 0, 1, c)});
  }
  cases.push_back({"5x5 dilation 2 pad 4", geometry(1, 10, 9, 19, 19, 5, 5, 1, 1, 2, 2, 4, 4, 4, 4, 19)});
  cases.push_back({"1x7 no pad", geometry(1, 4, 12, 20, 20, 1, 7, 1, 1, 1, 1, 0, 0, 0, 0, 20)});
  cases.push_back({"7x7 global-sized, no pad", geometry(1, 7, 7, 36, 36, 7, 7, 1, 1, 1, 1, 0, 0, 0, 0, 36)});
  Random random(3);
  int index = 0;
  for (const Case& c : cases) {
    const ConvGeometry& g = c.g;
    const int32_t kind = static_cast<int32_t>(index++ % 6);
    const std::vector<float> input = random.values(static_cast<size_t>(g.n * g.h * g.w * g.c));
    const std::vector<float> weights = random.values(static_cast<size_t>(g.kh * g.kw * g.c));
    const std::vector<float> bias = random.values(static_cast<size_t>(g.c));
    const std::vector<float> slopes = absolute(random.values(static_cast<size_t>(g.c)));
    const ActParams act = activation(kind, slopes.data());
    const size_t outputs = static_cast<size_t>(g.n * g.oh * g.ow * g.c);
    std::vector<float> got(outputs), want(outputs), magnitude(outputs);
    neon.depthwise(g, input.data(), weights.data(), bias.data(), act, got.data());
    scalar.depthwise(g, input.data(), weights.data(), bias.data(), act, want.data());
    const std::vector<float> inputAbs = absolute(input), weightsAbs = absolute(weights), biasAbs = absolute(bias);
    scalar.depthwise(g, inputAbs.data(), weightsAbs.data(), biasAbs.data(), ActParams(), magnitude.data());
    Comparison cmp;
    for (size_t i = 0; i < outputs; ++i) cmp.add(i, got[i], want[i], sumTolerance(g.kh * g.kw, magnitude[i]));
    report("depthwise", cmp.ok(),
           cmp.detail(std::string(c.name) + ", " + std::to_string(g.c) + " channels " + kActivationNames[kind]));
  }
}

void checkPool(const KernelTable& neon, const KernelTable& scalar) {
  Random random(4);
  for (int64_t c : {1, 3, 4, 7, 16, 18}) {
    for (int32_t kind : {0, 1}) {
      struct Case {
        const char* name;
        PoolGeometry g;
      };
      // n, h, w, c, oh, ow, kh, kw, sh, sw, padTop, padLeft, kind, global, countIncludePad
      const Case cases[] = {
          {"2x2 stride 2", {2, 8, 7, c, 4, 3, 2, 2, 2, 2, 0, 0, kind, false, false}},
          {"3x3 stride 2 pad 1", {1, 9, 8, c, 5, 4, 3, 3, 2, 2, 1, 1, kind, false, false}},
          {"3x3 stride 1 pad 1 count pad", {1, 5, 6, c, 5, 6, 3, 3, 1, 1, 1, 1, kind, false, true}},
          {"global", {2, 5, 3, c, 1, 1, 0, 0, 1, 1, 0, 0, kind, true, false}},
      };
      for (const Case& pc : cases) {
        const PoolGeometry& g = pc.g;
        const std::vector<float> input = random.values(static_cast<size_t>(g.n * g.h * g.w * g.c));
        const size_t outputs = static_cast<size_t>(g.n * g.oh * g.ow * g.c);
        std::vector<float> got(outputs), want(outputs);
        neon.pool(g, input.data(), got.data());
        scalar.pool(g, input.data(), want.data());
        Comparison cmp;
        for (size_t i = 0; i < outputs; ++i) cmp.add(i, got[i], want[i], 0.0);
        report("pool", cmp.ok(),
               cmp.detail(std::string(kind == 0 ? "max " : "average ") + pc.name + ", " + std::to_string(c) +
                          " channels"));
      }
    }
  }
}

void checkBinary(const KernelTable& neon, const KernelTable& scalar) {
  const char* names[] = {"add", "sub", "mul", "div", "max", "min"};
  Random random(5);
  for (int32_t kind = 0; kind < 6; ++kind) {
    for (int64_t strides : {0, 1, 2, 3}) {
      const int64_t strideA = strides & 1, strideB = (strides >> 1) & 1;
      Comparison cmp;
      for (int64_t count : {0, 1, 3, 4, 5, 8, 13, 64, 1001}) {
        std::vector<float> a = random.values(static_cast<size_t>(count + 1));
        std::vector<float> b = random.values(static_cast<size_t>(count + 1));
        if (kind == 3) {
          for (float& v : b) v = v == 0.0f ? 0.5f : v;  // no division by zero
        }
        std::vector<float> got(static_cast<size_t>(count)), want(got);
        neon.binary(kind, a.data(), strideA, b.data(), strideB, got.data(), count);
        scalar.binary(kind, a.data(), strideA, b.data(), strideB, want.data(), count);
        for (int64_t i = 0; i < count; ++i) cmp.add(static_cast<size_t>(i), got[i], want[i], 0.0);
        if (strideA == 1 && count > 0) {
          // In place: out aliases a.
          std::vector<float> inPlace(a.begin(), a.begin() + count);
          neon.binary(kind, inPlace.data(), 1, b.data(), strideB, inPlace.data(), count);
          for (int64_t i = 0; i < count; ++i) cmp.add(static_cast<size_t>(i), inPlace[i], want[i], 0.0);
        }
      }
      report("binary", cmp.ok(),
             cmp.detail(std::string(names[kind]) + " strides " + std::to_string(strideA) + "," +
                        std::to_string(strideB) + ", counts 0 to 1001"));
    }
  }
}

void checkActivation(const KernelTable& neon, const KernelTable& scalar) {
  Random random(6);
  for (int32_t kind = 0; kind < 6; ++kind) {
    Comparison cmp;
    for (int64_t channels : {1, 2, 3, 4, 5, 7, 9, 17, 64}) {
      for (int64_t rows : {1, 3}) {
        const std::vector<float> slopes = absolute(random.values(static_cast<size_t>(channels)));
        const ActParams act = activation(kind, slopes.data());
        std::vector<float> got = random.values(static_cast<size_t>(rows * channels));
        std::vector<float> want = got;
        neon.activation(got.data(), rows, channels, act);
        scalar.activation(want.data(), rows, channels, act);
        for (size_t i = 0; i < got.size(); ++i) cmp.add(i, got[i], want[i], 0.0);
      }
    }
    report("activation", cmp.ok(), cmp.detail(std::string(kActivationNames[kind]) + ", 1 to 64 channels"));
  }
  // NaN and signed zeros follow the scalar rules: RELU maps NaN to 0, CLIP keeps NaN.
  const float special[] = {NAN, -0.0f, 0.0f, -INFINITY, INFINITY};
  for (int32_t kind : {1, 2, 4}) {
    const ActParams act = activation(kind, nullptr);
    std::vector<float> got(special, special + 5), want(got);
    got.resize(8, 1.0f);
    want.resize(8, 1.0f);
    neon.activation(got.data(), 1, 8, act);
    scalar.activation(want.data(), 1, 8, act);
    Comparison cmp;
    for (size_t i = 0; i < got.size(); ++i) cmp.add(i, got[i], want[i], 0.0);
    report("activation", cmp.ok(), cmp.detail(std::string(kActivationNames[kind]) + " of NaN, zeros and infinities"));
  }
}

void checkChannelAffine(const KernelTable& neon, const KernelTable& scalar) {
  Random random(7);
  for (int64_t channels : {1, 2, 3, 4, 5, 7, 8, 16, 33}) {
    Comparison cmp;
    for (int64_t rows : {1, 2, 5, 31}) {
      const std::vector<float> x = random.values(static_cast<size_t>(rows * channels));
      const std::vector<float> scale = random.values(static_cast<size_t>(channels));
      const std::vector<float> shift = random.values(static_cast<size_t>(channels));
      std::vector<float> got(x.size()), want(x.size());
      neon.channelAffine(x.data(), scale.data(), shift.data(), got.data(), rows, channels);
      scalar.channelAffine(x.data(), scale.data(), shift.data(), want.data(), rows, channels);
      std::vector<float> inPlace = x;
      neon.channelAffine(inPlace.data(), scale.data(), shift.data(), inPlace.data(), rows, channels);
      for (size_t i = 0; i < x.size(); ++i) {
        const size_t c = i % static_cast<size_t>(channels);
        const double tolerance =
            4.0 * std::ldexp(1.0, -24) * (std::fabs(static_cast<double>(x[i]) * scale[c]) + std::fabs(shift[c]));
        cmp.add(i, got[i], want[i], tolerance);
        cmp.add(i, inPlace[i], want[i], tolerance);
      }
    }
    report("channel_affine", cmp.ok(), cmp.detail(std::to_string(channels) + " channels, 1 to 31 rows, in place too"));
  }
}

void checkHamming() {
  Random random(8);
  bool same = true;
  std::string first;
  for (size_t bytes = 8; bytes <= 1032; bytes += 8) {
    for (int round = 0; round < 4; ++round) {
      std::vector<uint8_t> a(bytes), b(bytes);
      for (size_t i = 0; i < bytes; ++i) {
        a[i] = static_cast<uint8_t>(random.next());
        // Round 3 compares complements, so every bit differs.
        b[i] = round == 3 ? static_cast<uint8_t>(~a[i]) : static_cast<uint8_t>(random.next());
      }
      const uint64_t got = binary::hammingNeon(a.data(), b.data(), bytes);
      const uint64_t want = binary::hammingSerial(a.data(), b.data(), bytes);
      if (got != want && same) {
        same = false;
        first = std::to_string(bytes) + " bytes: neon " + std::to_string(got) + ", serial " + std::to_string(want);
      }
    }
  }
  report("hamming", same, same ? "hammingNeon equals hammingSerial, 8 to 1032 bytes" : first);

  for (int round = 0; round < 200; ++round) {
    uint8_t query[64], code[64];
    for (int i = 0; i < 64; ++i) {
      query[i] = static_cast<uint8_t>(random.next());
      code[i] = round % 50 == 0 ? static_cast<uint8_t>(~query[i]) : static_cast<uint8_t>(random.next());
    }
    uint8x16_t q[4];
    for (int b = 0; b < 4; ++b) q[b] = vld1q_u8(query + 16 * b);
    const uint32_t got256 = binary::hammingFixedNeon<2>(q, code);
    const uint32_t got512 = binary::hammingFixedNeon<4>(q, code);
    const uint64_t want256 = binary::hammingSerial(query, code, 32);
    const uint64_t want512 = binary::hammingSerial(query, code, 64);
    if (got256 != want256 || got512 != want512) {
      report("hamming", false,
             "fixed-length kernel: 256-bit " + std::to_string(got256) + " vs " + std::to_string(want256) +
                 ", 512-bit " + std::to_string(got512) + " vs " + std::to_string(want512));
      return;
    }
  }
  report("hamming", true, "hammingFixedNeon equals hammingSerial for 256- and 512-bit codes, all-ones included");
}

}  // namespace

int main() {
  const KernelTable* neon = neonKernels();
  const KernelTable* scalar = scalarKernels();
  if (!neon) {
    report("dispatch", false, "neonKernels() returned nullptr; was this built for AArch64?");
    return 1;
  }
  checkDispatch(*neon);
  checkGemm(*neon, *scalar);
  checkConv(*neon);
  if (neon->directConv) {
    checkDirectConv(*neon);
  } else {
    report("direct_conv", false, "the neon table has no direct convolution");
  }
  checkDepthwise(*neon, *scalar);
  checkPool(*neon, *scalar);
  checkBinary(*neon, *scalar);
  checkActivation(*neon, *scalar);
  checkChannelAffine(*neon, *scalar);
  checkHamming();
  return failures == 0 ? 0 : 1;
}

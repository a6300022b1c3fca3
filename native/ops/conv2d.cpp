// CONV2D: scalar reference, scalar depthwise, and the packed im2col + GEMM driver.
//
// Contract (all ISAs):
//   input   NHWC [n, h, w, c], dense float32, any alignment
//   weights OHWI [oc][kh][kw][c / groups] for the reference kernel; the fast path takes
//           one PackedMatrix per group (K = kh * kw * c / groups, N = oc / groups) and the
//           depthwise kernels take [kh][kw][c]
//   bias    [oc] (nullptr means zero for the reference kernel; packed paths always have one)
//   output  NHWC [n, oh, ow, oc], oh = (h + padTop + padBottom - (kh - 1) * dh - 1) / sh + 1
//   Padded input cells read as zero. The activation is fused after the bias.

#include <algorithm>
#include <cstring>

#include "ops.h"

namespace facebits {

void conv2dReference(const ConvGeometry& g, const float* input, const float* weights, const float* bias,
                     const ActParams& act, float* output) {
  const int64_t cg = g.c / g.groups;
  const int64_t ocg = g.oc / g.groups;
  for (int64_t n = 0; n < g.n; ++n) {
    for (int64_t oy = 0; oy < g.oh; ++oy) {
      for (int64_t ox = 0; ox < g.ow; ++ox) {
        float* out = output + ((n * g.oh + oy) * g.ow + ox) * g.oc;
        for (int64_t oc = 0; oc < g.oc; ++oc) {
          const int64_t group = oc / ocg;
          float acc = bias ? bias[oc] : 0.0f;
          for (int64_t ky = 0; ky < g.kh; ++ky) {
            const int64_t iy = oy * g.sh - g.padTop + ky * g.dh;
            if (iy < 0 || iy >= g.h) continue;
            for (int64_t kx = 0; kx < g.kw; ++kx) {
              const int64_t ix = ox * g.sw - g.padLeft + kx * g.dw;
              if (ix < 0 || ix >= g.w) continue;
              const float* in = input + ((n * g.h + iy) * g.w + ix) * g.c + group * cg;
              const float* w = weights + ((oc * g.kh + ky) * g.kw + kx) * cg;
              for (int64_t ci = 0; ci < cg; ++ci) acc += in[ci] * w[ci];
            }
          }
          out[oc] = activate(acc, act, oc);
        }
      }
    }
  }
}

void depthwiseScalar(const ConvGeometry& g, const float* input, const float* weights, const float* bias,
                     const ActParams& act, float* output) {
  for (int64_t n = 0; n < g.n; ++n) {
    for (int64_t oy = 0; oy < g.oh; ++oy) {
      for (int64_t ox = 0; ox < g.ow; ++ox) {
        float* out = output + ((n * g.oh + oy) * g.ow + ox) * g.c;
        for (int64_t c = 0; c < g.c; ++c) out[c] = bias[c];
        for (int64_t ky = 0; ky < g.kh; ++ky) {
          const int64_t iy = oy * g.sh - g.padTop + ky * g.dh;
          if (iy < 0 || iy >= g.h) continue;
          for (int64_t kx = 0; kx < g.kw; ++kx) {
            const int64_t ix = ox * g.sw - g.padLeft + kx * g.dw;
            if (ix < 0 || ix >= g.w) continue;
            const float* in = input + ((n * g.h + iy) * g.w + ix) * g.c;
            const float* w = weights + (ky * g.kw + kx) * g.c;
            for (int64_t c = 0; c < g.c; ++c) out[c] += in[c] * w[c];
          }
        }
        for (int64_t c = 0; c < g.c; ++c) out[c] = activate(out[c], act, c);
      }
    }
  }
}

bool isPointwise(const ConvGeometry& g) {
  return g.kh == 1 && g.kw == 1 && g.sh == 1 && g.sw == 1 && g.padTop == 0 && g.padLeft == 0 && g.groups == 1 &&
         g.oh == g.h && g.ow == g.w;
}

namespace {

// Output pixels per im2col block: about 128 KiB of scratch, at least one micro-tile.
int64_t blockRows(const ConvGeometry& g) {
  const int64_t depth = g.kh * g.kw * (g.c / g.groups);
  return std::max<int64_t>(12, std::min<int64_t>(g.oh * g.ow, 32768 / depth));
}

// Copies a few floats with an inline loop. im2col rows are short (cg or kw * cg floats),
// so a call to memcpy per tap costs more than the copy itself.
inline void copyFloats(float* dst, const float* src, int64_t count) {
  for (int64_t i = 0; i < count; ++i) dst[i] = src[i];
}

// Writes rows [first, first + count) of the im2col matrix for one image and group.
void im2col(const ConvGeometry& g, const float* image, int64_t group, int64_t first, int64_t count, float* rows) {
  const int64_t cg = g.c / g.groups;
  const int64_t depth = g.kh * g.kw * cg;
  // With one group and no horizontal dilation, the kw taps of one kernel row are kw * c
  // consecutive input floats, so a row whose taps are all inside the image is one copy.
  const bool rowsAreContiguous = g.groups == 1 && g.dw == 1;
  // The output position advances by one pixel per row, which avoids a 64-bit division per row.
  int64_t oy = first / g.ow;
  int64_t ox = first % g.ow - 1;
  for (int64_t r = 0; r < count; ++r) {
    if (++ox == g.ow) {
      ox = 0;
      ++oy;
    }
    const int64_t x0 = ox * g.sw - g.padLeft;
    const bool inside = x0 >= 0 && x0 + g.kw <= g.w;
    float* row = rows + r * depth;
    for (int64_t ky = 0; ky < g.kh; ++ky) {
      const int64_t iy = oy * g.sh - g.padTop + ky * g.dh;
      float* dst = row + ky * g.kw * cg;
      if (iy < 0 || iy >= g.h) {
        std::fill(dst, dst + g.kw * cg, 0.0f);
        continue;
      }
      const float* source = image + iy * g.w * g.c + group * cg;
      if (rowsAreContiguous && inside) {
        copyFloats(dst, source + x0 * g.c, g.kw * cg);
        continue;
      }
      for (int64_t kx = 0; kx < g.kw; ++kx) {
        const int64_t ix = x0 + kx * g.dw;
        if (ix < 0 || ix >= g.w) {
          std::fill(dst + kx * cg, dst + (kx + 1) * cg, 0.0f);
        } else {
          copyFloats(dst + kx * cg, source + ix * g.c, cg);
        }
      }
    }
  }
}

}  // namespace

bool directConvApplies(const ConvGeometry& g) {
  return g.groups == 1 && g.c <= kDirectConvMaxChannels && g.oc <= kDirectConvMaxOutChannels;
}

std::vector<float> packDirectWeights(const ConvGeometry& g, const float* weights) {
  const int64_t paddedOc = (g.oc + 15) / 16 * 16;
  const int64_t taps = g.kh * g.kw;
  std::vector<float> packed(taps * g.c * paddedOc, 0.0f);
  for (int64_t oc = 0; oc < g.oc; ++oc)
    for (int64_t t = 0; t < taps; ++t)
      for (int64_t ci = 0; ci < g.c; ++ci) packed[(t * g.c + ci) * paddedOc + oc] = weights[(oc * taps + t) * g.c + ci];
  return packed;
}

int64_t conv2dScratchFloats(const ConvGeometry& g) {
  if (isPointwise(g)) return 0;
  return blockRows(g) * g.kh * g.kw * (g.c / g.groups);
}

void conv2dPacked(const KernelTable& k, const ConvGeometry& g, const float* input, const PackedMatrix* packed,
                  const ActParams& act, float* scratch, float* output) {
  if (isPointwise(g)) {
    gemmFor(k, packed[0])(g.n * g.h * g.w, input, g.c, packed[0], act, output, g.oc);
  } else {
    const int64_t cg = g.c / g.groups;
    const int64_t ocg = g.oc / g.groups;
    const int64_t depth = g.kh * g.kw * cg;
    const int64_t pixels = g.oh * g.ow;
    const int64_t block = blockRows(g);
    for (int64_t n = 0; n < g.n; ++n) {
      const float* image = input + n * g.h * g.w * g.c;
      for (int64_t first = 0; first < pixels; first += block) {
        const int64_t count = std::min(block, pixels - first);
        for (int64_t group = 0; group < g.groups; ++group) {
          im2col(g, image, group, first, count, scratch);
          float* out = output + (n * pixels + first) * g.oc + group * ocg;
          gemmFor(k, packed[group])(count, scratch, depth, packed[group], act, out, g.oc);
        }
      }
    }
  }
  if (act.kind == static_cast<int32_t>(Activation::SIGMOID)) k.activation(output, g.n * g.oh * g.ow, g.oc, act);
}

}  // namespace facebits

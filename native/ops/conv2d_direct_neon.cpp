// NEON direct convolution for inputs with at most kDirectConvMaxChannels channels, such as
// an RGB first layer (AArch64 Advanced SIMD).
//
// Contract: DirectConvFn in kernels.h. Input NHWC [n, h, w, c], weights
// [kh][kw][c][oc rounded up to 16], bias and PReLU slopes [oc], output NHWC [n, oh, ow, oc],
// any alignment. Output channels go 16 at a time. For each tap and input channel, four
// weight vectors are loaded once and multiplied by the input value of up to 4 adjacent
// output pixels, which gives 16 accumulators. A last block of fewer than 16 channels is
// stored through a small buffer, so nothing past oc is written. With a fused 1x1
// convolution (post), each output row goes to a buffer that stays in cache, and the NEON
// GEMM applies post to it.

#if defined(__aarch64__)

#include <arm_neon.h>

#include <vector>

#include "activation_neon.h"
#include "ops.h"

namespace facebits {

void directConvNeon(const ConvGeometry& g, const float* input, const float* weights, const float* bias,
                    const ActParams& act, const PackedMatrix* post, const ActParams& postAct, float* output);
void gemmNeon(int64_t rows, const float* a, int64_t lda, const PackedMatrix& b, const ActParams& act, float* c,
              int64_t ldc);

namespace {

constexpr int64_t kBlock = 16;  // output channels per pass, the weight row padding

struct Window {
  int64_t begin, end;
};

// Kernel taps [begin, end) whose input index origin + tap * dilation lies in [0, size).
inline Window validTaps(int64_t origin, int64_t taps, int64_t dilation, int64_t size) {
  Window w{0, taps};
  while (w.begin < w.end && origin + w.begin * dilation < 0) ++w.begin;
  while (w.end > w.begin && origin + (w.end - 1) * dilation >= size) --w.end;
  return w;
}

// Bias and PReLU slopes of one 16-channel block, zero-padded past oc.
struct BlockParams {
  float bias[kBlock];
  float slopes[kBlock];
};

// Computes output channels [block * 16, block * 16 + columns) of PIXELS horizontally adjacent
// output pixels.
template <int PIXELS>
inline void pixelBlock(const ConvGeometry& g, const float* image, int64_t y0, Window ky, int64_t x0, Window kx,
                       const float* weights, int64_t block, const BlockParams& params, const ActParams& act,
                       float* out, int64_t columns) {
  const int64_t c = g.c;
  const int64_t paddedOc = (g.oc + kBlock - 1) / kBlock * kBlock;
  const int64_t xStride = g.sw * c;
  float32x4_t acc0[PIXELS], acc1[PIXELS], acc2[PIXELS], acc3[PIXELS];
  const float32x4_t bias0 = vld1q_f32(params.bias);
  const float32x4_t bias1 = vld1q_f32(params.bias + 4);
  const float32x4_t bias2 = vld1q_f32(params.bias + 8);
  const float32x4_t bias3 = vld1q_f32(params.bias + 12);
  for (int p = 0; p < PIXELS; ++p) {
    acc0[p] = bias0;
    acc1[p] = bias1;
    acc2[p] = bias2;
    acc3[p] = bias3;
  }
  for (int64_t i = ky.begin; i < ky.end; ++i) {
    const float* row = image + (y0 + i * g.dh) * g.w * c;
    for (int64_t j = kx.begin; j < kx.end; ++j) {
      const float* in = row + (x0 + j * g.dw) * c;
      const float* w = weights + (i * g.kw + j) * c * paddedOc + block * kBlock;
      for (int64_t ci = 0; ci < c; ++ci) {
        const float* wc = w + ci * paddedOc;
        const float32x4_t w0 = vld1q_f32(wc);
        const float32x4_t w1 = vld1q_f32(wc + 4);
        const float32x4_t w2 = vld1q_f32(wc + 8);
        const float32x4_t w3 = vld1q_f32(wc + 12);
        for (int p = 0; p < PIXELS; ++p) {
          const float x = in[p * xStride + ci];
          acc0[p] = vfmaq_n_f32(acc0[p], w0, x);
          acc1[p] = vfmaq_n_f32(acc1[p], w1, x);
          acc2[p] = vfmaq_n_f32(acc2[p], w2, x);
          acc3[p] = vfmaq_n_f32(acc3[p], w3, x);
        }
      }
    }
  }
  const float32x4_t lo = vdupq_n_f32(act.a);
  const float32x4_t hi = vdupq_n_f32(act.b);
  float32x4_t s0 = lo, s1 = lo, s2 = lo, s3 = lo;  // LEAKY_RELU slope is act.a
  if (act.kind == 3) {
    s0 = vld1q_f32(params.slopes);
    s1 = vld1q_f32(params.slopes + 4);
    s2 = vld1q_f32(params.slopes + 8);
    s3 = vld1q_f32(params.slopes + 12);
  }
  for (int p = 0; p < PIXELS; ++p) {
    float* dst = out + p * g.oc;
    float buffer[kBlock];
    float* target = columns == kBlock ? dst : buffer;
    vst1q_f32(target, neon::activate4(acc0[p], act.kind, lo, hi, s0));
    vst1q_f32(target + 4, neon::activate4(acc1[p], act.kind, lo, hi, s1));
    vst1q_f32(target + 8, neon::activate4(acc2[p], act.kind, lo, hi, s2));
    vst1q_f32(target + 12, neon::activate4(acc3[p], act.kind, lo, hi, s3));
    if (target == buffer) {
      for (int64_t j = 0; j < columns; ++j) dst[j] = buffer[j];
    }
  }
}

// Computes output row oy of one image: ow pixels of oc floats.
void convolveRow(const ConvGeometry& g, const float* image, int64_t oy, const float* weights,
                 const BlockParams* params, const ActParams& act, float* outRow) {
  constexpr int64_t kWide = 4;
  const int64_t blocks = (g.oc + kBlock - 1) / kBlock;
  const int64_t y0 = oy * g.sh - g.padTop;
  const Window ky = validTaps(y0, g.kh, g.dh, g.h);
  int64_t ox = 0;
  while (ox < g.ow) {
    const int64_t x0 = ox * g.sw - g.padLeft;
    const Window kx = validTaps(x0, g.kw, g.dw, g.w);
    // Windows move monotonically with x, so equal first and last windows mean all the
    // pixels between have the same valid taps.
    int64_t pixels = 1;
    if (ox + kWide <= g.ow) {
      const Window last = validTaps(x0 + (kWide - 1) * g.sw, g.kw, g.dw, g.w);
      if (last.begin == kx.begin && last.end == kx.end) pixels = kWide;
    }
    for (int64_t b = 0; b < blocks; ++b) {
      const int64_t columns = g.oc - b * kBlock < kBlock ? g.oc - b * kBlock : kBlock;
      float* out = outRow + ox * g.oc + b * kBlock;
      if (pixels == kWide) {
        pixelBlock<kWide>(g, image, y0, ky, x0, kx, weights, b, params[b], act, out, columns);
      } else {
        pixelBlock<1>(g, image, y0, ky, x0, kx, weights, b, params[b], act, out, columns);
      }
    }
    ox += pixels;
  }
}

}  // namespace

void directConvNeon(const ConvGeometry& g, const float* input, const float* weights, const float* bias,
                    const ActParams& act, const PackedMatrix* post, const ActParams& postAct, float* output) {
  const int64_t blocks = (g.oc + kBlock - 1) / kBlock;
  // The executor takes this kernel only when directConvApplies(g), so oc is at most
  // kDirectConvMaxOutChannels.
  BlockParams params[(kDirectConvMaxOutChannels + kBlock - 1) / kBlock];
  for (int64_t b = 0; b < blocks; ++b) {
    for (int64_t j = 0; j < kBlock; ++j) {
      const int64_t oc = b * kBlock + j;
      params[b].bias[j] = oc < g.oc ? bias[oc] : 0.0f;
      params[b].slopes[j] = oc < g.oc && act.kind == 3 ? act.slopes[oc] : 0.0f;
    }
  }
  std::vector<float> rowBuffer(post ? static_cast<size_t>(g.ow * g.oc) : 0);
  for (int64_t n = 0; n < g.n; ++n) {
    const float* image = input + n * g.h * g.w * g.c;
    for (int64_t oy = 0; oy < g.oh; ++oy) {
      if (!post) {
        convolveRow(g, image, oy, weights, params, act, output + (n * g.oh + oy) * g.ow * g.oc);
        continue;
      }
      convolveRow(g, image, oy, weights, params, act, rowBuffer.data());
      gemmNeon(g.ow, rowBuffer.data(), g.oc, *post, postAct, output + (n * g.oh + oy) * g.ow * post->n, post->n);
    }
  }
}

}  // namespace facebits

#endif  // __aarch64__

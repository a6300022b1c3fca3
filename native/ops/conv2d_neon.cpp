// NEON depthwise convolution, vectorised over channels (AArch64 Advanced SIMD).
//
// Contract: as depthwiseScalar (conv2d.cpp): input NHWC [n, h, w, c], weights [kh][kw][c],
// bias [c], output NHWC [n, oh, ow, c], any alignment. Channels go 16 and then 4 at a time;
// the last c % 4 take a scalar loop, so nothing outside the tensors is read or written.
// Any kernel size, stride and dilation; taps that fall into the padding are skipped. Bias
// and the activation are fused.

#if defined(__aarch64__)

#include <arm_neon.h>

#include "../kernels.h"
#include "activation_neon.h"

namespace facebits {

void depthwiseNeon(const ConvGeometry& g, const float* input, const float* weights, const float* bias,
                   const ActParams& act, float* output);

namespace {

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

// Computes channels [ch, ch + 4 * BLOCKS) of one output pixel.
template <int BLOCKS>
inline void channelBlock(const ConvGeometry& g, const float* image, int64_t y0, Window ky, int64_t x0, Window kx,
                         const float* weights, const float* bias, const ActParams& act, float* out, int64_t ch) {
  const int64_t c = g.c;
  float32x4_t acc[BLOCKS];
  for (int b = 0; b < BLOCKS; ++b) acc[b] = vld1q_f32(bias + ch + 4 * b);
  for (int64_t i = ky.begin; i < ky.end; ++i) {
    const float* row = image + (y0 + i * g.dh) * g.w * c + ch;
    const float* wrow = weights + i * g.kw * c + ch;
    for (int64_t j = kx.begin; j < kx.end; ++j) {
      const float* in = row + (x0 + j * g.dw) * c;
      const float* w = wrow + j * c;
      for (int b = 0; b < BLOCKS; ++b) acc[b] = vfmaq_f32(acc[b], vld1q_f32(in + 4 * b), vld1q_f32(w + 4 * b));
    }
  }
  const float32x4_t lo = vdupq_n_f32(act.a);
  const float32x4_t hi = vdupq_n_f32(act.b);
  for (int b = 0; b < BLOCKS; ++b) {
    const float32x4_t slope = act.kind == 3 ? vld1q_f32(act.slopes + ch + 4 * b) : lo;
    vst1q_f32(out + ch + 4 * b, neon::activate4(acc[b], act.kind, lo, hi, slope));
  }
}

// Computes channel ch of one output pixel, for the last c % 4 channels.
inline void channelOne(const ConvGeometry& g, const float* image, int64_t y0, Window ky, int64_t x0, Window kx,
                       const float* weights, const float* bias, const ActParams& act, float* out, int64_t ch) {
  const int64_t c = g.c;
  float acc = bias[ch];
  for (int64_t i = ky.begin; i < ky.end; ++i) {
    for (int64_t j = kx.begin; j < kx.end; ++j) {
      acc += image[((y0 + i * g.dh) * g.w + x0 + j * g.dw) * c + ch] * weights[(i * g.kw + j) * c + ch];
    }
  }
  out[ch] = neon::activate1(acc, act, ch);
}

}  // namespace

void depthwiseNeon(const ConvGeometry& g, const float* input, const float* weights, const float* bias,
                   const ActParams& act, float* output) {
  for (int64_t n = 0; n < g.n; ++n) {
    const float* image = input + n * g.h * g.w * g.c;
    for (int64_t oy = 0; oy < g.oh; ++oy) {
      const int64_t y0 = oy * g.sh - g.padTop;
      const Window ky = validTaps(y0, g.kh, g.dh, g.h);
      for (int64_t ox = 0; ox < g.ow; ++ox) {
        const int64_t x0 = ox * g.sw - g.padLeft;
        const Window kx = validTaps(x0, g.kw, g.dw, g.w);
        float* out = output + ((n * g.oh + oy) * g.ow + ox) * g.c;
        int64_t ch = 0;
        for (; ch + 16 <= g.c; ch += 16) channelBlock<4>(g, image, y0, ky, x0, kx, weights, bias, act, out, ch);
        for (; ch + 4 <= g.c; ch += 4) channelBlock<1>(g, image, y0, ky, x0, kx, weights, bias, act, out, ch);
        for (; ch < g.c; ++ch) channelOne(g, image, y0, ky, x0, kx, weights, bias, act, out, ch);
      }
    }
  }
}

}  // namespace facebits

#endif  // __aarch64__

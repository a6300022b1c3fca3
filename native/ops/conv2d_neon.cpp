// NEON depthwise convolution, vectorised over channels (AArch64 Advanced SIMD).
//
// Contract: as depthwiseScalar (conv2d.cpp): input NHWC [n, h, w, c], weights [kh][kw][c],
// bias [c], output NHWC [n, oh, ow, c], any alignment. Channels go 16 and then 4 at a time,
// and the last c % 4 take a scalar loop, so nothing outside the tensors is read or written.
// Up to 3 adjacent output pixels with the same valid taps share each weight load.
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

// Computes channels [ch, ch + 16) of PIXELS horizontally adjacent output pixels that share
// their valid taps, so each weight load serves PIXELS multiply-adds. The accumulators are
// four named arrays indexed in unrolled loops and the geometry is copied to locals: with a
// two-dimensional array, GCC 12 kept the sums in memory and stored them after every tap.
template <int PIXELS>
inline void channels16(const ConvGeometry& g, const float* image, int64_t y0, Window ky, int64_t x0, Window kx,
                       const float* weights, const float* bias, const ActParams& act, float* out, int64_t ch) {
  const int64_t c = g.c, w = g.w, kw = g.kw, dh = g.dh, dw = g.dw;
  const int64_t xStride = g.sw * c;
  float32x4_t acc0[PIXELS], acc1[PIXELS], acc2[PIXELS], acc3[PIXELS];
  const float32x4_t bias0 = vld1q_f32(bias + ch);
  const float32x4_t bias1 = vld1q_f32(bias + ch + 4);
  const float32x4_t bias2 = vld1q_f32(bias + ch + 8);
  const float32x4_t bias3 = vld1q_f32(bias + ch + 12);
#pragma GCC unroll 4
  for (int p = 0; p < PIXELS; ++p) {
    acc0[p] = bias0;
    acc1[p] = bias1;
    acc2[p] = bias2;
    acc3[p] = bias3;
  }
  for (int64_t i = ky.begin; i < ky.end; ++i) {
    const float* row = image + (y0 + i * dh) * w * c + ch;
    const float* wrow = weights + i * kw * c + ch;
    for (int64_t j = kx.begin; j < kx.end; ++j) {
      const float* in = row + (x0 + j * dw) * c;
      const float* wt = wrow + j * c;
      const float32x4_t w0 = vld1q_f32(wt);
      const float32x4_t w1 = vld1q_f32(wt + 4);
      const float32x4_t w2 = vld1q_f32(wt + 8);
      const float32x4_t w3 = vld1q_f32(wt + 12);
#pragma GCC unroll 4
      for (int p = 0; p < PIXELS; ++p) {
        const float* x = in + p * xStride;
        acc0[p] = vfmaq_f32(acc0[p], vld1q_f32(x), w0);
        acc1[p] = vfmaq_f32(acc1[p], vld1q_f32(x + 4), w1);
        acc2[p] = vfmaq_f32(acc2[p], vld1q_f32(x + 8), w2);
        acc3[p] = vfmaq_f32(acc3[p], vld1q_f32(x + 12), w3);
      }
    }
  }
  const float32x4_t lo = vdupq_n_f32(act.a);
  const float32x4_t hi = vdupq_n_f32(act.b);
  float32x4_t s0 = lo, s1 = lo, s2 = lo, s3 = lo;  // LEAKY_RELU slope is act.a
  if (act.kind == 3) {
    s0 = vld1q_f32(act.slopes + ch);
    s1 = vld1q_f32(act.slopes + ch + 4);
    s2 = vld1q_f32(act.slopes + ch + 8);
    s3 = vld1q_f32(act.slopes + ch + 12);
  }
#pragma GCC unroll 4
  for (int p = 0; p < PIXELS; ++p) {
    float* o = out + p * c + ch;
    vst1q_f32(o, neon::activate4(acc0[p], act.kind, lo, hi, s0));
    vst1q_f32(o + 4, neon::activate4(acc1[p], act.kind, lo, hi, s1));
    vst1q_f32(o + 8, neon::activate4(acc2[p], act.kind, lo, hi, s2));
    vst1q_f32(o + 12, neon::activate4(acc3[p], act.kind, lo, hi, s3));
  }
}

// Computes channels [ch, ch + 4) of one output pixel.
inline void channels4(const ConvGeometry& g, const float* image, int64_t y0, Window ky, int64_t x0, Window kx,
                      const float* weights, const float* bias, const ActParams& act, float* out, int64_t ch) {
  const int64_t c = g.c, w = g.w, kw = g.kw, dh = g.dh, dw = g.dw;
  float32x4_t acc = vld1q_f32(bias + ch);
  for (int64_t i = ky.begin; i < ky.end; ++i) {
    const float* row = image + (y0 + i * dh) * w * c + ch;
    const float* wrow = weights + i * kw * c + ch;
    for (int64_t j = kx.begin; j < kx.end; ++j) acc = vfmaq_f32(acc, vld1q_f32(row + (x0 + j * dw) * c), vld1q_f32(wrow + j * c));
  }
  const float32x4_t lo = vdupq_n_f32(act.a);
  const float32x4_t slope = act.kind == 3 ? vld1q_f32(act.slopes + ch) : lo;
  vst1q_f32(out + ch, neon::activate4(acc, act.kind, lo, vdupq_n_f32(act.b), slope));
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
  // 3 pixels: 12 accumulators, 4 weight and 12 input vectors fit the 32 registers. With 4
  // pixels, GCC 12 spilled two accumulators.
  constexpr int64_t kWide = 3;
  for (int64_t n = 0; n < g.n; ++n) {
    const float* image = input + n * g.h * g.w * g.c;
    for (int64_t oy = 0; oy < g.oh; ++oy) {
      const int64_t y0 = oy * g.sh - g.padTop;
      const Window ky = validTaps(y0, g.kh, g.dh, g.h);
      float* outRow = output + (n * g.oh + oy) * g.ow * g.c;
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
        float* out = outRow + ox * g.c;
        int64_t ch = 0;
        for (; ch + 16 <= g.c; ch += 16) {
          if (pixels == kWide) {
            channels16<kWide>(g, image, y0, ky, x0, kx, weights, bias, act, out, ch);
          } else {
            channels16<1>(g, image, y0, ky, x0, kx, weights, bias, act, out, ch);
          }
        }
        for (int64_t p = 0; p < pixels; ++p) {
          const int64_t px = x0 + p * g.sw;
          float* pixelOut = out + p * g.c;
          int64_t tail = ch;
          for (; tail + 4 <= g.c; tail += 4) channels4(g, image, y0, ky, px, kx, weights, bias, act, pixelOut, tail);
          for (; tail < g.c; ++tail) channelOne(g, image, y0, ky, px, kx, weights, bias, act, pixelOut, tail);
        }
        ox += pixels;
      }
    }
  }
}

}  // namespace facebits

#endif  // __aarch64__

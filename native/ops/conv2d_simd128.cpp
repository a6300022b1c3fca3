// WebAssembly SIMD128 depthwise convolution, vectorised over channels (emcc -msimd128).
//
// Contract: as depthwiseScalar (conv2d.cpp): input NHWC [n, h, w, c], weights [kh][kw][c],
// bias [c], output NHWC [n, oh, ow, c], any alignment. Each output value starts from the
// bias and adds the taps in ky, kx order, as depthwiseScalar does; SIMD128 has no fused
// multiply-add, so the results equal the scalar kernel's bit for bit.
//
// Two horizontally adjacent output pixels with the same valid taps share each weight load.
// Indices are ptrdiff_t, which is 32 bits on wasm32, so address arithmetic stays in i32.

#if defined(__wasm_simd128__)

#include <cstddef>

#include "ops.h"
#include "simd128.h"

namespace facebits {

void depthwiseSimd128(const ConvGeometry& g, const float* input, const float* weights, const float* bias,
                      const ActParams& act, float* output);

namespace {

using simd128::activate4;

struct Window {
  ptrdiff_t begin, end;
};

// Kernel taps [begin, end) whose input index origin + tap * dilation lies in [0, size).
inline Window validTaps(ptrdiff_t origin, ptrdiff_t taps, ptrdiff_t dilation, ptrdiff_t size) {
  Window w{0, taps};
  while (w.begin < w.end && origin + w.begin * dilation < 0) ++w.begin;
  while (w.end > w.begin && origin + (w.end - 1) * dilation >= size) --w.end;
  return w;
}

// Geometry of one output row in the units the inner loops use.
struct Row {
  const float* image;  // the input image, at the first channel of the block
  ptrdiff_t y0;        // input row of kernel row 0
  Window ky;
  ptrdiff_t rowStride, pixelStride, xStride, sw, dh, dw, kw, c;
};

// Computes PIXELS (1 or 2) horizontally adjacent output pixels for the 4 * BLOCKS channels
// starting at `ch`, all within c. out points at the first pixel's channel 0.
template <int PIXELS, int BLOCKS>
inline void pixelBlock(const Row& r, ptrdiff_t x0, Window kx, const float* weights, const float* bias,
                       const ActParams& act, float* out, ptrdiff_t ch) {
  v128_t acc[PIXELS][BLOCKS];
  for (int b = 0; b < BLOCKS; ++b) {
    const v128_t v = wasm_v128_load(bias + ch + 4 * b);
    for (int p = 0; p < PIXELS; ++p) acc[p][b] = v;
  }
  for (ptrdiff_t i = r.ky.begin; i < r.ky.end; ++i) {
    const float* inRow = r.image + (r.y0 + i * r.dh) * r.rowStride + ch;
    const float* wRow = weights + i * r.kw * r.c + ch;
    for (ptrdiff_t j = kx.begin; j < kx.end; ++j) {
      const float* in = inRow + (x0 + j * r.dw) * r.pixelStride;
      const float* w = wRow + j * r.c;
      for (int b = 0; b < BLOCKS; ++b) {
        const v128_t wv = wasm_v128_load(w + 4 * b);
        for (int p = 0; p < PIXELS; ++p) {
          acc[p][b] = wasm_f32x4_add(acc[p][b], wasm_f32x4_mul(wasm_v128_load(in + p * r.xStride + 4 * b), wv));
        }
      }
    }
  }

  const v128_t lo = wasm_f32x4_splat(act.a);
  const v128_t hi = wasm_f32x4_splat(act.b);
  for (int b = 0; b < BLOCKS; ++b) {
    // PRELU takes per-channel slopes; LEAKY_RELU takes act.a, which lo already holds.
    const v128_t slope = act.kind == 3 ? wasm_v128_load(act.slopes + ch + 4 * b) : lo;
    for (int p = 0; p < PIXELS; ++p) {
      float* o = out + p * r.c + ch + 4 * b;
      if (simd128::isVectorActivation(act.kind)) {
        wasm_v128_store(o, activate4(acc[p][b], act.kind, lo, hi, slope));
      } else {
        wasm_v128_store(o, acc[p][b]);
        for (int j = 0; j < 4; ++j) o[j] = activate(o[j], act, ch + 4 * b + j);
      }
    }
  }
}

// The channels past the last multiple of 4, one at a time.
inline void tailChannels(const Row& r, ptrdiff_t x0, Window kx, const float* weights, const float* bias,
                         const ActParams& act, float* out, ptrdiff_t first) {
  for (ptrdiff_t ch = first; ch < r.c; ++ch) {
    float sum = bias[ch];
    for (ptrdiff_t i = r.ky.begin; i < r.ky.end; ++i) {
      const float* inRow = r.image + (r.y0 + i * r.dh) * r.rowStride + ch;
      const float* wRow = weights + i * r.kw * r.c + ch;
      for (ptrdiff_t j = kx.begin; j < kx.end; ++j) sum += inRow[(x0 + j * r.dw) * r.pixelStride] * wRow[j * r.c];
    }
    out[ch] = activate(sum, act, ch);
  }
}

// All channels of PIXELS adjacent output pixels: blocks of 12 channels (6 accumulators
// for 2 pixels, which with the weight and input vectors fits V8's 15 usable x86-64 vector
// registers), then one block of 4 or 8, then the scalar tail.
template <int PIXELS>
inline void pixels(const Row& r, ptrdiff_t x0, Window kx, const float* weights, const float* bias,
                   const ActParams& act, float* out) {
  const ptrdiff_t vectorChannels = r.c & ~ptrdiff_t(3);
  ptrdiff_t ch = 0;
  for (; ch + 12 <= vectorChannels; ch += 12) pixelBlock<PIXELS, 3>(r, x0, kx, weights, bias, act, out, ch);
  if (vectorChannels - ch == 8) {
    pixelBlock<PIXELS, 2>(r, x0, kx, weights, bias, act, out, ch);
  } else if (vectorChannels - ch == 4) {
    pixelBlock<PIXELS, 1>(r, x0, kx, weights, bias, act, out, ch);
  }
  if (vectorChannels < r.c) {
    for (int p = 0; p < PIXELS; ++p) tailChannels(r, x0 + p * r.sw, kx, weights, bias, act, out + p * r.c, vectorChannels);
  }
}

}  // namespace

void depthwiseSimd128(const ConvGeometry& g, const float* input, const float* weights, const float* bias,
                      const ActParams& act, float* output) {
  const ptrdiff_t c = static_cast<ptrdiff_t>(g.c);
  const ptrdiff_t w = static_cast<ptrdiff_t>(g.w);
  const ptrdiff_t ow = static_cast<ptrdiff_t>(g.ow);
  const ptrdiff_t sw = static_cast<ptrdiff_t>(g.sw);
  for (int64_t n = 0; n < g.n; ++n) {
    for (int64_t oy = 0; oy < g.oh; ++oy) {
      Row r;
      r.image = input + static_cast<ptrdiff_t>(n * g.h * g.w * g.c);
      r.y0 = static_cast<ptrdiff_t>(oy * g.sh - g.padTop);
      r.ky = validTaps(r.y0, static_cast<ptrdiff_t>(g.kh), static_cast<ptrdiff_t>(g.dh), static_cast<ptrdiff_t>(g.h));
      r.rowStride = w * c;
      r.pixelStride = c;
      r.xStride = sw * c;
      r.sw = sw;
      r.dh = static_cast<ptrdiff_t>(g.dh);
      r.dw = static_cast<ptrdiff_t>(g.dw);
      r.kw = static_cast<ptrdiff_t>(g.kw);
      r.c = c;
      float* outRow = output + static_cast<ptrdiff_t>((n * g.oh + oy) * g.ow * g.c);
      ptrdiff_t ox = 0;
      while (ox < ow) {
        const ptrdiff_t x0 = ox * sw - static_cast<ptrdiff_t>(g.padLeft);
        const Window kx = validTaps(x0, r.kw, r.dw, w);
        // The windows move monotonically with x, so the next pixel shares every tap when
        // its window has the same bounds.
        if (ox + 1 < ow) {
          const Window next = validTaps(x0 + sw, r.kw, r.dw, w);
          if (next.begin == kx.begin && next.end == kx.end) {
            pixels<2>(r, x0, kx, weights, bias, act, outRow + ox * c);
            ox += 2;
            continue;
          }
        }
        pixels<1>(r, x0, kx, weights, bias, act, outRow + ox * c);
        ox += 1;
      }
    }
  }
}

}  // namespace facebits

#endif  // __wasm_simd128__

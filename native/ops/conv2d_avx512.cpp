// AVX-512F depthwise convolution, vectorised over channels (compiled with -mavx512f
// -mavx512bw -mavx512vl -mavx2 -mfma).
//
// Contract: as depthwiseAvx2 (conv2d_avx2.cpp): input NHWC [n, h, w, c], weights
// [kh][kw][c], bias [c], output NHWC [n, oh, ow, c], any alignment. The last c % 16
// channels use masked loads and stores, which never touch memory past the mask.
// Horizontally adjacent output pixels with the same valid kernel columns share each
// weight load: 2 pixels at a time, or 4 to 8 when there are 32 or fewer channels.
// Kernels 3 columns wide with stride 1 or 2 go through strip3 away from the left and right
// borders.

#include <immintrin.h>
#include <math.h>

#include "../kernels.h"
#include "conv2d_avx512.h"

// GCC 12 reports the _mm512_undefined_ps inside _mm512_max_ps as maybe-uninitialized.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

namespace facebits {

void depthwiseAvx512(const ConvGeometry& g, const float* input, const float* weights, const float* bias,
                     const ActParams& act, float* output);

namespace {

using namespace conv_avx512;


// Computes PIXELS (1, 2, 4 or 8) horizontally adjacent output pixels for the channels
// [ch, ch + 16 * BLOCKS). lastMask selects the valid lanes of the last block.
template <int PIXELS, int BLOCKS>
inline void pixelBlock(const ConvGeometry& g, const float* image, int64_t y0, Window ky, int64_t x0, Window kx,
                       const float* weights, const float* bias, const ActParams& act, float* out, int64_t ch,
                       __mmask16 lastMask) {
  // Local copies: the compiler cannot keep fields of g in registers across the stores.
  const int64_t c = g.c;
  const int64_t xStride = g.sw * c;
  const int64_t rowStride = g.dh * g.w * c;
  const int64_t tapStride = g.dw * c;
  const int64_t weightRow = g.kw * c;
  __m512 acc[PIXELS][BLOCKS];
  #pragma GCC unroll 8
  for (int b = 0; b < BLOCKS; ++b) {
    const __mmask16 m = b == BLOCKS - 1 ? lastMask : 0xffff;
    const __m512 v = _mm512_maskz_loadu_ps(m, bias + ch + 16 * b);
    #pragma GCC unroll 8
    for (int p = 0; p < PIXELS; ++p) acc[p][b] = v;
  }
  const float* row = image + (y0 + ky.begin * g.dh) * g.w * c + (x0 + kx.begin * g.dw) * c + ch;
  const float* wrow = weights + ky.begin * weightRow + kx.begin * c + ch;
  for (int64_t i = ky.begin; i < ky.end; ++i, row += rowStride, wrow += weightRow) {
    const float* in = row;
    const float* w = wrow;
    for (int64_t j = kx.begin; j < kx.end; ++j, in += tapStride, w += c) {
      #pragma GCC unroll 8
      for (int b = 0; b < BLOCKS; ++b) {
        const __mmask16 m = b == BLOCKS - 1 ? lastMask : 0xffff;
        const __m512 wv = _mm512_maskz_loadu_ps(m, w + 16 * b);
        #pragma GCC unroll 8
        for (int p = 0; p < PIXELS; ++p) {
          acc[p][b] = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, in + p * xStride + 16 * b), wv, acc[p][b]);
        }
      }
    }
  }
  activateAll<PIXELS, BLOCKS>(acc, act, act.slopes ? act.slopes + ch : nullptr, lastMask);
  #pragma GCC unroll 8
  for (int p = 0; p < PIXELS; ++p) {
    #pragma GCC unroll 8
    for (int b = 0; b < BLOCKS; ++b) {
      const __mmask16 m = b == BLOCKS - 1 ? lastMask : 0xffff;
      _mm512_mask_storeu_ps(out + p * c + ch + 16 * b, m, acc[p][b]);
    }
  }
}

template <int PIXELS>
inline void pixels(const ConvGeometry& g, const float* image, int64_t y0, Window ky, int64_t x0, Window kx,
                   const float* weights, const float* bias, const ActParams& act, float* out) {
  int64_t ch = 0;
  for (; ch + 64 <= g.c; ch += 64) pixelBlock<PIXELS, 4>(g, image, y0, ky, x0, kx, weights, bias, act, out, ch, 0xffff);
  const int64_t left = g.c - ch;
  if (left == 0) return;
  // The remaining 1 to 63 channels take one pass over the taps with up to 4 blocks.
  const int64_t tail = left % 16;
  const __mmask16 mask = tail == 0 ? 0xffff : static_cast<__mmask16>((1u << tail) - 1u);
  switch ((left + 15) / 16) {
    case 1: pixelBlock<PIXELS, 1>(g, image, y0, ky, x0, kx, weights, bias, act, out, ch, mask); break;
    case 2: pixelBlock<PIXELS, 2>(g, image, y0, ky, x0, kx, weights, bias, act, out, ch, mask); break;
    case 3: pixelBlock<PIXELS, 3>(g, image, y0, ky, x0, kx, weights, bias, act, out, ch, mask); break;
    default: pixelBlock<PIXELS, 4>(g, image, y0, ky, x0, kx, weights, bias, act, out, ch, mask); break;
  }
}

// Computes STRIP horizontally adjacent output pixels for the channels [ch, ch + 16 * BLOCKS).
// The convolution has 3 kernel columns, a horizontal stride of STRIDE (1 or 2) and no
// horizontal dilation, and all 3 columns are inside the image. Each input vector is loaded
// once and feeds every output pixel that reads it: a strip of 8 loads 10 (stride 1) or 17
// (stride 2) input vectors per kernel row instead of 24.
// MASKED (with BLOCKS == 1) limits the block to the channels in m.
template <int STRIP, int STRIDE, int BLOCKS, bool MASKED>
inline void strip3(const ConvGeometry& g, const float* image, int64_t y0, Window ky, int64_t x0,
                   const float* weights, const float* bias, const ActParams& act, float* out, int64_t ch,
                   __mmask16 m) {
  // Only the tail block (MASKED) needs masked loads.
  const auto load = [m](const float* p) { return MASKED ? _mm512_maskz_loadu_ps(m, p) : _mm512_loadu_ps(p); };
  const int64_t c = g.c;
  const int64_t rowStride = g.dh * g.w * c;
  const int64_t weightRow = 3 * c;
  __m512 acc[STRIP][BLOCKS];
  #pragma GCC unroll 4
  for (int b = 0; b < BLOCKS; ++b) {
    const __m512 start = load(bias + ch + 16 * b);
    #pragma GCC unroll 16
    for (int p = 0; p < STRIP; ++p) acc[p][b] = start;
  }
  const float* row = image + (y0 + ky.begin * g.dh) * g.w * c + x0 * c + ch;
  const float* wrow = weights + ky.begin * weightRow + ch;
  for (int64_t i = ky.begin; i < ky.end; ++i, row += rowStride, wrow += weightRow) {
    __m512 w0[BLOCKS], w1[BLOCKS], w2[BLOCKS];
    #pragma GCC unroll 4
    for (int b = 0; b < BLOCKS; ++b) {
      w0[b] = load(wrow + 16 * b);
      w1[b] = load(wrow + c + 16 * b);
      w2[b] = load(wrow + 2 * c + 16 * b);
    }
    #pragma GCC unroll 18
    for (int q = 0; q < (STRIP - 1) * STRIDE + 3; ++q) {
      #pragma GCC unroll 4
      for (int b = 0; b < BLOCKS; ++b) {
        __m512 x = load(row + q * c + 16 * b);
        // GCC otherwise folds this load into each FMA as a memory operand and loads the
        // vector three times, which makes the loop bound by loads again.
        asm("" : "+v"(x));
        // Input column q is tap t of output pixel (q - t) / STRIDE when that divides evenly.
        if (q % STRIDE == 0 && q / STRIDE < STRIP) {
          acc[q / STRIDE][b] = _mm512_fmadd_ps(x, w0[b], acc[q / STRIDE][b]);
        }
        if (q >= 1 && (q - 1) % STRIDE == 0 && (q - 1) / STRIDE < STRIP) {
          acc[(q - 1) / STRIDE][b] = _mm512_fmadd_ps(x, w1[b], acc[(q - 1) / STRIDE][b]);
        }
        if (q >= 2 && (q - 2) % STRIDE == 0 && (q - 2) / STRIDE < STRIP) {
          acc[(q - 2) / STRIDE][b] = _mm512_fmadd_ps(x, w2[b], acc[(q - 2) / STRIDE][b]);
        }
      }
    }
  }
  activateAll<STRIP, BLOCKS>(acc, act, act.slopes ? act.slopes + ch : nullptr, m);
  #pragma GCC unroll 16
  for (int p = 0; p < STRIP; ++p) {
    #pragma GCC unroll 4
    for (int b = 0; b < BLOCKS; ++b) _mm512_mask_storeu_ps(out + p * c + ch + 16 * b, m, acc[p][b]);
  }
}

// Runs strip3 over every channel block, two blocks at a time while 32 channels are left.
template <int STRIP, int STRIDE>
inline void strips(const ConvGeometry& g, const float* image, int64_t y0, Window ky, int64_t x0,
                   const float* weights, const float* bias, const ActParams& act, float* out) {
  int64_t ch = 0;
  for (; ch + 32 <= g.c; ch += 32) {
    strip3<STRIP, STRIDE, 2, false>(g, image, y0, ky, x0, weights, bias, act, out, ch, 0xffff);
  }
  for (; ch + 16 <= g.c; ch += 16) {
    strip3<STRIP, STRIDE, 1, false>(g, image, y0, ky, x0, weights, bias, act, out, ch, 0xffff);
  }
  if (ch < g.c) {
    const __mmask16 m = static_cast<__mmask16>((1u << (g.c - ch)) - 1u);
    strip3<STRIP, STRIDE, 1, true>(g, image, y0, ky, x0, weights, bias, act, out, ch, m);
  }
}

}  // namespace

void depthwiseAvx512(const ConvGeometry& g, const float* input, const float* weights, const float* bias,
                     const ActParams& act, float* output) {
  if (act.kind == 5) {
    depthwiseAvx512(g, input, weights, bias, ActParams{}, output);
    sigmoidInPlace(output, g.n * g.oh * g.ow * g.c);
    return;
  }
  for (int64_t n = 0; n < g.n; ++n) {
    const float* image = input + n * g.h * g.w * g.c;
    for (int64_t oy = 0; oy < g.oh; ++oy) {
      const int64_t y0 = oy * g.sh - g.padTop;
      const Window ky = validTaps(y0, g.kh, g.dh, g.h);
      float* outRow = output + (n * g.oh + oy) * g.ow * g.c;
      const bool slides = g.kw == 3 && (g.sw == 1 || g.sw == 2) && g.dw == 1;
      int64_t ox = 0;
      while (ox < g.ow) {
        const int64_t x0 = ox * g.sw - g.padLeft;
        if (slides && x0 >= 0) {
          // A strip of P pixels reads input columns [x0, x0 + (P - 1) * stride + 3).
          if (ox + 8 <= g.ow && x0 + 7 * g.sw + 3 <= g.w) {
            if (g.sw == 1) {
              strips<8, 1>(g, image, y0, ky, x0, weights, bias, act, outRow + ox * g.c);
            } else {
              strips<8, 2>(g, image, y0, ky, x0, weights, bias, act, outRow + ox * g.c);
            }
            ox += 8;
            continue;
          }
          if (ox + 4 <= g.ow && x0 + 3 * g.sw + 3 <= g.w) {
            if (g.sw == 1) {
              strips<4, 1>(g, image, y0, ky, x0, weights, bias, act, outRow + ox * g.c);
            } else {
              strips<4, 2>(g, image, y0, ky, x0, weights, bias, act, outRow + ox * g.c);
            }
            ox += 4;
            continue;
          }
        }
        const Window kx = validTaps(x0, g.kw, g.dw, g.w);
        // With few channels, two pixels give too few independent FMA chains to hide the
        // FMA latency, so up to 8 (16 channels) or 4 (32 channels) pixels go together.
        // Windows move monotonically with x, so equal first and last windows mean all
        // the pixels between have the same valid taps.
        int64_t wide = 2;
        if (g.c <= 16) {
          wide = 8;
        } else if (g.c <= 32) {
          wide = 4;
        }
        if (wide > 2 && ox + wide <= g.ow) {
          const Window last = validTaps(x0 + (wide - 1) * g.sw, g.kw, g.dw, g.w);
          if (last.begin == kx.begin && last.end == kx.end) {
            if (wide == 8) {
              pixels<8>(g, image, y0, ky, x0, kx, weights, bias, act, outRow + ox * g.c);
            } else {
              pixels<4>(g, image, y0, ky, x0, kx, weights, bias, act, outRow + ox * g.c);
            }
            ox += wide;
            continue;
          }
        }
        if (ox + 1 < g.ow) {
          const Window next = validTaps(x0 + g.sw, g.kw, g.dw, g.w);
          if (next.begin == kx.begin && next.end == kx.end) {
            pixels<2>(g, image, y0, ky, x0, kx, weights, bias, act, outRow + ox * g.c);
            ox += 2;
            continue;
          }
        }
        pixels<1>(g, image, y0, ky, x0, kx, weights, bias, act, outRow + ox * g.c);
        ox += 1;
      }
    }
  }
}

}  // namespace facebits

// AVX-512F direct convolution for inputs with at most kDirectConvMaxChannels channels
// (compiled with -mavx512f -mavx512bw -mavx512vl -mavx2 -mfma).
//
// Contract: DirectConvFn in kernels.h. Input NHWC [n, h, w, c], weights
// [kh][kw][c][oc rounded up to 16], bias [oc], output NHWC [n, oh, ow, oc], any alignment.
// Each input value is broadcast once per output pixel and tap, and multiplied into up to
// four 16-channel weight vectors. Adjacent output pixels with the same valid kernel
// columns go together (6 or 8 at a time) so each weight load serves several FMAs.

#include <immintrin.h>
#include <math.h>

#include "../kernels.h"
#include "conv2d_avx512.h"

// GCC 12 reports the _mm512_undefined_ps inside _mm512_max_ps as maybe-uninitialized.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

namespace facebits {

void directConvAvx512(const ConvGeometry& g, const float* input, const float* weights, const float* bias,
                      const ActParams& act, const PackedMatrix* post, const ActParams& postAct, float* output);

namespace {

using namespace conv_avx512;


// Applies the fused 1x1 convolution (DirectConvFn's post) to PIXELS pixels of at most 16
// channels and stores post.n floats per pixel, stride floats apart.
template <int PIXELS>
inline void storePointwise(__m512 (&acc)[PIXELS][1], const PackedMatrix& post, const ActParams& postAct, float* out,
                           int64_t stride) {
  alignas(64) float values[PIXELS][16];
  #pragma GCC unroll 8
  for (int p = 0; p < PIXELS; ++p) _mm512_store_ps(values[p], acc[p][0]);
  __m512 result[PIXELS][1];
  const __m512 bias = _mm512_load_ps(post.bias);
  #pragma GCC unroll 8
  for (int p = 0; p < PIXELS; ++p) result[p][0] = bias;
  for (int64_t k = 0; k < post.k; ++k) {
    const __m512 w = _mm512_load_ps(post.panels + k * 16);
    #pragma GCC unroll 8
    for (int p = 0; p < PIXELS; ++p) result[p][0] = _mm512_fmadd_ps(_mm512_set1_ps(values[p][k]), w, result[p][0]);
  }
  const __mmask16 mask = static_cast<__mmask16>((1u << post.n) - 1u);
  activateAll<PIXELS, 1>(result, postAct, post.slopes, mask);
  #pragma GCC unroll 8
  for (int p = 0; p < PIXELS; ++p) _mm512_mask_storeu_ps(out + p * stride, mask, result[p][0]);
}

// Computes PIXELS horizontally adjacent output pixels, all BLOCKS * 16 (padded) channels,
// and stores them, or the result of post when it is set and BLOCKS is 1.
template <int PIXELS, int BLOCKS>
inline void pixelBlock(const ConvGeometry& g, const float* image, int64_t y0, Window ky, int64_t x0, Window kx,
                       const float* weights, const float* bias, const ActParams& act, const PackedMatrix* post,
                       const ActParams& postAct, float* out, __mmask16 lastMask) {
  // Local copies: the compiler cannot keep fields of g in registers across the stores.
  const int64_t c = g.c;
  const int64_t paddedOc = BLOCKS * 16;
  const int64_t xStride = g.sw * c;
  const int64_t rowStride = g.dh * g.w * c;
  const int64_t tapStride = g.dw * c;
  __m512 acc[PIXELS][BLOCKS];
  #pragma GCC unroll 8
  for (int b = 0; b < BLOCKS; ++b) {
    const __mmask16 m = b == BLOCKS - 1 ? lastMask : 0xffff;
    const __m512 v = _mm512_maskz_loadu_ps(m, bias + 16 * b);
    #pragma GCC unroll 8
    for (int p = 0; p < PIXELS; ++p) acc[p][b] = v;
  }
  // The valid taps of one kernel row are consecutive (kx, ci) pairs. Without horizontal
  // dilation they are also consecutive floats of the input row, so one loop covers them.
  const int64_t runs = g.dw == 1 ? 1 : kx.end - kx.begin;
  const int64_t runLength = g.dw == 1 ? (kx.end - kx.begin) * c : c;
  const float* row = image + (y0 + ky.begin * g.dh) * g.w * c + (x0 + kx.begin * g.dw) * c;
  for (int64_t i = ky.begin; i < ky.end; ++i, row += rowStride) {
    const float* in = row;
    const float* w = weights + (i * g.kw + kx.begin) * c * paddedOc;
    for (int64_t run = 0; run < runs; ++run, in += tapStride, w += c * paddedOc) {
      for (int64_t t = 0; t < runLength; ++t) {
        __m512 wv[BLOCKS];
        #pragma GCC unroll 8
        for (int b = 0; b < BLOCKS; ++b) wv[b] = _mm512_loadu_ps(w + t * paddedOc + 16 * b);
        #pragma GCC unroll 8
        for (int p = 0; p < PIXELS; ++p) {
          const __m512 x = _mm512_set1_ps(in[p * xStride + t]);
          #pragma GCC unroll 8
          for (int b = 0; b < BLOCKS; ++b) acc[p][b] = _mm512_fmadd_ps(x, wv[b], acc[p][b]);
        }
      }
    }
  }
  activateAll<PIXELS, BLOCKS>(acc, act, act.slopes ? act.slopes : nullptr, lastMask);
  if constexpr (BLOCKS == 1) {
    if (post) {
      storePointwise<PIXELS>(acc, *post, postAct, out, post->n);
      return;
    }
  }
  #pragma GCC unroll 8
  for (int p = 0; p < PIXELS; ++p) {
    #pragma GCC unroll 8
    for (int b = 0; b < BLOCKS; ++b) {
      const __mmask16 m = b == BLOCKS - 1 ? lastMask : 0xffff;
      _mm512_mask_storeu_ps(out + p * g.oc + 16 * b, m, acc[p][b]);
    }
  }
}

// Whether the `count` pixels from x0 on share the valid taps kx. Windows move monotonically
// with x, so equal first and last windows mean all the pixels between have the same taps.
inline bool sameTaps(const ConvGeometry& g, int64_t ox, int64_t x0, Window kx, int64_t count) {
  if (ox + count > g.ow) return false;
  const Window last = validTaps(x0 + (count - 1) * g.sw, g.kw, g.dw, g.w);
  return last.begin == kx.begin && last.end == kx.end;
}

// Runs one output row: runs of WIDE pixels that share their valid taps, then runs of 4 and
// 2, and single pixels at the borders. With one block a single pixel is one FMA chain, four
// times slower per pixel than four chains, so the 2 to 7 pixels left at the end of a row go
// in runs of 4 and 2.
template <int WIDE, int BLOCKS>
void outputRow(const ConvGeometry& g, const float* image, int64_t y0, Window ky, const float* weights,
               const float* bias, const ActParams& act, const PackedMatrix* post, const ActParams& postAct,
               float* outRow, __mmask16 lastMask) {
  const int64_t outChannels = post ? post->n : g.oc;
  int64_t ox = 0;
  while (ox < g.ow) {
    const int64_t x0 = ox * g.sw - g.padLeft;
    const Window kx = validTaps(x0, g.kw, g.dw, g.w);
    float* out = outRow + ox * outChannels;
    if (sameTaps(g, ox, x0, kx, WIDE)) {
      pixelBlock<WIDE, BLOCKS>(g, image, y0, ky, x0, kx, weights, bias, act, post, postAct, out, lastMask);
      ox += WIDE;
      continue;
    }
    if (sameTaps(g, ox, x0, kx, 4)) {
      pixelBlock<4, BLOCKS>(g, image, y0, ky, x0, kx, weights, bias, act, post, postAct, out, lastMask);
      ox += 4;
      continue;
    }
    if (sameTaps(g, ox, x0, kx, 2)) {
      pixelBlock<2, BLOCKS>(g, image, y0, ky, x0, kx, weights, bias, act, post, postAct, out, lastMask);
      ox += 2;
      continue;
    }
    pixelBlock<1, BLOCKS>(g, image, y0, ky, x0, kx, weights, bias, act, post, postAct, out, lastMask);
    ox += 1;
  }
}

}  // namespace

void directConvAvx512(const ConvGeometry& g, const float* input, const float* weights, const float* bias,
                      const ActParams& act, const PackedMatrix* post, const ActParams& postAct, float* output) {
  if (act.kind == 5) {
    directConvAvx512(g, input, weights, bias, ActParams{}, nullptr, ActParams{}, output);
    sigmoidInPlace(output, g.n * g.oh * g.ow * g.oc);
    return;
  }
  const int64_t blocks = (g.oc + 15) / 16;
  const int64_t tail = g.oc % 16;
  const __mmask16 lastMask = tail == 0 ? 0xffff : static_cast<__mmask16>((1u << tail) - 1u);
  const int64_t outChannels = post ? post->n : g.oc;
  for (int64_t n = 0; n < g.n; ++n) {
    const float* image = input + n * g.h * g.w * g.c;
    for (int64_t oy = 0; oy < g.oh; ++oy) {
      const int64_t y0 = oy * g.sh - g.padTop;
      const Window ky = validTaps(y0, g.kh, g.dh, g.h);
      float* outRow = output + (n * g.oh + oy) * g.ow * outChannels;
      // Accumulators: pixels x blocks, at most 24 of the 32 ZMM registers.
      switch (blocks) {
        case 1: outputRow<8, 1>(g, image, y0, ky, weights, bias, act, post, postAct, outRow, lastMask); break;
        case 2: outputRow<8, 2>(g, image, y0, ky, weights, bias, act, nullptr, postAct, outRow, lastMask); break;
        case 3: outputRow<6, 3>(g, image, y0, ky, weights, bias, act, nullptr, postAct, outRow, lastMask); break;
        default: outputRow<6, 4>(g, image, y0, ky, weights, bias, act, nullptr, postAct, outRow, lastMask); break;
      }
    }
  }
}

}  // namespace facebits

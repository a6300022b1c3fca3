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

// GCC 12 reports the _mm512_undefined_ps inside _mm512_max_ps as maybe-uninitialized.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

namespace facebits {

void directConvAvx512(const ConvGeometry& g, const float* input, const float* weights, const float* bias,
                      const ActParams& act, float* output);

namespace {

inline __m512 activate16(__m512 x, const ActParams& act, const float* slopes, __mmask16 mask) {
  const __m512 zero = _mm512_setzero_ps();
  switch (act.kind) {
    case 1: return _mm512_max_ps(x, zero);
    case 2: return _mm512_min_ps(_mm512_max_ps(x, _mm512_set1_ps(act.a)), _mm512_set1_ps(act.b));
    case 3: {
      const __mmask16 negative = _mm512_cmp_ps_mask(x, zero, _CMP_LT_OQ);
      return _mm512_mask_mul_ps(x, negative, x, _mm512_maskz_loadu_ps(mask, slopes));
    }
    case 4: {
      const __mmask16 negative = _mm512_cmp_ps_mask(x, zero, _CMP_LT_OQ);
      return _mm512_mask_mul_ps(x, negative, x, _mm512_set1_ps(act.a));
    }
    case 5: {
      alignas(64) float v[16];
      _mm512_store_ps(v, x);
      for (int i = 0; i < 16; ++i) v[i] = 1.0f / (1.0f + expf(-v[i]));
      return _mm512_load_ps(v);
    }
    default: return x;
  }
}

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

// Computes PIXELS horizontally adjacent output pixels, all BLOCKS * 16 (padded) channels.
template <int PIXELS, int BLOCKS>
inline void pixelBlock(const ConvGeometry& g, const float* image, int64_t y0, Window ky, int64_t x0, Window kx,
                       const float* weights, const float* bias, const ActParams& act, float* out,
                       __mmask16 lastMask) {
  const int64_t c = g.c;
  const int64_t paddedOc = BLOCKS * 16;
  const int64_t xStride = g.sw * c;
  __m512 acc[PIXELS][BLOCKS];
  for (int b = 0; b < BLOCKS; ++b) {
    const __mmask16 m = b == BLOCKS - 1 ? lastMask : 0xffff;
    const __m512 v = _mm512_maskz_loadu_ps(m, bias + 16 * b);
    for (int p = 0; p < PIXELS; ++p) acc[p][b] = v;
  }
  for (int64_t i = ky.begin; i < ky.end; ++i) {
    const float* row = image + (y0 + i * g.dh) * g.w * c;
    for (int64_t j = kx.begin; j < kx.end; ++j) {
      const float* in = row + (x0 + j * g.dw) * c;
      const float* w = weights + (i * g.kw + j) * c * paddedOc;
      for (int64_t ci = 0; ci < c; ++ci) {
        __m512 wv[BLOCKS];
        for (int b = 0; b < BLOCKS; ++b) wv[b] = _mm512_loadu_ps(w + ci * paddedOc + 16 * b);
        for (int p = 0; p < PIXELS; ++p) {
          const __m512 x = _mm512_set1_ps(in[p * xStride + ci]);
          for (int b = 0; b < BLOCKS; ++b) acc[p][b] = _mm512_fmadd_ps(x, wv[b], acc[p][b]);
        }
      }
    }
  }
  for (int p = 0; p < PIXELS; ++p) {
    for (int b = 0; b < BLOCKS; ++b) {
      const __mmask16 m = b == BLOCKS - 1 ? lastMask : 0xffff;
      const float* s = act.slopes ? act.slopes + 16 * b : nullptr;
      _mm512_mask_storeu_ps(out + p * g.oc + 16 * b, m, activate16(acc[p][b], act, s, m));
    }
  }
}

// Runs one output row: runs of WIDE pixels that share their valid taps, single pixels at
// the borders.
template <int WIDE, int BLOCKS>
void outputRow(const ConvGeometry& g, const float* image, int64_t y0, Window ky, const float* weights,
               const float* bias, const ActParams& act, float* outRow, __mmask16 lastMask) {
  int64_t ox = 0;
  while (ox < g.ow) {
    const int64_t x0 = ox * g.sw - g.padLeft;
    const Window kx = validTaps(x0, g.kw, g.dw, g.w);
    // Windows move monotonically with x, so equal first and last windows mean all the
    // pixels between have the same valid taps.
    if (ox + WIDE <= g.ow) {
      const Window last = validTaps(x0 + (WIDE - 1) * g.sw, g.kw, g.dw, g.w);
      if (last.begin == kx.begin && last.end == kx.end) {
        pixelBlock<WIDE, BLOCKS>(g, image, y0, ky, x0, kx, weights, bias, act, outRow + ox * g.oc, lastMask);
        ox += WIDE;
        continue;
      }
    }
    pixelBlock<1, BLOCKS>(g, image, y0, ky, x0, kx, weights, bias, act, outRow + ox * g.oc, lastMask);
    ox += 1;
  }
}

}  // namespace

void directConvAvx512(const ConvGeometry& g, const float* input, const float* weights, const float* bias,
                      const ActParams& act, float* output) {
  const int64_t blocks = (g.oc + 15) / 16;
  const int64_t tail = g.oc % 16;
  const __mmask16 lastMask = tail == 0 ? 0xffff : static_cast<__mmask16>((1u << tail) - 1u);
  for (int64_t n = 0; n < g.n; ++n) {
    const float* image = input + n * g.h * g.w * g.c;
    for (int64_t oy = 0; oy < g.oh; ++oy) {
      const int64_t y0 = oy * g.sh - g.padTop;
      const Window ky = validTaps(y0, g.kh, g.dh, g.h);
      float* outRow = output + (n * g.oh + oy) * g.ow * g.oc;
      // Accumulators: pixels x blocks, at most 24 of the 32 ZMM registers.
      switch (blocks) {
        case 1: outputRow<8, 1>(g, image, y0, ky, weights, bias, act, outRow, lastMask); break;
        case 2: outputRow<8, 2>(g, image, y0, ky, weights, bias, act, outRow, lastMask); break;
        case 3: outputRow<6, 3>(g, image, y0, ky, weights, bias, act, outRow, lastMask); break;
        default: outputRow<6, 4>(g, image, y0, ky, weights, bias, act, outRow, lastMask); break;
      }
    }
  }
}

}  // namespace facebits

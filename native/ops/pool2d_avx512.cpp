// AVX-512F max and average pooling, vectorised over channels (compiled with -mavx512f
// -mavx512bw -mavx512vl -mavx2 -mfma).
//
// Contract: as poolScalar in pool2d.cpp. Any alignment; the last c % 16 channels use
// masked loads and stores. Up to 4 channel blocks of one output pixel are reduced at once,
// each into two accumulators that take alternate columns of the window, so a 2x2 window is
// two dependent max or add steps instead of four. MAXPS returns its second operand when either
// is NaN, so the max takes the accumulator second (a NaN in it stays) and lanes with a NaN
// input take that input.

#include <immintrin.h>

#include "../kernels.h"

// GCC 12 reports the undefined merge operand inside its AVX-512 max and min intrinsics as
// maybe-uninitialized.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

namespace facebits {

void poolAvx512(const PoolGeometry& g, const float* input, float* output);

namespace {

struct Cells {
  int64_t yBegin, yEnd, xBegin, xEnd;
};

// Reduces the window cells of one pixel for the channels [ch, ch + 16 * BLOCKS) into out.
// lastMask selects the valid lanes of the last block.
// Inlined, like reducePixel: as calls, their 32-byte Cells argument went through the stack
// with a store-forwarding stall, and each call paid a vzeroupper.
template <bool IS_MAX, int BLOCKS>
__attribute__((always_inline)) inline void reduceBlocks(const PoolGeometry& g, const float* image, const Cells& cells,
                                                        float scale, float* out, int64_t ch, __mmask16 lastMask) {
  const __m512 start = IS_MAX ? _mm512_set1_ps(-__builtin_inff()) : _mm512_setzero_ps();
  __m512 even[BLOCKS], odd[BLOCKS];
  #pragma GCC unroll 4
  for (int b = 0; b < BLOCKS; ++b) {
    even[b] = start;
    odd[b] = start;
  }
  const auto combine = [](__m512 acc, __m512 v) {
    if (!IS_MAX) return _mm512_add_ps(acc, v);
    return _mm512_mask_max_ps(v, _mm512_cmp_ps_mask(v, v, _CMP_ORD_Q), v, acc);
  };
  for (int64_t y = cells.yBegin; y < cells.yEnd; ++y) {
    const float* row = image + y * g.w * g.c + ch;
    int64_t x = cells.xBegin;
    for (; x + 1 < cells.xEnd; x += 2) {
      const float* p = row + x * g.c;
      #pragma GCC unroll 4
      for (int b = 0; b < BLOCKS; ++b) {
        // Masked-off lanes load as 0; they are never stored.
        const __mmask16 m = b == BLOCKS - 1 ? lastMask : 0xffff;
        even[b] = combine(even[b], _mm512_maskz_loadu_ps(m, p + 16 * b));
        odd[b] = combine(odd[b], _mm512_maskz_loadu_ps(m, p + g.c + 16 * b));
      }
    }
    if (x < cells.xEnd) {
      const float* p = row + x * g.c;
      #pragma GCC unroll 4
      for (int b = 0; b < BLOCKS; ++b) {
        even[b] = combine(even[b], _mm512_maskz_loadu_ps(b == BLOCKS - 1 ? lastMask : 0xffff, p + 16 * b));
      }
    }
  }
  #pragma GCC unroll 4
  for (int b = 0; b < BLOCKS; ++b) {
    __m512 v = combine(even[b], odd[b]);
    if (!IS_MAX) v = _mm512_mul_ps(v, _mm512_set1_ps(scale));
    _mm512_mask_storeu_ps(out + ch + 16 * b, b == BLOCKS - 1 ? lastMask : 0xffff, v);
  }
}

template <bool IS_MAX>
__attribute__((always_inline)) inline void reducePixel(const PoolGeometry& g, const float* image, const Cells& cells,
                                                       float scale, float* out) {
  int64_t ch = 0;
  for (; ch + 64 <= g.c; ch += 64) reduceBlocks<IS_MAX, 4>(g, image, cells, scale, out, ch, 0xffff);
  const int64_t left = g.c - ch;
  if (left == 0) return;
  const int64_t tail = left % 16;
  const __mmask16 mask = tail == 0 ? 0xffff : static_cast<__mmask16>((1u << tail) - 1u);
  switch ((left + 15) / 16) {
    case 1: reduceBlocks<IS_MAX, 1>(g, image, cells, scale, out, ch, mask); break;
    case 2: reduceBlocks<IS_MAX, 2>(g, image, cells, scale, out, ch, mask); break;
    case 3: reduceBlocks<IS_MAX, 3>(g, image, cells, scale, out, ch, mask); break;
    default: reduceBlocks<IS_MAX, 4>(g, image, cells, scale, out, ch, mask); break;
  }
}

template <bool IS_MAX>
void pool(const PoolGeometry& g, const float* input, float* output) {
  if (g.global) {
    for (int64_t n = 0; n < g.n; ++n) {
      reducePixel<IS_MAX>(g, input + n * g.h * g.w * g.c, Cells{0, g.h, 0, g.w},
                          1.0f / static_cast<float>(g.h * g.w), output + n * g.c);
    }
    return;
  }
  for (int64_t n = 0; n < g.n; ++n) {
    const float* image = input + n * g.h * g.w * g.c;
    for (int64_t oy = 0; oy < g.oh; ++oy) {
      const int64_t y0 = oy * g.sh - g.padTop;
      const int64_t yBegin = y0 < 0 ? 0 : y0;
      const int64_t yEnd = y0 + g.kh > g.h ? g.h : y0 + g.kh;
      for (int64_t ox = 0; ox < g.ow; ++ox) {
        const int64_t x0 = ox * g.sw - g.padLeft;
        const int64_t xBegin = x0 < 0 ? 0 : x0;
        const int64_t xEnd = x0 + g.kw > g.w ? g.w : x0 + g.kw;
        int64_t cells = g.countIncludePad ? g.kh * g.kw : (yEnd - yBegin) * (xEnd - xBegin);
        if (cells < 1) cells = 1;
        reducePixel<IS_MAX>(g, image, Cells{yBegin, yEnd, xBegin, xEnd}, 1.0f / static_cast<float>(cells),
                            output + ((n * g.oh + oy) * g.ow + ox) * g.c);
      }
    }
  }
}

}  // namespace

void poolAvx512(const PoolGeometry& g, const float* input, float* output) {
  if (g.kind == 0) {
    pool<true>(g, input, output);
  } else {
    pool<false>(g, input, output);
  }
}

}  // namespace facebits

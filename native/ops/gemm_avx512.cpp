// AVX-512F GEMM micro-kernel over packed panels (compiled with -mavx512f -mavx512bw
// -mavx512vl -mfma).
//
// Contract: as gemmScalar in gemm.cpp. Panels are read with aligned 512-bit loads
// (64-byte aligned, 16 floats per k), A with broadcasts, C with masked unaligned stores
// so a partial last panel never writes past column n.
// Register blocking: 6 rows x 64 columns = 24 ZMM accumulators for full groups of four
// panels when K <= 256, else up to 8 rows x 32 columns = 16 accumulators. B with at
// most 4 columns runs as dot products along K instead (narrowGemm).

#include <immintrin.h>

// GCC 12 reports the _mm512_undefined_ps inside _mm512_max_ps as maybe-uninitialized.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

#include "../kernels.h"
#include "conv2d_avx512.h"

namespace facebits {

void gemmAvx512(int64_t rows, const float* a, int64_t lda, const PackedMatrix& b, const ActParams& act, float* c,
                int64_t ldc);

namespace {

// Up to 8 rows x 32 columns (two panels): 16 ZMM accumulators, 2 panel loads and 8
// embedded broadcasts per k, so the loop issues fewer loads than FMAs.
constexpr int64_t kTileRows = 8;
constexpr int64_t kBlockRows = 96;

using conv_avx512::activate16;

struct TileArgs {
  int64_t depth;
  const float* a;
  int64_t lda;
  const float* panel0;
  const float* panel1;  // the next panel when the tile is 32 columns wide
  const float* bias;    // 16 or 32 floats
  const float* slopes;  // like bias, for PRELU
  float* c;
  int64_t ldc;
  __mmask16 mask0, mask1;
};

// Arguments of wideTile: four full panels, 64 consecutive columns of C.
struct WideArgs {
  int64_t depth;
  const float* a;
  int64_t lda;
  const float* panel;  // the first of four panels
  int64_t panelFloats;
  const float* bias;
  const float* slopes;
  float* c;
  int64_t ldc;
};
constexpr int64_t kWideRows = 6;
constexpr int64_t kWideMaxDepth = 256;

template <int MR, int NP>
void tile(const TileArgs& t, const ActParams& act) {
  __m512 acc0[MR], acc1[MR];
  const __m512 bias0 = _mm512_load_ps(t.bias);
  const __m512 bias1 = NP == 2 ? _mm512_load_ps(t.bias + 16) : bias0;
  for (int r = 0; r < MR; ++r) {
    acc0[r] = bias0;
    if (NP == 2) acc1[r] = bias1;
  }
  const float* a = t.a;
  const int64_t lda = t.lda;
  for (int64_t k = 0; k < t.depth; ++k) {
    const __m512 w0 = _mm512_load_ps(t.panel0 + k * 16);
    const __m512 w1 = NP == 2 ? _mm512_load_ps(t.panel1 + k * 16) : w0;
    for (int r = 0; r < MR; ++r) {
      const __m512 x = _mm512_set1_ps(a[r * lda + k]);
      acc0[r] = _mm512_fmadd_ps(x, w0, acc0[r]);
      if (NP == 2) acc1[r] = _mm512_fmadd_ps(x, w1, acc1[r]);
    }
  }
  if (act.kind != 0 && act.kind != 5) {
    const __m512 lo = _mm512_set1_ps(act.a);
    const __m512 hi = _mm512_set1_ps(act.b);
    const __m512 slope0 = act.kind == 3 ? _mm512_load_ps(t.slopes) : lo;
    const __m512 slope1 = act.kind == 3 && NP == 2 ? _mm512_load_ps(t.slopes + 16) : slope0;
    for (int r = 0; r < MR; ++r) {
      acc0[r] = activate16(acc0[r], act.kind, lo, hi, slope0);
      if (NP == 2) acc1[r] = activate16(acc1[r], act.kind, lo, hi, slope1);
    }
  }
  for (int r = 0; r < MR; ++r) {
    _mm512_mask_storeu_ps(t.c + r * t.ldc, t.mask0, acc0[r]);
    if (NP == 2) _mm512_mask_storeu_ps(t.c + r * t.ldc + 16, t.mask1, acc1[r]);
  }
}

// MR rows x 64 columns (four panels): 4 panel loads and MR broadcasts feed 4 * MR FMAs,
// about half the loads per FMA of the two-panel tile.
template <int MR>
void wideTile(const WideArgs& t, const ActParams& act) {
  __m512 acc[MR][4];
  #pragma GCC unroll 4
  for (int p = 0; p < 4; ++p) {
    const __m512 bias = _mm512_load_ps(t.bias + 16 * p);
    #pragma GCC unroll 8
    for (int r = 0; r < MR; ++r) acc[r][p] = bias;
  }
  const float* a = t.a;
  const int64_t lda = t.lda;
  const float* panel = t.panel;
  const int64_t panelFloats = t.panelFloats;
  for (int64_t k = 0; k < t.depth; ++k, panel += 16) {
    __m512 w[4];
    #pragma GCC unroll 4
    for (int p = 0; p < 4; ++p) w[p] = _mm512_load_ps(panel + p * panelFloats);
    #pragma GCC unroll 8
    for (int r = 0; r < MR; ++r) {
      const __m512 x = _mm512_set1_ps(a[r * lda + k]);
      #pragma GCC unroll 4
      for (int p = 0; p < 4; ++p) acc[r][p] = _mm512_fmadd_ps(x, w[p], acc[r][p]);
    }
  }
  if (act.kind != 0 && act.kind != 5) {
    const __m512 lo = _mm512_set1_ps(act.a);
    const __m512 hi = _mm512_set1_ps(act.b);
    #pragma GCC unroll 4
    for (int p = 0; p < 4; ++p) {
      const __m512 slope = act.kind == 3 ? _mm512_load_ps(t.slopes + 16 * p) : lo;
      #pragma GCC unroll 8
      for (int r = 0; r < MR; ++r) acc[r][p] = activate16(acc[r][p], act.kind, lo, hi, slope);
    }
  }
  #pragma GCC unroll 8
  for (int r = 0; r < MR; ++r) {
    #pragma GCC unroll 4
    for (int p = 0; p < 4; ++p) _mm512_storeu_ps(t.c + r * t.ldc + 16 * p, acc[r][p]);
  }
}

using WideFn = void (*)(const WideArgs&, const ActParams&);

const WideFn kWideTiles[kWideRows + 1] = {nullptr, wideTile<1>, wideTile<2>, wideTile<3>, wideTile<4>, wideTile<5>, wideTile<6>};

using TileFn = void (*)(const TileArgs&, const ActParams&);

const TileFn kTiles[2][kTileRows + 1] = {
    {nullptr, tile<1, 1>, tile<2, 1>, tile<3, 1>, tile<4, 1>, tile<5, 1>, tile<6, 1>, tile<7, 1>, tile<8, 1>},
    {nullptr, tile<1, 2>, tile<2, 2>, tile<3, 2>, tile<4, 2>, tile<5, 2>, tile<6, 2>, tile<7, 2>, tile<8, 2>},
};

__mmask16 columnMask(int64_t columns) {
  if (columns >= 16) return 0xffff;
  if (columns <= 0) return 0;
  return static_cast<__mmask16>((1u << columns) - 1u);
}

// Narrow GEMM: at most kDotMaxColumns columns, such as a detector's score and box heads.
// A 16-column panel would leave most FMA lanes idle, so each output is instead a dot
// product along K: 16 floats of A per load, reduced across lanes at the end. columns
// holds the weights of column n at [n * depth, (n + 1) * depth).
constexpr int64_t kDotMaxColumns = 4;
constexpr int64_t kDotMaxDepth = 1024;
constexpr int64_t kDotRows = 4;

template <int N>
void dotRows(int64_t rows, const float* a, int64_t lda, const float* columns, int64_t depth, const PackedMatrix& b,
             const ActParams& act, float* c, int64_t ldc) {
  const int64_t tail = depth % 16;
  const __mmask16 tailMask = static_cast<__mmask16>((1u << tail) - 1u);
  const int64_t body = depth - tail;
  for (int64_t m = 0; m < rows; m += kDotRows) {
    const int64_t count = rows - m < kDotRows ? rows - m : kDotRows;
    __m512 acc[kDotRows][N];
    #pragma GCC unroll 4
    for (int r = 0; r < kDotRows; ++r) {
      #pragma GCC unroll 4
      for (int n = 0; n < N; ++n) acc[r][n] = _mm512_setzero_ps();
    }
    // Rows past count repeat the last row, so the loop body has no branches.
    const float* rowPointers[kDotRows];
    for (int r = 0; r < kDotRows; ++r) rowPointers[r] = a + (m + (r < count ? r : count - 1)) * lda;
    for (int64_t k = 0; k < depth; k += 16) {
      const __mmask16 mask = k < body ? 0xffff : tailMask;
      __m512 w[N];
      #pragma GCC unroll 4
      for (int n = 0; n < N; ++n) w[n] = _mm512_maskz_loadu_ps(mask, columns + n * depth + k);
      #pragma GCC unroll 4
      for (int r = 0; r < kDotRows; ++r) {
        const __m512 x = _mm512_maskz_loadu_ps(mask, rowPointers[r] + k);
        #pragma GCC unroll 4
        for (int n = 0; n < N; ++n) acc[r][n] = _mm512_fmadd_ps(x, w[n], acc[r][n]);
      }
    }
    for (int64_t r = 0; r < count; ++r) {
      for (int n = 0; n < N; ++n) {
        float v = _mm512_reduce_add_ps(acc[r][n]) + b.bias[n];
        switch (act.kind) {
          case 1: v = v > 0.0f ? v : 0.0f; break;
          case 2: v = v < act.a ? act.a : (v > act.b ? act.b : v); break;
          case 3: v = v >= 0.0f ? v : v * b.slopes[n]; break;
          case 4: v = v >= 0.0f ? v : v * act.a; break;
          default: break;
        }
        c[(m + r) * ldc + n] = v;
      }
    }
  }
}

// Runs dotRows when B is narrow and shallow enough, and returns whether it did.
bool narrowGemm(int64_t rows, const float* a, int64_t lda, const PackedMatrix& b, const ActParams& act, float* c,
                int64_t ldc) {
  if (b.n > kDotMaxColumns || b.k > kDotMaxDepth) return false;
  alignas(64) float columns[kDotMaxColumns * kDotMaxDepth];
  for (int64_t n = 0; n < b.n; ++n)
    for (int64_t k = 0; k < b.k; ++k) columns[n * b.k + k] = b.panels[k * 16 + n];
  switch (b.n) {
    case 1: dotRows<1>(rows, a, lda, columns, b.k, b, act, c, ldc); break;
    case 2: dotRows<2>(rows, a, lda, columns, b.k, b, act, c, ldc); break;
    case 3: dotRows<3>(rows, a, lda, columns, b.k, b, act, c, ldc); break;
    default: dotRows<4>(rows, a, lda, columns, b.k, b, act, c, ldc); break;
  }
  return true;
}

}  // namespace

void gemmAvx512(int64_t rows, const float* a, int64_t lda, const PackedMatrix& b, const ActParams& act, float* c,
                int64_t ldc) {
  if (narrowGemm(rows, a, lda, b, act, c, ldc)) return;
  const int64_t panelFloats = b.k * 16;
  // Panels whose 16 columns all exist in C.
  const int64_t fullPanels = b.n / 16;
  // Four panels of depth 256 fill 64 KiB, about what L1 and the nearest part of L2 serve
  // at full speed while the rows of a block stream past them.
  // NOTE: the limit of 256 comes from one CPU with a 48 KiB L1. There, K of 64 to 256
  // gained, and MobileFaceNet's K = 512 layer gained nothing in one whole-model run.
  const bool useWide = b.k <= kWideMaxDepth;
  for (int64_t block = 0; block < rows; block += kBlockRows) {
    const int64_t blockEnd = block + kBlockRows < rows ? block + kBlockRows : rows;
    int64_t p = 0;
    if (useWide) {
      for (; p + 4 <= fullPanels; p += 4) {
        WideArgs t{b.k, nullptr, lda, b.panels + p * panelFloats, panelFloats, b.bias + p * 16,
                   b.slopes ? b.slopes + p * 16 : nullptr, nullptr, ldc};
        for (int64_t m = block; m < blockEnd; m += kWideRows) {
          const int64_t count = blockEnd - m < kWideRows ? blockEnd - m : kWideRows;
          t.a = a + m * lda;
          t.c = c + m * ldc + p * 16;
          kWideTiles[count](t, act);
        }
      }
    }
    for (; p < b.panelCount; p += 2) {
      const int np = p + 1 < b.panelCount ? 2 : 1;
      const int64_t column = p * 16;
      TileArgs t;
      t.depth = b.k;
      t.lda = lda;
      t.ldc = ldc;
      t.panel0 = b.panels + p * panelFloats;
      t.panel1 = np == 2 ? t.panel0 + panelFloats : nullptr;
      t.bias = b.bias + column;
      t.slopes = b.slopes ? b.slopes + column : nullptr;
      t.mask0 = columnMask(b.n - column);
      t.mask1 = columnMask(b.n - column - 16);
      for (int64_t m = block; m < blockEnd; m += kTileRows) {
        const int64_t count = blockEnd - m < kTileRows ? blockEnd - m : kTileRows;
        t.a = a + m * lda;
        t.c = c + m * ldc + column;
        kTiles[np - 1][count](t, act);
      }
    }
  }
}

}  // namespace facebits

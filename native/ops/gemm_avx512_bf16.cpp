// AVX-512 BF16 GEMM (VDPBF16PS), for CPUs that have AVX512_BF16 but no usable AMX tiles,
// such as AMD Zen 4 and Intel Cooper Lake (compiled with -mavx512f -mavx512bw -mavx512vl
// -mavx512bf16). Without those flags this file only defines avx512Bf16Gemm(), which then
// returns nullptr.
//
// Contract: as the AMX GEMM in gemm_amx.cpp. B is read from b.tiles (see packTilesBf16) and
// A is rounded to bfloat16 (nearest even) before the products.
//   A tile row contains 16 pairs, one per column: B[2p][n] and B[2p + 1][n]. That is the B
//   operand of VDPBF16PS as it is, so the rows of one 16-column tile, taken over all depth
//   steps, form a panel of depth / 2 vectors.
//   VDPBF16PS adds both products of a pair to a float32 accumulator. The products are exact
//   in float32, so the result differs from the float32 GEMM by the rounding of A and B.
//   The instruction treats denormal operands as zero and flushes denormal results.
// Register blocking: 6 rows x 64 columns (four tiles) = 24 ZMM accumulators, fed by 4 panel
// loads and 6 broadcast pairs per depth pair; 6 rows x 32 columns for the last two tiles.
// A is converted to bfloat16 once per block of 96 rows and reused for every column.

#include <cstdint>

#include "../kernels.h"

#if defined(__AVX512BF16__) && defined(__AVX512F__)

#include <immintrin.h>

#include <cstring>
#include <vector>

// GCC 12 reports the _mm512_undefined_ps inside _mm512_max_ps as maybe-uninitialized.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

#include "conv2d_avx512.h"

namespace facebits {

namespace {

constexpr int64_t kTileRows = 6;
constexpr int64_t kBlockRows = 96;
constexpr int64_t kTileWidth = 16;  // columns per tile, one ZMM of float32 results
// Converted A values that a thread keeps between calls (192 KiB). A larger block, from a
// very deep fully connected layer, is freed when the call returns.
constexpr int64_t kKeptValues = 96 * 1024;

using conv_avx512::activate16;

// Writes rows [0, count) of A as bfloat16, depth values each (depth a multiple of 32).
// Depth past k is zero, so the zero padding of the tiles meets zeros, never NaN.
void convertRows(const float* a, int64_t lda, int64_t count, int64_t k, int64_t depth, uint16_t* block) {
  for (int64_t r = 0; r < count; ++r) {
    const float* src = a + r * lda;
    uint16_t* dst = block + r * depth;
    for (int64_t i = 0; i < depth; i += 32) {
      const int64_t left = k - i;
      const __mmask16 low = left >= 16 ? 0xffff : (left <= 0 ? 0 : static_cast<__mmask16>((1u << left) - 1u));
      const __mmask16 high = left >= 32 ? 0xffff : (left <= 16 ? 0 : static_cast<__mmask16>((1u << (left - 16)) - 1u));
      const __m512bh pairs = _mm512_cvtne2ps_pbh(_mm512_maskz_loadu_ps(high, src + i + 16), _mm512_maskz_loadu_ps(low, src + i));
      std::memcpy(dst + i, &pairs, sizeof pairs);
    }
  }
}

struct TileArgs {
  int64_t pairs;           // depth / 2
  const uint16_t* a;       // bfloat16 rows, 2 * pairs values each
  const uint16_t* panel;   // the first tile's panel
  int64_t panelValues;     // uint16 values from one tile's panel to the next
  const float* bias;       // padded to 16 columns only, so read with the column masks
  const float* slopes;     // like bias, for PRELU
  float* c;
  int64_t ldc;
  int64_t columns;         // columns of C from the tile's first column to n
};

__mmask16 columnMask(int64_t columns) {
  if (columns >= kTileWidth) return 0xffff;
  if (columns <= 0) return 0;
  return static_cast<__mmask16>((1u << columns) - 1u);
}

// MR rows x NT tiles of C. Bias and slopes are read with the column masks, because they
// are padded to 16 columns and the tiles to 32.
template <int MR, int NT>
void tile(const TileArgs& t, const ActParams& act) {
  __mmask16 mask[NT];
  __m512 acc[MR][NT];
  #pragma GCC unroll 4
  for (int p = 0; p < NT; ++p) {
    mask[p] = columnMask(t.columns - p * kTileWidth);
    const __m512 bias = _mm512_maskz_loadu_ps(mask[p], t.bias + p * kTileWidth);
    #pragma GCC unroll 8
    for (int r = 0; r < MR; ++r) acc[r][p] = bias;
  }

  const int32_t* a = reinterpret_cast<const int32_t*>(t.a);
  const int64_t rowPairs = t.pairs;
  const uint16_t* panel = t.panel;
  for (int64_t q = 0; q < t.pairs; ++q, panel += 2 * kTileWidth) {
    __m512bh w[NT];
    #pragma GCC unroll 4
    for (int p = 0; p < NT; ++p) w[p] = (__m512bh)_mm512_load_si512(panel + p * t.panelValues);
    #pragma GCC unroll 8
    for (int r = 0; r < MR; ++r) {
      const __m512bh x = (__m512bh)_mm512_set1_epi32(a[r * rowPairs + q]);
      #pragma GCC unroll 4
      for (int p = 0; p < NT; ++p) acc[r][p] = _mm512_dpbf16_ps(acc[r][p], x, w[p]);
    }
  }

  if (act.kind != 0 && act.kind != 5) {
    const __m512 lo = _mm512_set1_ps(act.a);
    const __m512 hi = _mm512_set1_ps(act.b);
    #pragma GCC unroll 4
    for (int p = 0; p < NT; ++p) {
      const __m512 slope = act.kind == 3 ? _mm512_maskz_loadu_ps(mask[p], t.slopes + p * kTileWidth) : lo;
      #pragma GCC unroll 8
      for (int r = 0; r < MR; ++r) acc[r][p] = activate16(acc[r][p], act.kind, lo, hi, slope);
    }
  }
  #pragma GCC unroll 8
  for (int r = 0; r < MR; ++r) {
    #pragma GCC unroll 4
    for (int p = 0; p < NT; ++p) _mm512_mask_storeu_ps(t.c + r * t.ldc + p * kTileWidth, mask[p], acc[r][p]);
  }
}

using TileFn = void (*)(const TileArgs&, const ActParams&);

const TileFn kWideTiles[kTileRows + 1] = {nullptr, tile<1, 4>, tile<2, 4>, tile<3, 4>, tile<4, 4>, tile<5, 4>, tile<6, 4>};
const TileFn kNarrowTiles[kTileRows + 1] = {nullptr, tile<1, 2>, tile<2, 2>, tile<3, 2>, tile<4, 2>, tile<5, 2>, tile<6, 2>};

void gemmAvx512Bf16(int64_t rows, const float* a, int64_t lda, const PackedMatrix& b, const ActParams& act, float* c,
                    int64_t ldc) {
  const int64_t depth = b.tileDepth;
  const int64_t panelValues = depth * kTileWidth;
  // packTilesBf16 pads the columns to a multiple of 32, so the tile count is even.
  const int64_t tiles = (b.n + 2 * kTileWidth - 1) / (2 * kTileWidth) * 2;

  // Grows per thread to the largest block seen, so after a model's first run this allocates nothing.
  thread_local std::vector<uint16_t> threadBlock;
  std::vector<uint16_t> callBlock;
  const int64_t values = (rows < kBlockRows ? rows : kBlockRows) * depth;
  std::vector<uint16_t>& block = values <= kKeptValues ? threadBlock : callBlock;
  if (static_cast<int64_t>(block.size()) < values) block.resize(values);

  TileArgs t{depth / 2, nullptr, nullptr, panelValues, nullptr, nullptr, nullptr, ldc, 0};
  for (int64_t m0 = 0; m0 < rows; m0 += kBlockRows) {
    const int64_t count = rows - m0 < kBlockRows ? rows - m0 : kBlockRows;
    convertRows(a + m0 * lda, lda, count, b.k, depth, block.data());

    for (int64_t p = 0; p < tiles;) {
      const int64_t width = tiles - p >= 4 ? 4 : 2;
      const TileFn* kernels = width == 4 ? kWideTiles : kNarrowTiles;
      t.panel = b.tiles + p * panelValues;
      t.bias = b.bias + p * kTileWidth;
      t.slopes = b.slopes ? b.slopes + p * kTileWidth : nullptr;
      t.columns = b.n - p * kTileWidth;
      for (int64_t m = 0; m < count; m += kTileRows) {
        const int64_t tileRows = count - m < kTileRows ? count - m : kTileRows;
        t.a = block.data() + m * depth;
        t.c = c + (m0 + m) * ldc + p * kTileWidth;
        kernels[tileRows](t, act);
      }
      p += width;
    }
  }
}

}  // namespace

GemmFn avx512Bf16Gemm() { return gemmAvx512Bf16; }

}  // namespace facebits

#else

namespace facebits {
GemmFn avx512Bf16Gemm() { return nullptr; }
}  // namespace facebits

#endif

// AMX-BF16 GEMM over bfloat16 tiles (compiled with -mavx512f -mavx512bw -mavx512vl
// -mamx-tile -mamx-bf16). Without those flags this file only defines amxBf16Gemm(),
// which then returns nullptr.
//
// Contract: as gemmScalar in gemm.cpp, except that B is read from b.tiles (see
// packTilesBf16) and A is rounded to bfloat16 (nearest even) before the products.
//   Products of two bfloat16 values are exact in float32, and TDPBF16PS accumulates them
//   in float32, so the result differs from the float32 GEMM by the rounding of A and B
//   (relative 2^-9 per operand), not by a lower-precision sum.
//   The caller has requested the tile data permission (amxBf16Ready in native/cpu.cpp).
// Blocking: 32 rows x 32 columns of C in four accumulator tiles (tmm0-3), fed by two A
// tiles (tmm4-5, 16 rows x 32 depth) and two B tiles (tmm6-7, 32 depth x 16 columns) per
// 32-deep step. A block of 32 rows of A is converted once and reused for every column
// block. Bias and activation are applied in AVX-512 as the accumulators are stored.

#include <cstdint>

#include "../kernels.h"

#if defined(__AMX_TILE__) && defined(__AMX_BF16__) && defined(__AVX512F__)

#include <immintrin.h>

#include <vector>

// GCC 12 reports the _mm512_undefined_ps inside _mm512_max_ps as maybe-uninitialized.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

#include "conv2d_avx512.h"

namespace facebits {

namespace {

constexpr int64_t kRows = 16;                  // rows of every tile
constexpr int64_t kBlock = 2 * kRows;          // rows and columns of C per block
constexpr int64_t kTileValues = kRows * 32;    // bfloat16 values in an A or B tile
constexpr int64_t kRowBytes = 64;              // bytes per tile row
constexpr int64_t kKeptValues = 96 * 1024;     // converted A values a thread keeps (192 KiB)

// Palette 1 with all eight tiles at 16 rows of 64 bytes.
struct alignas(64) TileConfig {
  uint8_t palette = 1;
  uint8_t startRow = 0;
  uint8_t reserved[14] = {};
  uint16_t bytesPerRow[16] = {};
  uint8_t rows[16] = {};
};

const TileConfig& tileConfig() {
  static const TileConfig config = [] {
    TileConfig c;
    for (int t = 0; t < 8; ++t) {
      c.bytesPerRow[t] = kRowBytes;
      c.rows[t] = kRows;
    }
    return c;
  }();
  return config;
}

// Rounds 16 floats to bfloat16, to nearest even. NaN gets no special case, because the
// inputs are activations, so a NaN may come out as infinity or zero.
inline __m256i toBf16x16(__m512 x) {
  const __m512i bits = _mm512_castps_si512(x);
  const __m512i odd = _mm512_and_si512(_mm512_srli_epi32(bits, 16), _mm512_set1_epi32(1));
  const __m512i rounded = _mm512_add_epi32(bits, _mm512_add_epi32(odd, _mm512_set1_epi32(0x7fff)));
  return _mm512_cvtepi32_epi16(_mm512_srli_epi32(rounded, 16));
}

// Writes rows [0, count) of A (count <= 32) as bfloat16 into block, 32 rows of depth
// values each (depth a multiple of 32). Depth past k and rows past count are zero.
void convertRows(const float* a, int64_t lda, int64_t count, int64_t k, int64_t depth, uint16_t* block) {
  for (int64_t r = 0; r < kBlock; ++r) {
    uint16_t* dst = block + r * depth;
    if (r >= count) {
      for (int64_t i = 0; i < depth; i += 16) _mm256_storeu_si256(reinterpret_cast<__m256i*>(dst + i), _mm256_setzero_si256());
      continue;
    }
    const float* src = a + r * lda;
    for (int64_t i = 0; i < depth; i += 16) {
      const int64_t left = k - i;
      const __mmask16 mask = left >= 16 ? 0xffff : (left <= 0 ? 0 : static_cast<__mmask16>((1u << left) - 1u));
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(dst + i), toBf16x16(_mm512_maskz_loadu_ps(mask, src + i)));
    }
  }
}

using conv_avx512::activate16;

// Adds bias, applies act and stores rows [0, count) and columns [column, column + 32) of a
// 32 x 32 accumulator block to C, leaving columns >= b.n unwritten.
void storeBlock(const float (&acc)[kBlock][kBlock], int64_t count, int64_t column, const PackedMatrix& b,
                const ActParams& act, float* c, int64_t ldc) {
  const __m512 lo = _mm512_set1_ps(act.a);
  const __m512 hi = _mm512_set1_ps(act.b);
  for (int64_t half = 0; half < 2; ++half) {
    const int64_t first = column + half * kRows;
    if (first >= b.n) break;
    const int64_t left = b.n - first;
    const __mmask16 mask = left >= 16 ? 0xffff : static_cast<__mmask16>((1u << left) - 1u);
    const __m512 bias = _mm512_maskz_loadu_ps(mask, b.bias + first);
    const __m512 slope = act.kind == 3 ? _mm512_maskz_loadu_ps(mask, b.slopes + first) : lo;
    for (int64_t r = 0; r < count; ++r) {
      __m512 v = _mm512_add_ps(_mm512_load_ps(&acc[r][half * kRows]), bias);
      v = activate16(v, act.kind, lo, hi, slope);
      _mm512_mask_storeu_ps(c + r * ldc + first, mask, v);
    }
  }
}

void gemmAmxBf16(int64_t rows, const float* a, int64_t lda, const PackedMatrix& b, const ActParams& act, float* c,
                 int64_t ldc) {
  ActParams linear = act;
  if (linear.kind == 5) linear.kind = 0;  // SIGMOID runs in the caller
  const int64_t depth = b.tileDepth;
  const int64_t steps = depth / 32;
  const int64_t tileColumns = (b.n + kBlock - 1) / kBlock * 2;
  const int64_t strideA = depth * static_cast<int64_t>(sizeof(uint16_t));

  // Grows per thread to the deepest A seen, so after a model's first run this allocates nothing.
  // A block over kKeptValues, from a very deep fully connected layer, is freed on return.
  thread_local std::vector<uint16_t> threadBlock;
  std::vector<uint16_t> callBlock;
  std::vector<uint16_t>& block = kBlock * depth <= kKeptValues ? threadBlock : callBlock;
  if (static_cast<int64_t>(block.size()) < kBlock * depth) block.resize(kBlock * depth);
  alignas(64) float acc[kBlock][kBlock];

  _tile_loadconfig(&tileConfig());
  for (int64_t m = 0; m < rows; m += kBlock) {
    const int64_t count = rows - m < kBlock ? rows - m : kBlock;
    convertRows(a + m * lda, lda, count, b.k, depth, block.data());
    const uint16_t* a0 = block.data();
    const uint16_t* a1 = a0 + kRows * depth;
    for (int64_t t = 0; t < tileColumns; t += 2) {
      const uint16_t* b0 = b.tiles + t * steps * kTileValues;
      const uint16_t* b1 = b0 + steps * kTileValues;
      _tile_zero(0);
      _tile_zero(1);
      _tile_zero(2);
      _tile_zero(3);
      for (int64_t q = 0; q < steps; ++q) {
        _tile_loadd(4, a0 + q * 32, strideA);
        _tile_loadd(5, a1 + q * 32, strideA);
        _tile_loadd(6, b0 + q * kTileValues, kRowBytes);
        _tile_loadd(7, b1 + q * kTileValues, kRowBytes);
        _tile_dpbf16ps(0, 4, 6);
        _tile_dpbf16ps(1, 4, 7);
        _tile_dpbf16ps(2, 5, 6);
        _tile_dpbf16ps(3, 5, 7);
      }
      constexpr int64_t kAccStride = kBlock * sizeof(float);
      _tile_stored(0, &acc[0][0], kAccStride);
      _tile_stored(1, &acc[0][kRows], kAccStride);
      _tile_stored(2, &acc[kRows][0], kAccStride);
      _tile_stored(3, &acc[kRows][kRows], kAccStride);
      storeBlock(acc, count, t * kRows, b, linear, c + m * ldc, ldc);
    }
  }
  // Returns the tiles to their initial state, so context switches need not save them.
  _tile_release();
}

}  // namespace

GemmFn amxBf16Gemm() { return gemmAmxBf16; }

}  // namespace facebits

#else

namespace facebits {
GemmFn amxBf16Gemm() { return nullptr; }
}  // namespace facebits

#endif

// GEMM weight packing and the scalar GEMM over packed panels.
//
// Contract: C[m][n] = act(sum_k A[m][k] * B[k][n] + bias[n]).
//   A: rows x k floats with row stride lda, any alignment.
//   B: PackedMatrix, panel p is k rows of 16 floats for columns 16p .. 16p+15, zero-padded
//      past n, 64-byte aligned. Packing happens once when a model loads.
//   C: rows x n floats with row stride ldc, any alignment. Columns >= n are never written.
// SIGMOID is left to the caller (it runs a separate pass).

#include <cstring>

#include "ops.h"

namespace facebits {

int64_t panelCount(int64_t columns) { return (columns + kPanelWidth - 1) / kPanelWidth; }

void packPanels(const float* w, int64_t columns, int64_t depth, int64_t ldw, float* panels) {
  int64_t count = panelCount(columns);
  std::memset(panels, 0, sizeof(float) * count * depth * kPanelWidth);
  for (int64_t p = 0; p < count; ++p) {
    float* panel = panels + p * depth * kPanelWidth;
    for (int64_t j = 0; j < kPanelWidth; ++j) {
      int64_t column = p * kPanelWidth + j;
      if (column >= columns) break;
      const float* row = w + column * ldw;
      for (int64_t k = 0; k < depth; ++k) panel[k * kPanelWidth + j] = row[k];
    }
  }
}

uint16_t toBf16(float x) {
  uint32_t bits;
  std::memcpy(&bits, &x, sizeof bits);
  if ((bits & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>((bits >> 16) | 0x40u);
  bits += 0x7fffu + ((bits >> 16) & 1u);
  return static_cast<uint16_t>(bits >> 16);
}

bool bf16Applies(int64_t columns, int64_t depth) { return columns >= kPanelWidth && depth >= kTileDepth; }

int64_t tilesBf16Size(int64_t columns, int64_t depth) {
  return roundUp(columns, 2 * kPanelWidth) * roundUp(depth, kTileDepth);
}

// Tile (t, q) covers columns [16t, 16t + 16) and depth [32q, 32q + 32). Its row r contains
// 16 pairs, one per column j: B[32q + 2r][16t + j] then B[32q + 2r + 1][16t + j], the
// operand layout of TDPBF16PS. Tiles are stored t major, q minor.
void packTilesBf16(const float* w, int64_t columns, int64_t depth, int64_t ldw, uint16_t* tiles) {
  const int64_t paddedDepth = roundUp(depth, kTileDepth);
  const int64_t tileCount = roundUp(columns, 2 * kPanelWidth) / kPanelWidth;
  std::memset(tiles, 0, sizeof(uint16_t) * tilesBf16Size(columns, depth));
  for (int64_t t = 0; t < tileCount; ++t) {
    uint16_t* column = tiles + t * paddedDepth * kPanelWidth;
    for (int64_t j = 0; j < kPanelWidth; ++j) {
      const int64_t n = t * kPanelWidth + j;
      if (n >= columns) break;
      for (int64_t k = 0; k < depth; ++k) {
        const int64_t q = k / kTileDepth, r = (k % kTileDepth) / 2, e = k % 2;
        column[q * kTileDepth * kPanelWidth + r * 2 * kPanelWidth + j * 2 + e] = toBf16(w[n * ldw + k]);
      }
    }
  }
}

void gemmScalar(int64_t rows, const float* a, int64_t lda, const PackedMatrix& b, const ActParams& act, float* c,
                int64_t ldc) {
  ActParams linear = act;
  if (linear.kind == static_cast<int32_t>(Activation::SIGMOID)) linear.kind = static_cast<int32_t>(Activation::NONE);
  linear.slopes = b.slopes;
  for (int64_t m = 0; m < rows; ++m) {
    const float* arow = a + m * lda;
    for (int64_t p = 0; p < b.panelCount; ++p) {
      const float* panel = b.panels + p * b.k * kPanelWidth;
      float acc[kPanelWidth];
      for (int64_t j = 0; j < kPanelWidth; ++j) acc[j] = b.bias[p * kPanelWidth + j];
      for (int64_t k = 0; k < b.k; ++k) {
        float x = arow[k];
        for (int64_t j = 0; j < kPanelWidth; ++j) acc[j] += x * panel[k * kPanelWidth + j];
      }
      for (int64_t j = 0; j < kPanelWidth; ++j) {
        int64_t n = p * kPanelWidth + j;
        if (n < b.n) c[m * ldc + n] = activate(acc[j], linear, n);
      }
    }
  }
}

}  // namespace facebits

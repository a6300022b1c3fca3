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

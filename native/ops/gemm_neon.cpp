// NEON GEMM micro-kernel over packed panels (AArch64 Advanced SIMD, baseline on arm64).
//
// Contract: as gemmScalar in gemm.cpp. A is read one float at a time, panels with 128-bit
// loads (16 floats per k), C with 128-bit stores. A partial last panel goes through a
// small buffer, so nothing past column n is written.
// Register blocking: up to 5 rows x 16 columns = 20 of the 32 vector registers as
// accumulators, 4 for the panel row and 5 for the A values, which FMLA reads by element.
// With 6 rows (24 accumulators), GCC 12 spilled two accumulators to the stack every k step.
// Bias and the activation are applied in registers before the store; SIGMOID is left
// to the caller. This convolution path serves 1x1 convolutions directly and every other
// convolution after im2col. B with at most 4 columns, such as a detector's score and box
// heads, runs as dot products along K instead (narrowGemm), because a 16-column panel
// would leave most lanes idle.

#if defined(__aarch64__)

#include <arm_neon.h>

#include "../kernels.h"
#include "activation_neon.h"

namespace facebits {

void gemmNeon(int64_t rows, const float* a, int64_t lda, const PackedMatrix& b, const ActParams& act, float* c,
              int64_t ldc);

namespace {

constexpr int64_t kTileRows = 5;
constexpr int64_t kBlockRows = 80;  // rows of A kept hot in L1/L2 across all panels

// The accumulators are four named arrays and every r loop is unrolled, so GCC keeps them in
// registers. With a two-dimensional array, GCC 12 stored them to the stack every k step.
template <int MR>
inline void tile(int64_t depth, const float* a, int64_t lda, const float* panel, const float* bias,
                 const float* slopes, const ActParams& act, float* c, int64_t ldc, int64_t columns) {
  float32x4_t acc0[MR], acc1[MR], acc2[MR], acc3[MR];
  const float32x4_t bias0 = vld1q_f32(bias);
  const float32x4_t bias1 = vld1q_f32(bias + 4);
  const float32x4_t bias2 = vld1q_f32(bias + 8);
  const float32x4_t bias3 = vld1q_f32(bias + 12);
#pragma GCC unroll 5
  for (int r = 0; r < MR; ++r) {
    acc0[r] = bias0;
    acc1[r] = bias1;
    acc2[r] = bias2;
    acc3[r] = bias3;
  }
  for (int64_t k = 0; k < depth; ++k) {
    const float* w = panel + k * kPanelWidth;
    const float32x4_t w0 = vld1q_f32(w);
    const float32x4_t w1 = vld1q_f32(w + 4);
    const float32x4_t w2 = vld1q_f32(w + 8);
    const float32x4_t w3 = vld1q_f32(w + 12);
#pragma GCC unroll 5
    for (int r = 0; r < MR; ++r) {
      const float x = a[r * lda + k];
      acc0[r] = vfmaq_n_f32(acc0[r], w0, x);
      acc1[r] = vfmaq_n_f32(acc1[r], w1, x);
      acc2[r] = vfmaq_n_f32(acc2[r], w2, x);
      acc3[r] = vfmaq_n_f32(acc3[r], w3, x);
    }
  }
  if (act.kind != 0 && act.kind != 5) {
    const float32x4_t lo = vdupq_n_f32(act.a);
    const float32x4_t hi = vdupq_n_f32(act.b);
    float32x4_t s0 = lo, s1 = lo, s2 = lo, s3 = lo;  // LEAKY_RELU slope is act.a
    if (act.kind == 3) {
      s0 = vld1q_f32(slopes);
      s1 = vld1q_f32(slopes + 4);
      s2 = vld1q_f32(slopes + 8);
      s3 = vld1q_f32(slopes + 12);
    }
#pragma GCC unroll 5
    for (int r = 0; r < MR; ++r) {
      acc0[r] = neon::activate4(acc0[r], act.kind, lo, hi, s0);
      acc1[r] = neon::activate4(acc1[r], act.kind, lo, hi, s1);
      acc2[r] = neon::activate4(acc2[r], act.kind, lo, hi, s2);
      acc3[r] = neon::activate4(acc3[r], act.kind, lo, hi, s3);
    }
  }
  if (columns == kPanelWidth) {
#pragma GCC unroll 5
    for (int r = 0; r < MR; ++r) {
      vst1q_f32(c + r * ldc, acc0[r]);
      vst1q_f32(c + r * ldc + 4, acc1[r]);
      vst1q_f32(c + r * ldc + 8, acc2[r]);
      vst1q_f32(c + r * ldc + 12, acc3[r]);
    }
    return;
  }
#pragma GCC unroll 5
  for (int r = 0; r < MR; ++r) {
    float row[kPanelWidth];
    vst1q_f32(row, acc0[r]);
    vst1q_f32(row + 4, acc1[r]);
    vst1q_f32(row + 8, acc2[r]);
    vst1q_f32(row + 12, acc3[r]);
    for (int64_t j = 0; j < columns; ++j) c[r * ldc + j] = row[j];
  }
}

void tileRows(int64_t count, int64_t depth, const float* a, int64_t lda, const float* panel, const float* bias,
              const float* slopes, const ActParams& act, float* c, int64_t ldc, int64_t columns) {
  switch (count) {
    case 5: tile<5>(depth, a, lda, panel, bias, slopes, act, c, ldc, columns); break;
    case 4: tile<4>(depth, a, lda, panel, bias, slopes, act, c, ldc, columns); break;
    case 3: tile<3>(depth, a, lda, panel, bias, slopes, act, c, ldc, columns); break;
    case 2: tile<2>(depth, a, lda, panel, bias, slopes, act, c, ldc, columns); break;
    default: tile<1>(depth, a, lda, panel, bias, slopes, act, c, ldc, columns); break;
  }
}

// Narrow GEMM: each output is a dot product along K, 4 floats of A per load, reduced
// across lanes at the end. columns contains the weights of column n at
// [n * depth, (n + 1) * depth).
constexpr int64_t kDotMaxColumns = 4;
constexpr int64_t kDotMaxDepth = 1024;
constexpr int64_t kDotRows = 4;

template <int N>
void dotRows(int64_t rows, const float* a, int64_t lda, const float* columns, int64_t depth, const PackedMatrix& b,
             const ActParams& act, float* c, int64_t ldc) {
  const int64_t body = depth - depth % 4;
  for (int64_t m = 0; m < rows; m += kDotRows) {
    const int64_t count = rows - m < kDotRows ? rows - m : kDotRows;
    // Rows past count repeat the last row, so the loop body has no branches.
    const float* rowPointers[kDotRows];
    for (int r = 0; r < kDotRows; ++r) rowPointers[r] = a + (m + (r < count ? r : count - 1)) * lda;
    float32x4_t acc0[N], acc1[N], acc2[N], acc3[N];
#pragma GCC unroll 4
    for (int n = 0; n < N; ++n) {
      acc0[n] = vdupq_n_f32(0.0f);
      acc1[n] = acc0[n];
      acc2[n] = acc0[n];
      acc3[n] = acc0[n];
    }
    for (int64_t k = 0; k < body; k += 4) {
      const float32x4_t x0 = vld1q_f32(rowPointers[0] + k);
      const float32x4_t x1 = vld1q_f32(rowPointers[1] + k);
      const float32x4_t x2 = vld1q_f32(rowPointers[2] + k);
      const float32x4_t x3 = vld1q_f32(rowPointers[3] + k);
#pragma GCC unroll 4
      for (int n = 0; n < N; ++n) {
        const float32x4_t w = vld1q_f32(columns + n * depth + k);
        acc0[n] = vfmaq_f32(acc0[n], x0, w);
        acc1[n] = vfmaq_f32(acc1[n], x1, w);
        acc2[n] = vfmaq_f32(acc2[n], x2, w);
        acc3[n] = vfmaq_f32(acc3[n], x3, w);
      }
    }
    for (int64_t r = 0; r < count; ++r) {
      for (int n = 0; n < N; ++n) {
        const float32x4_t sums = r == 0 ? acc0[n] : (r == 1 ? acc1[n] : (r == 2 ? acc2[n] : acc3[n]));
        float v = vaddvq_f32(sums) + b.bias[n];
        for (int64_t k = body; k < depth; ++k) v += rowPointers[r][k] * columns[n * depth + k];
        if (act.kind == 3) {
          // GEMM kernels take PReLU slopes from the packed matrix, not from act.
          c[(m + r) * ldc + n] = v >= 0.0f ? v : v * b.slopes[n];
        } else {
          c[(m + r) * ldc + n] = neon::activate1(v, act, n);
        }
      }
    }
  }
}

// Runs dotRows when B is narrow and shallow enough, and returns whether it did.
bool narrowGemm(int64_t rows, const float* a, int64_t lda, const PackedMatrix& b, const ActParams& act, float* c,
                int64_t ldc) {
  if (b.n > kDotMaxColumns || b.k > kDotMaxDepth) return false;
  float columns[kDotMaxColumns * kDotMaxDepth];
  for (int64_t n = 0; n < b.n; ++n) {
    for (int64_t k = 0; k < b.k; ++k) columns[n * b.k + k] = b.panels[k * kPanelWidth + n];
  }
  // SIGMOID is left to the caller, as in the panel path.
  ActParams linear = act;
  if (linear.kind == 5) linear.kind = 0;
  switch (b.n) {
    case 1: dotRows<1>(rows, a, lda, columns, b.k, b, linear, c, ldc); break;
    case 2: dotRows<2>(rows, a, lda, columns, b.k, b, linear, c, ldc); break;
    case 3: dotRows<3>(rows, a, lda, columns, b.k, b, linear, c, ldc); break;
    default: dotRows<4>(rows, a, lda, columns, b.k, b, linear, c, ldc); break;
  }
  return true;
}

}  // namespace

void gemmNeon(int64_t rows, const float* a, int64_t lda, const PackedMatrix& b, const ActParams& act, float* c,
              int64_t ldc) {
  if (rows > 0 && narrowGemm(rows, a, lda, b, act, c, ldc)) return;
  for (int64_t block = 0; block < rows; block += kBlockRows) {
    const int64_t blockEnd = block + kBlockRows < rows ? block + kBlockRows : rows;
    for (int64_t p = 0; p < b.panelCount; ++p) {
      const float* panel = b.panels + p * b.k * kPanelWidth;
      const int64_t column = p * kPanelWidth;
      const int64_t columns = b.n - column < kPanelWidth ? b.n - column : kPanelWidth;
      const float* slopes = b.slopes ? b.slopes + column : nullptr;
      for (int64_t m = block; m < blockEnd; m += kTileRows) {
        const int64_t count = blockEnd - m < kTileRows ? blockEnd - m : kTileRows;
        tileRows(count, b.k, a + m * lda, lda, panel, b.bias + column, slopes, act, c + m * ldc + column, ldc, columns);
      }
    }
  }
}

}  // namespace facebits

#endif  // __aarch64__

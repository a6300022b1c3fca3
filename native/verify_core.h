// Numerical core of the verification helpers, free of Node-API so that the addon
// (native/verify.cpp) and the WebAssembly build (wasm/api.cpp) run the same code.
//
// Functions check nothing about their arguments beyond what is stated: the callers
// validate lengths and ranges. fitHead and the rotation fits throw std::invalid_argument
// for non-finite input.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace facebits {
namespace verify {

struct HeadFit {
  std::vector<double> weights;  // 2 x dim feature weights, then the bias
  int iterations = 0;
  double loss = 0;
  double gradientNorm = 0;
};

// Fits the pair head by L-BFGS on n pairs (a, b: n x dim each, labels 0 or 1), minimising
// the mean log loss plus (lambda / 2) |w - prior|^2. prior has 2 x dim + 1 values.
HeadFit fitHead(const float* a, const float* b, const uint8_t* labels, size_t n, size_t dim, const double* prior,
                double lambda, int maxIterations);

// out (rows x bits): matrix[j] . (x[r] - mean) for each row r of x (rows x dim).
void projectValues(const float* x, size_t rows, size_t dim, const float* mean, const float* matrix, size_t bits,
                   float* out);

// Codes of rows of x, ceil(bits / 64) * 8 bytes per row, zero-filled by this function: bit j
// of row r is 1 when matrix[j] . (x[r] - mean) > offsets[j].
void projectSigns(const float* x, size_t rows, size_t dim, const float* mean, const float* matrix, size_t bits,
                  const float* offsets, uint8_t* out);

// out (rows x cols): rows come in blocks of up to cols rows. The rows of one block are
// orthonormal (Gram-Schmidt of Gaussian rows, twice), and the blocks are independent draws
// from one xoshiro256** generator seeded with `seed`.
void randomOrthogonal(size_t rows, size_t cols, uint64_t seed, float* out);

// Eigen-decomposition of the symmetric n x n matrix a (row-major, read only): Householder
// reduction to tridiagonal form, then implicit QR steps with Wilkinson shifts. values
// (n) descend; row k of vectors (n x n) is the unit eigenvector of values[k].
void symmetricEigen(const double* a, size_t n, double* values, double* vectors);

// Iterative quantisation (Gong and Lazebnik, 2011): the orthogonal c x c rotation R that
// minimises |sign(V R^T) - V R^T|^2 over the rows of v (n x c), by `iterations` rounds of
// fixing the codes and solving the orthogonal Procrustes problem. rotation (c x c, row-major)
// is the starting rotation on input and the result on output. Returns the final
// quantisation loss divided by n.
double iterativeQuantization(const float* v, size_t n, size_t c, int iterations, float* rotation);

}  // namespace verify
}  // namespace facebits

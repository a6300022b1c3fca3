// The learned pair head, projected sign codes, seeded orthogonal projections, a symmetric
// eigen-solver and iterative quantisation, without Node-API (see verify_core.h).
//
// Head features of a pair of L2-normalised embeddings a, b of dimension d, 2d in all:
//   g[i]     = d * a[i] * b[i]          sum over i, divided by d, is the cosine
//   g[d + i] = sqrt(d) * |a[i] - b[i]|
// p = sigmoid(w . g + bias). fitHead minimises the mean log loss plus
// (lambda / 2) * |w - prior|^2 with L-BFGS; the bias is not penalised. With the prior set
// to the cosine solution (w[i] = s / d on the products, 0 on the differences) a large
// lambda returns the logistic fit of cosine itself.

#include "verify_core.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <new>
#include <stdexcept>
#include <utility>

#include "cpu.h"
#include "kernels.h"
#include "ops/ops.h"

namespace facebits {
namespace verify {

namespace {

struct HeadProblem {
  std::vector<float> features;  // n rows of p = 2d features
  std::vector<double> labels;   // 0 or 1
  std::vector<double> prior;    // p weights, then the bias
  size_t n = 0, p = 0;
  double lambda = 0;

  // Loss and gradient at x (p weights, then the bias).
  double evaluate(const std::vector<double>& x, std::vector<double>& grad) const {
    std::fill(grad.begin(), grad.end(), 0.0);
    double loss = 0;
    for (size_t r = 0; r < n; ++r) {
      const float* g = features.data() + r * p;
      double z = x[p];
      for (size_t j = 0; j < p; ++j) z += x[j] * g[j];
      // log(1 + e^z) - y z, computed without overflow.
      loss += (z > 0 ? z + std::log1p(std::exp(-z)) : std::log1p(std::exp(z))) - labels[r] * z;
      const double residual = 1.0 / (1.0 + std::exp(-z)) - labels[r];
      for (size_t j = 0; j < p; ++j) grad[j] += residual * g[j];
      grad[p] += residual;
    }
    const double scale = 1.0 / static_cast<double>(n);
    loss *= scale;
    for (double& v : grad) v *= scale;
    for (size_t j = 0; j < p; ++j) {
      const double delta = x[j] - prior[j];
      loss += 0.5 * lambda * delta * delta;
      grad[j] += lambda * delta;
    }
    return loss;
  }
};

double dot(const std::vector<double>& a, const std::vector<double>& b) {
  double s = 0;
  for (size_t i = 0; i < a.size(); ++i) s += a[i] * b[i];
  return s;
}

// L-BFGS with a backtracking Armijo line search, starting at the prior.
struct FitResult {
  std::vector<double> x;
  int iterations = 0;
  double loss = 0;
  double gradientNorm = 0;
};

FitResult lbfgs(const HeadProblem& problem, int maxIterations, double tolerance) {
  const size_t m = 10;
  const size_t dim = problem.p + 1;
  FitResult result;
  std::vector<double>& x = result.x;
  x = problem.prior;
  std::vector<double> grad(dim), nextGrad(dim), direction(dim), nextX(dim);
  std::vector<std::vector<double>> s, y;
  std::vector<double> rho;
  double loss = problem.evaluate(x, grad);

  int it = 0;
  for (; it < maxIterations; ++it) {
    if (std::sqrt(dot(grad, grad)) < tolerance) break;
    // Two-loop recursion: direction = -H grad.
    direction = grad;
    std::vector<double> alpha(s.size());
    for (size_t k = s.size(); k-- > 0;) {
      alpha[k] = rho[k] * dot(s[k], direction);
      for (size_t i = 0; i < dim; ++i) direction[i] -= alpha[k] * y[k][i];
    }
    const double gamma = s.empty() ? 1.0 / std::max(1.0, std::sqrt(dot(grad, grad))) : dot(s.back(), y.back()) / dot(y.back(), y.back());
    for (double& v : direction) v *= gamma;
    for (size_t k = 0; k < s.size(); ++k) {
      const double beta = rho[k] * dot(y[k], direction);
      for (size_t i = 0; i < dim; ++i) direction[i] += s[k][i] * (alpha[k] - beta);
    }
    for (double& v : direction) v = -v;
    double slope = dot(direction, grad);
    if (slope >= 0) {  // not a descent direction: restart from the gradient
      s.clear(); y.clear(); rho.clear();
      for (size_t i = 0; i < dim; ++i) direction[i] = -grad[i];
      slope = -dot(grad, grad);
    }

    double step = 1.0, nextLoss = 0;
    bool accepted = false;
    for (int tries = 0; tries < 40; ++tries) {
      for (size_t i = 0; i < dim; ++i) nextX[i] = x[i] + step * direction[i];
      nextLoss = problem.evaluate(nextX, nextGrad);
      if (std::isfinite(nextLoss) && nextLoss <= loss + 1e-4 * step * slope) { accepted = true; break; }
      step *= 0.5;
    }
    if (!accepted) break;

    std::vector<double> sk(dim), yk(dim);
    for (size_t i = 0; i < dim; ++i) { sk[i] = nextX[i] - x[i]; yk[i] = nextGrad[i] - grad[i]; }
    const double sy = dot(sk, yk);
    if (sy > 1e-12) {
      if (s.size() == m) { s.erase(s.begin()); y.erase(y.begin()); rho.erase(rho.begin()); }
      s.push_back(std::move(sk)); y.push_back(std::move(yk)); rho.push_back(1.0 / sy);
    }
    const double change = loss - nextLoss;
    x.swap(nextX);
    grad.swap(nextGrad);
    loss = nextLoss;
    if (change >= 0 && change < 1e-12 * std::max(1.0, std::fabs(loss))) { ++it; break; }
  }
  result.iterations = it;
  result.loss = loss;
  result.gradientNorm = std::sqrt(dot(grad, grad));
  return result;
}

// xoshiro256** seeded through splitmix64.
struct Rng {
  uint64_t s[4];
  explicit Rng(uint64_t seed) {
    for (uint64_t& v : s) {
      seed += 0x9e3779b97f4a7c15ull;
      uint64_t z = seed;
      z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
      z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
      v = z ^ (z >> 31);
    }
  }
  static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  uint64_t next() {
    const uint64_t result = rotl(s[1] * 5, 7) * 9;
    const uint64_t t = s[1] << 17;
    s[2] ^= s[0]; s[3] ^= s[1]; s[1] ^= s[2]; s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
  }
  double uniform() { return (static_cast<double>(next() >> 11) + 0.5) * (1.0 / 9007199254740992.0); }
  double gaussian() { return std::sqrt(-2.0 * std::log(uniform())) * std::cos(6.283185307179586 * uniform()); }
};

// Householder reduction of the symmetric n x n matrix a (overwritten) to tridiagonal form
// T = Q^T A Q: diagonal in d (n), sub-diagonal in e (e[k] joins k and k + 1, e[n - 1] = 0).
// q (n x n) receives Q^T, so row k of q is column k of Q.
void tridiagonalize(std::vector<double>& a, size_t n, std::vector<double>& d, std::vector<double>& e,
                    std::vector<double>& q) {
  std::fill(q.begin(), q.end(), 0.0);
  for (size_t i = 0; i < n; ++i) q[i * n + i] = 1.0;
  std::vector<double> v(n), p(n), w(n);
  for (size_t k = 0; k + 2 < n; ++k) {
    // The reflector H = I - 2 v v^T maps a[k + 1.., k] onto a multiple of the first axis.
    double norm = 0;
    for (size_t i = k + 1; i < n; ++i) norm += a[i * n + k] * a[i * n + k];
    norm = std::sqrt(norm);
    if (norm == 0) continue;
    const double x0 = a[(k + 1) * n + k];
    const double alpha = x0 > 0 ? -norm : norm;
    std::fill(v.begin(), v.end(), 0.0);
    v[k + 1] = x0 - alpha;
    for (size_t i = k + 2; i < n; ++i) v[i] = a[i * n + k];
    double vnorm = 0;
    for (size_t i = k + 1; i < n; ++i) vnorm += v[i] * v[i];
    vnorm = std::sqrt(vnorm);
    if (vnorm == 0) continue;
    for (size_t i = k + 1; i < n; ++i) v[i] /= vnorm;

    // A <- H A H = A - 2 (v u^T + u v^T) with p = A v and u = p - (v . p) v, on rows and
    // columns k.. (column k becomes alpha at k + 1 and zero below).
    for (size_t i = k; i < n; ++i) {
      double s = 0;
      const double* row = a.data() + i * n;
      for (size_t j = k + 1; j < n; ++j) s += row[j] * v[j];
      p[i] = s;
    }
    double vp = 0;
    for (size_t i = k + 1; i < n; ++i) vp += v[i] * p[i];
    for (size_t i = k; i < n; ++i) p[i] -= vp * v[i];
    for (size_t i = k; i < n; ++i) {
      double* row = a.data() + i * n;
      const double vi = v[i], ui = p[i];
      for (size_t j = k; j < n; ++j) row[j] -= 2 * (vi * p[j] + ui * v[j]);
    }

    // Q^T <- H Q^T, so that Q = H_0 H_1 ... H_k.
    std::fill(w.begin(), w.end(), 0.0);
    for (size_t i = k + 1; i < n; ++i) {
      const double* row = q.data() + i * n;
      for (size_t j = 0; j < n; ++j) w[j] += v[i] * row[j];
    }
    for (size_t i = k + 1; i < n; ++i) {
      double* row = q.data() + i * n;
      const double scale = 2 * v[i];
      for (size_t j = 0; j < n; ++j) row[j] -= scale * w[j];
    }
  }
  for (size_t i = 0; i < n; ++i) d[i] = a[i * n + i];
  for (size_t i = 0; i + 1 < n; ++i) e[i] = a[(i + 1) * n + i];
  e[n - 1] = 0;
}

// Diagonalises the tridiagonal (d, e) by implicit symmetric QR steps with the Wilkinson
// shift, chasing the bulge down with Givens rotations that are also applied to the rows of
// q. On return d contains the eigenvalues and row k of q the eigenvector of d[k].
void diagonalizeTridiagonal(std::vector<double>& d, std::vector<double>& e, size_t n, std::vector<double>& q) {
  const double eps = 2.220446049250313e-16;
  size_t hi = n - 1;
  size_t steps = 0;
  while (hi > 0) {
    if (std::fabs(e[hi - 1]) <= eps * (std::fabs(d[hi - 1]) + std::fabs(d[hi]))) {
      e[hi - 1] = 0;
      --hi;
      continue;
    }
    size_t lo = hi - 1;
    while (lo > 0 && std::fabs(e[lo - 1]) > eps * (std::fabs(d[lo - 1]) + std::fabs(d[lo]))) --lo;
    if (++steps > 60 * n) break;  // no convergence: keep what there is

    // Wilkinson shift: the eigenvalue of the trailing 2 x 2 block closer to d[hi].
    const double half = (d[hi - 1] - d[hi]) / 2;
    const double b2 = e[hi - 1] * e[hi - 1];
    const double shift = d[hi] - b2 / (half + (half >= 0 ? 1.0 : -1.0) * std::sqrt(half * half + b2));

    double x = d[lo] - shift, z = e[lo];
    for (size_t k = lo; k < hi; ++k) {
      // The rotation G on k, k + 1 with G [x, z]^T = [r, 0]^T.
      const double r = std::hypot(x, z);
      const double c = r == 0 ? 1.0 : x / r, s = r == 0 ? 0.0 : z / r;
      if (k > lo) e[k - 1] = r;
      // T <- G T G^T on the 2 x 2 block, the bulge moving to (k, k + 2).
      const double dk = d[k], dk1 = d[k + 1], ek = e[k];
      d[k] = c * c * dk + 2 * c * s * ek + s * s * dk1;
      d[k + 1] = s * s * dk - 2 * c * s * ek + c * c * dk1;
      e[k] = c * s * (dk1 - dk) + (c * c - s * s) * ek;
      if (k + 1 < hi) {
        z = s * e[k + 1];
        e[k + 1] *= c;
        x = e[k];
      }
      double* rowK = q.data() + k * n;
      double* rowK1 = q.data() + (k + 1) * n;
      for (size_t j = 0; j < n; ++j) {
        const double u = rowK[j], t = rowK1[j];
        rowK[j] = c * u + s * t;
        rowK1[j] = c * t - s * u;
      }
    }
  }
}

// The right-hand side B (depth x columns, B[k][j] = w[j * ldw + k]) of the kernel table's
// GEMM, packed into 64-byte aligned panels with a zero bias.
struct PackedRight {
  std::unique_ptr<float, void (*)(void*)> data{nullptr, std::free};
  PackedMatrix matrix;

  PackedRight(const float* w, size_t columns, size_t depth, size_t ldw) {
    const int64_t panels = panelCount(static_cast<int64_t>(columns));
    const size_t floats = static_cast<size_t>(panels * kPanelWidth) * (depth + 2);
    data.reset(static_cast<float*>(std::aligned_alloc(64, (floats * sizeof(float) + 63) / 64 * 64)));
    if (!data) throw std::bad_alloc();
    std::memset(data.get(), 0, floats * sizeof(float));
    packPanels(w, static_cast<int64_t>(columns), static_cast<int64_t>(depth), static_cast<int64_t>(ldw), data.get());
    float* bias = data.get() + panels * kPanelWidth * depth;
    matrix = PackedMatrix{data.get(), bias, bias + panels * kPanelWidth, static_cast<int64_t>(depth),
                          static_cast<int64_t>(columns), panels};
  }
};

}  // namespace

HeadFit fitHead(const float* a, const float* b, const uint8_t* labels, size_t n, size_t dim, const double* prior,
                double lambda, int maxIterations) {
  HeadProblem problem;
  problem.n = n;
  problem.p = 2 * dim;
  problem.lambda = lambda;
  problem.prior.assign(prior, prior + problem.p + 1);
  problem.labels.resize(n);
  problem.features.resize(n * problem.p);
  const float scaleProduct = static_cast<float>(dim), scaleDifference = std::sqrt(static_cast<float>(dim));
  for (size_t r = 0; r < n; ++r) {
    if (labels[r] > 1) throw std::invalid_argument("labels must be 0 or 1");
    problem.labels[r] = labels[r];
    const float* x = a + r * dim;
    const float* z = b + r * dim;
    float* g = problem.features.data() + r * problem.p;
    for (size_t i = 0; i < dim; ++i) {
      if (!std::isfinite(x[i]) || !std::isfinite(z[i])) throw std::invalid_argument("Embeddings must be finite");
      g[i] = scaleProduct * x[i] * z[i];
      g[dim + i] = scaleDifference * std::fabs(x[i] - z[i]);
    }
  }
  for (double v : problem.prior) {
    if (!std::isfinite(v)) throw std::invalid_argument("prior must be finite");
  }

  FitResult fit = lbfgs(problem, maxIterations, 1e-7);
  HeadFit out;
  out.weights = std::move(fit.x);
  out.iterations = fit.iterations;
  out.loss = fit.loss;
  out.gradientNorm = fit.gradientNorm;
  return out;
}

void projectValues(const float* x, size_t rows, size_t dim, const float* mean, const float* matrix, size_t bits,
                   float* out) {
  std::vector<float> centred(dim);
  for (size_t r = 0; r < rows; ++r) {
    for (size_t i = 0; i < dim; ++i) centred[i] = x[r * dim + i] - mean[i];
    for (size_t j = 0; j < bits; ++j) {
      const float* w = matrix + j * dim;
      float s = 0;
      for (size_t i = 0; i < dim; ++i) s += w[i] * centred[i];
      out[r * bits + j] = s;
    }
  }
}

void projectSigns(const float* x, size_t rows, size_t dim, const float* mean, const float* matrix, size_t bits,
                  const float* offsets, uint8_t* out) {
  const size_t bytes = (bits + 63) / 64 * 8;
  std::memset(out, 0, rows * bytes);
  std::vector<float> centred(dim);
  for (size_t r = 0; r < rows; ++r) {
    const float* row = x + r * dim;
    for (size_t i = 0; i < dim; ++i) centred[i] = row[i] - mean[i];
    uint8_t* code = out + r * bytes;
    for (size_t j = 0; j < bits; ++j) {
      const float* w = matrix + j * dim;
      float s = 0;
      for (size_t i = 0; i < dim; ++i) s += w[i] * centred[i];
      if (s > offsets[j]) code[j / 8] |= static_cast<uint8_t>(1u << (j % 8));
    }
  }
}

void randomOrthogonal(size_t rows, size_t cols, uint64_t seed, float* out) {
  Rng rng(seed);
  std::vector<double> block(cols * cols);
  for (size_t start = 0; start < rows; start += cols) {
    const size_t count = std::min(cols, rows - start);
    for (size_t r = 0; r < count; ++r) {
      double* v = block.data() + r * cols;
      for (size_t i = 0; i < cols; ++i) v[i] = rng.gaussian();
      for (int pass = 0; pass < 2; ++pass) {
        for (size_t q = 0; q < r; ++q) {
          const double* u = block.data() + q * cols;
          double p = 0;
          for (size_t i = 0; i < cols; ++i) p += u[i] * v[i];
          for (size_t i = 0; i < cols; ++i) v[i] -= p * u[i];
        }
      }
      double norm = 0;
      for (size_t i = 0; i < cols; ++i) norm += v[i] * v[i];
      norm = std::sqrt(norm);
      for (size_t i = 0; i < cols; ++i) {
        v[i] /= norm;
        out[(start + r) * cols + i] = static_cast<float>(v[i]);
      }
    }
  }
}

void symmetricEigen(const double* a, size_t n, double* values, double* vectors) {
  std::vector<double> work(a, a + n * n), d(n), e(n), q(n * n);
  tridiagonalize(work, n, d, e, q);
  diagonalizeTridiagonal(d, e, n, q);
  std::vector<size_t> order(n);
  for (size_t i = 0; i < n; ++i) order[i] = i;
  std::sort(order.begin(), order.end(), [&](size_t x, size_t y) { return d[x] > d[y]; });
  for (size_t k = 0; k < n; ++k) {
    values[k] = d[order[k]];
    std::copy(q.begin() + order[k] * n, q.begin() + (order[k] + 1) * n, vectors + k * n);
  }
}

double iterativeQuantization(const float* v, size_t n, size_t c, int iterations, float* rotation) {
  for (size_t i = 0; i < n * c; ++i) {
    if (!std::isfinite(v[i])) throw std::invalid_argument("The projected embeddings must be finite");
  }
  const KernelTable& kernels = currentKernels();
  const ActParams none;
  // V as the right-hand side of M = B^T V (n x c), packed once.
  std::vector<float> vt(c * n);
  for (size_t r = 0; r < n; ++r) for (size_t k = 0; k < c; ++k) vt[k * n + r] = v[r * c + k];
  PackedRight packedV(vt.data(), c, n, n);
  std::vector<float> projected(n * c), signsT(c * n), m(c * c);
  std::vector<double> mtm(c * c), values(c), vectors(c * c), mw(c * c), r(c * c);
  double loss = 0;
  for (int it = 0; it <= iterations; ++it) {
    // V R^T: R^T as the right-hand side, B[k][j] = R[j][k].
    PackedRight packedR(rotation, c, c, c);
    kernels.gemm(static_cast<int64_t>(n), v, static_cast<int64_t>(c), packedR.matrix, none, projected.data(),
                 static_cast<int64_t>(c));
    loss = 0;
    for (size_t row = 0; row < n; ++row) {
      for (size_t j = 0; j < c; ++j) {
        const float x = projected[row * c + j];
        const float sign = x >= 0 ? 1.0f : -1.0f;
        loss += static_cast<double>(sign - x) * (sign - x);
        signsT[j * n + row] = sign;
      }
    }
    if (it == iterations) break;
    // M = B^T V.
    kernels.gemm(static_cast<int64_t>(c), signsT.data(), static_cast<int64_t>(n), packedV.matrix, none, m.data(),
                 static_cast<int64_t>(c));

    // The Procrustes solution is the polar factor of M: with M^T M = W S^2 W^T,
    // R = M W S^-1 W^T. The rows of `vectors` are the columns of W.
    std::fill(mtm.begin(), mtm.end(), 0.0);
    for (size_t k = 0; k < c; ++k) {
      const float* mk = m.data() + k * c;
      for (size_t i = 0; i < c; ++i) {
        const double x = mk[i];
        double* out = mtm.data() + i * c;
        for (size_t j = 0; j < c; ++j) out[j] += x * mk[j];
      }
    }
    symmetricEigen(mtm.data(), c, values.data(), vectors.data());
    const double floor = std::max(values[0], 1e-300) * 1e-20;
    for (size_t k = 0; k < c; ++k) {
      const double* w = vectors.data() + k * c;
      const double inverse = 1 / std::sqrt(std::max(values[k], floor));
      for (size_t i = 0; i < c; ++i) {
        const float* mi = m.data() + i * c;
        double s = 0;
        for (size_t j = 0; j < c; ++j) s += mi[j] * w[j];
        mw[i * c + k] = s * inverse;
      }
    }
    std::fill(r.begin(), r.end(), 0.0);
    for (size_t i = 0; i < c; ++i) {
      double* out = r.data() + i * c;
      for (size_t k = 0; k < c; ++k) {
        const double x = mw[i * c + k];
        const double* w = vectors.data() + k * c;
        for (size_t j = 0; j < c; ++j) out[j] += x * w[j];
      }
    }
    for (size_t i = 0; i < c * c; ++i) rotation[i] = static_cast<float>(r[i]);
  }
  return loss / static_cast<double>(std::max<size_t>(n, 1));
}

}  // namespace verify
}  // namespace facebits

// The learned pair head, projected sign codes and seeded orthogonal projections.
//
// Head features of a pair of L2-normalised embeddings a, b of dimension d, 2d in all:
//   g[i]     = d * a[i] * b[i]          sum over i, divided by d, is the cosine
//   g[d + i] = sqrt(d) * |a[i] - b[i]|
// p = sigmoid(w . g + bias). fitHead minimises the mean log loss plus
// (lambda / 2) * |w - prior|^2 with L-BFGS; the bias is not penalised. With the prior set
// to the cosine solution (w[i] = s / d on the products, 0 on the differences) a large
// lambda returns the logistic fit of cosine itself.

#include "verify.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

namespace facebits {

namespace {

Napi::Error invalid(Napi::Env env, const std::string& message) {
  Napi::Error error = Napi::Error::New(env, message);
  error.Set("code", Napi::String::New(env, "INVALID_ARGUMENT"));
  return error;
}

template <typename T>
Napi::TypedArrayOf<T> arrayArg(const Napi::CallbackInfo& info, size_t i, const char* name, napi_typedarray_type type,
                               const char* typeName) {
  const Napi::Value v = info[i];
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != type) {
    throw invalid(info.Env(), std::string("Expected a ") + typeName + " for " + name);
  }
  return v.As<Napi::TypedArrayOf<T>>();
}

int64_t intArg(const Napi::CallbackInfo& info, size_t i, const char* name, int64_t low, int64_t high) {
  const double d = info[i].IsNumber() ? info[i].As<Napi::Number>().DoubleValue() : NAN;
  if (!(d >= static_cast<double>(low) && d <= static_cast<double>(high)) || d != std::floor(d)) {
    throw invalid(info.Env(), std::string("Expected an integer from ") + std::to_string(low) + " to " +
                                  std::to_string(high) + " for " + name);
  }
  return static_cast<int64_t>(d);
}

double numberArg(const Napi::CallbackInfo& info, size_t i, const char* name) {
  const double d = info[i].IsNumber() ? info[i].As<Napi::Number>().DoubleValue() : NAN;
  if (!std::isfinite(d) || d < 0) throw invalid(info.Env(), std::string("Expected a finite number >= 0 for ") + name);
  return d;
}

// region: head

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

// fitHead(a, b, labels, dim, prior, lambda, maxIterations) -> { weights, iterations, loss, gradientNorm }
Napi::Value fitHeadJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Float32Array a = arrayArg<float>(info, 0, "a", napi_float32_array, "Float32Array");
  Napi::Float32Array b = arrayArg<float>(info, 1, "b", napi_float32_array, "Float32Array");
  Napi::Uint8Array labels = arrayArg<uint8_t>(info, 2, "labels", napi_uint8_array, "Uint8Array");
  const int64_t d = intArg(info, 3, "dim", 1, 1 << 16);
  Napi::Float64Array prior = arrayArg<double>(info, 4, "prior", napi_float64_array, "Float64Array");
  const double lambda = numberArg(info, 5, "lambda");
  const int64_t maxIterations = intArg(info, 6, "maxIterations", 1, 100000);
  const size_t n = labels.ElementLength();
  if (n == 0 || a.ElementLength() != n * d || b.ElementLength() != n * d) {
    throw invalid(env, "a and b must each hold labels.length x dim values");
  }
  if (prior.ElementLength() != static_cast<size_t>(2 * d + 1)) throw invalid(env, "prior must hold 2 x dim + 1 values");

  HeadProblem problem;
  problem.n = n;
  problem.p = static_cast<size_t>(2 * d);
  problem.lambda = lambda;
  problem.prior.assign(prior.Data(), prior.Data() + prior.ElementLength());
  problem.labels.resize(n);
  problem.features.resize(n * problem.p);
  const float scaleProduct = static_cast<float>(d), scaleDifference = std::sqrt(static_cast<float>(d));
  for (size_t r = 0; r < n; ++r) {
    const uint8_t label = labels.Data()[r];
    if (label > 1) throw invalid(env, "labels must be 0 or 1");
    problem.labels[r] = label;
    const float* x = a.Data() + r * d;
    const float* z = b.Data() + r * d;
    float* g = problem.features.data() + r * problem.p;
    for (int64_t i = 0; i < d; ++i) {
      if (!std::isfinite(x[i]) || !std::isfinite(z[i])) throw invalid(env, "Embeddings must be finite");
      g[i] = scaleProduct * x[i] * z[i];
      g[d + i] = scaleDifference * std::fabs(x[i] - z[i]);
    }
  }
  for (double v : problem.prior) if (!std::isfinite(v)) throw invalid(env, "prior must be finite");

  FitResult fit = lbfgs(problem, static_cast<int>(maxIterations), 1e-7);
  Napi::Float64Array weights = Napi::Float64Array::New(env, fit.x.size());
  std::copy(fit.x.begin(), fit.x.end(), weights.Data());
  Napi::Object out = Napi::Object::New(env);
  out.Set("weights", weights);
  out.Set("iterations", Napi::Number::New(env, fit.iterations));
  out.Set("loss", Napi::Number::New(env, fit.loss));
  out.Set("gradientNorm", Napi::Number::New(env, fit.gradientNorm));
  return out;
}

// endregion

// region: projection

// projectSigns(x, dim, mean, matrix, bits, offsets) -> codes, ceil(bits / 64) * 8 bytes per row.
// Bit j of row r is 1 when matrix[j] . (x[r] - mean) > offsets[j].
Napi::Value projectSignsJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Float32Array x = arrayArg<float>(info, 0, "x", napi_float32_array, "Float32Array");
  const int64_t d = intArg(info, 1, "dim", 1, 1 << 16);
  Napi::Float32Array mean = arrayArg<float>(info, 2, "mean", napi_float32_array, "Float32Array");
  Napi::Float32Array matrix = arrayArg<float>(info, 3, "matrix", napi_float32_array, "Float32Array");
  const int64_t bits = intArg(info, 4, "bits", 1, 1 << 16);
  Napi::Float32Array offsets = arrayArg<float>(info, 5, "offsets", napi_float32_array, "Float32Array");
  if (x.ElementLength() % d != 0) throw invalid(env, "x must hold a whole number of dim-value rows");
  if (mean.ElementLength() != static_cast<size_t>(d)) throw invalid(env, "mean must hold dim values");
  if (matrix.ElementLength() != static_cast<size_t>(bits * d)) throw invalid(env, "matrix must hold bits x dim values");
  if (offsets.ElementLength() != static_cast<size_t>(bits)) throw invalid(env, "offsets must hold bits values");
  const size_t rows = x.ElementLength() / d;
  const size_t bytes = static_cast<size_t>((bits + 63) / 64 * 8);
  Napi::Uint8Array out = Napi::Uint8Array::New(env, rows * bytes);
  std::memset(out.Data(), 0, rows * bytes);
  std::vector<float> centred(d);
  for (size_t r = 0; r < rows; ++r) {
    const float* row = x.Data() + r * d;
    for (int64_t i = 0; i < d; ++i) centred[i] = row[i] - mean.Data()[i];
    uint8_t* code = out.Data() + r * bytes;
    for (int64_t j = 0; j < bits; ++j) {
      const float* w = matrix.Data() + j * d;
      float s = 0;
      for (int64_t i = 0; i < d; ++i) s += w[i] * centred[i];
      if (s > offsets.Data()[j]) code[j / 8] |= static_cast<uint8_t>(1u << (j % 8));
    }
  }
  return out;
}

// projectValues(x, dim, mean, matrix, bits) -> rows x bits of matrix[j] . (x[r] - mean).
Napi::Value projectValuesJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Float32Array x = arrayArg<float>(info, 0, "x", napi_float32_array, "Float32Array");
  const int64_t d = intArg(info, 1, "dim", 1, 1 << 16);
  Napi::Float32Array mean = arrayArg<float>(info, 2, "mean", napi_float32_array, "Float32Array");
  Napi::Float32Array matrix = arrayArg<float>(info, 3, "matrix", napi_float32_array, "Float32Array");
  const int64_t bits = intArg(info, 4, "bits", 1, 1 << 16);
  if (x.ElementLength() % d != 0 || mean.ElementLength() != static_cast<size_t>(d) ||
      matrix.ElementLength() != static_cast<size_t>(bits * d)) {
    throw invalid(env, "x, mean and matrix must hold rows x dim, dim and bits x dim values");
  }
  const size_t rows = x.ElementLength() / d;
  Napi::Float32Array out = Napi::Float32Array::New(env, rows * bits);
  std::vector<float> centred(d);
  for (size_t r = 0; r < rows; ++r) {
    for (int64_t i = 0; i < d; ++i) centred[i] = x.Data()[r * d + i] - mean.Data()[i];
    for (int64_t j = 0; j < bits; ++j) {
      const float* w = matrix.Data() + j * d;
      float s = 0;
      for (int64_t i = 0; i < d; ++i) s += w[i] * centred[i];
      out.Data()[r * bits + j] = s;
    }
  }
  return out;
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

// randomOrthogonal(rows, cols, seed) -> rows x cols, row-major. Rows come in blocks of up
// to cols rows; the rows of one block are orthonormal (Gram-Schmidt of Gaussian rows, twice),
// and each block is drawn independently.
Napi::Value randomOrthogonalJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const int64_t rows = intArg(info, 0, "rows", 1, 1 << 16);
  const int64_t cols = intArg(info, 1, "cols", 1, 1 << 16);
  const int64_t seed = intArg(info, 2, "seed", 0, 9007199254740991LL);
  Rng rng(static_cast<uint64_t>(seed));
  std::vector<double> block(static_cast<size_t>(cols * cols));
  Napi::Float32Array out = Napi::Float32Array::New(env, static_cast<size_t>(rows * cols));
  for (int64_t start = 0; start < rows; start += cols) {
    const int64_t count = std::min(cols, rows - start);
    for (int64_t r = 0; r < count; ++r) {
      double* v = block.data() + r * cols;
      for (int64_t i = 0; i < cols; ++i) v[i] = rng.gaussian();
      for (int pass = 0; pass < 2; ++pass) {
        for (int64_t q = 0; q < r; ++q) {
          const double* u = block.data() + q * cols;
          double p = 0;
          for (int64_t i = 0; i < cols; ++i) p += u[i] * v[i];
          for (int64_t i = 0; i < cols; ++i) v[i] -= p * u[i];
        }
      }
      double norm = 0;
      for (int64_t i = 0; i < cols; ++i) norm += v[i] * v[i];
      norm = std::sqrt(norm);
      for (int64_t i = 0; i < cols; ++i) {
        v[i] /= norm;
        out.Data()[(start + r) * cols + i] = static_cast<float>(v[i]);
      }
    }
  }
  return out;
}

// symmetricEigen(a, n) -> { values, vectors }: cyclic Jacobi rotations until the
// off-diagonal mass is negligible. Values descend; row k of vectors is the k-th eigenvector.
Napi::Value symmetricEigenJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Float64Array input = arrayArg<double>(info, 0, "a", napi_float64_array, "Float64Array");
  const int64_t n = intArg(info, 1, "n", 1, 4096);
  if (input.ElementLength() != static_cast<size_t>(n * n)) throw invalid(env, "a must hold n x n values");
  std::vector<double> a(input.Data(), input.Data() + n * n), v(static_cast<size_t>(n * n), 0.0);
  for (int64_t i = 0; i < n; ++i) v[i * n + i] = 1.0;
  auto at = [&](int64_t r, int64_t c) -> double& { return a[r * n + c]; };
  double total = 0;
  for (double x : a) total += x * x;
  for (int sweep = 0; sweep < 60; ++sweep) {
    double off = 0;
    for (int64_t p = 0; p < n; ++p) for (int64_t q = p + 1; q < n; ++q) off += at(p, q) * at(p, q);
    if (off <= 1e-26 * total) break;
    for (int64_t p = 0; p < n; ++p) {
      for (int64_t q = p + 1; q < n; ++q) {
        const double apq = at(p, q);
        if (std::fabs(apq) < 1e-300) continue;
        const double theta = (at(q, q) - at(p, p)) / (2 * apq);
        const double t = (theta >= 0 ? 1.0 : -1.0) / (std::fabs(theta) + std::sqrt(theta * theta + 1));
        const double c = 1 / std::sqrt(t * t + 1), s = t * c;
        // A <- J^T A J on rows and columns p, q (A stays symmetric, stored in full).
        for (int64_t k = 0; k < n; ++k) {
          const double akp = at(k, p), akq = at(k, q);
          at(k, p) = c * akp - s * akq;
          at(k, q) = s * akp + c * akq;
        }
        for (int64_t k = 0; k < n; ++k) {
          const double apk = at(p, k), aqk = at(q, k);
          at(p, k) = c * apk - s * aqk;
          at(q, k) = s * apk + c * aqk;
        }
        // Eigenvectors are the rows of v.
        double* vp = v.data() + p * n;
        double* vq = v.data() + q * n;
        for (int64_t k = 0; k < n; ++k) {
          const double x = vp[k], y = vq[k];
          vp[k] = c * x - s * y;
          vq[k] = s * x + c * y;
        }
      }
    }
  }
  std::vector<int64_t> order(n);
  for (int64_t i = 0; i < n; ++i) order[i] = i;
  std::sort(order.begin(), order.end(), [&](int64_t x, int64_t y) { return at(x, x) > at(y, y); });
  Napi::Float64Array values = Napi::Float64Array::New(env, n);
  Napi::Float64Array vectors = Napi::Float64Array::New(env, n * n);
  for (int64_t k = 0; k < n; ++k) {
    values.Data()[k] = at(order[k], order[k]);
    std::copy(v.begin() + order[k] * n, v.begin() + (order[k] + 1) * n, vectors.Data() + k * n);
  }
  Napi::Object out = Napi::Object::New(env);
  out.Set("values", values);
  out.Set("vectors", vectors);
  return out;
}

// endregion

}  // namespace

void registerVerify(Napi::Env env, Napi::Object exports) {
  exports.Set("fitHead", Napi::Function::New(env, fitHeadJs, "fitHead"));
  exports.Set("projectSigns", Napi::Function::New(env, projectSignsJs, "projectSigns"));
  exports.Set("projectValues", Napi::Function::New(env, projectValuesJs, "projectValues"));
  exports.Set("symmetricEigen", Napi::Function::New(env, symmetricEigenJs, "symmetricEigen"));
  exports.Set("randomOrthogonal", Napi::Function::New(env, randomOrthogonalJs, "randomOrthogonal"));
}

}  // namespace facebits

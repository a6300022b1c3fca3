// Node-API bindings of the verification core (verify_core.h): argument checks here, the
// arithmetic there, so that the WebAssembly build runs the same code.

#include "verify.h"

#include "verify_core.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <stdexcept>
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

  verify::HeadFit fit;
  try {
    fit = verify::fitHead(a.Data(), b.Data(), labels.Data(), n, static_cast<size_t>(d), prior.Data(), lambda,
                          static_cast<int>(maxIterations));
  } catch (const std::invalid_argument& error) {
    throw invalid(env, error.what());
  }
  Napi::Float64Array weights = Napi::Float64Array::New(env, fit.weights.size());
  std::copy(fit.weights.begin(), fit.weights.end(), weights.Data());
  Napi::Object out = Napi::Object::New(env);
  out.Set("weights", weights);
  out.Set("iterations", Napi::Number::New(env, fit.iterations));
  out.Set("loss", Napi::Number::New(env, fit.loss));
  out.Set("gradientNorm", Napi::Number::New(env, fit.gradientNorm));
  return out;
}

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
  verify::projectSigns(x.Data(), rows, static_cast<size_t>(d), mean.Data(), matrix.Data(), static_cast<size_t>(bits),
                       offsets.Data(), out.Data());
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
  verify::projectValues(x.Data(), rows, static_cast<size_t>(d), mean.Data(), matrix.Data(), static_cast<size_t>(bits),
                        out.Data());
  return out;
}

// randomOrthogonal(rows, cols, seed) -> rows x cols, row-major, orthonormal rows in blocks of cols.
Napi::Value randomOrthogonalJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const int64_t rows = intArg(info, 0, "rows", 1, 1 << 16);
  const int64_t cols = intArg(info, 1, "cols", 1, 1 << 16);
  const int64_t seed = intArg(info, 2, "seed", 0, 9007199254740991LL);
  Napi::Float32Array out = Napi::Float32Array::New(env, static_cast<size_t>(rows * cols));
  verify::randomOrthogonal(static_cast<size_t>(rows), static_cast<size_t>(cols), static_cast<uint64_t>(seed),
                           out.Data());
  return out;
}

// symmetricEigen(a, n) -> { values, vectors }: values descend; row k of vectors is the k-th eigenvector.
Napi::Value symmetricEigenJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Float64Array input = arrayArg<double>(info, 0, "a", napi_float64_array, "Float64Array");
  const int64_t n = intArg(info, 1, "n", 1, 4096);
  if (input.ElementLength() != static_cast<size_t>(n * n)) throw invalid(env, "a must hold n x n values");
  for (size_t i = 0; i < input.ElementLength(); ++i) {
    if (!std::isfinite(input.Data()[i])) throw invalid(env, "a must be finite");
  }
  Napi::Float64Array values = Napi::Float64Array::New(env, n);
  Napi::Float64Array vectors = Napi::Float64Array::New(env, n * n);
  verify::symmetricEigen(input.Data(), static_cast<size_t>(n), values.Data(), vectors.Data());
  Napi::Object out = Napi::Object::New(env);
  out.Set("values", values);
  out.Set("vectors", vectors);
  return out;
}

// iterativeQuantization(v, c, rotation, iterations) -> { rotation, loss }: v holds rows of c
// values, rotation the c x c starting rotation (copied, not changed).
Napi::Value iterativeQuantizationJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Float32Array v = arrayArg<float>(info, 0, "v", napi_float32_array, "Float32Array");
  const int64_t c = intArg(info, 1, "c", 1, 4096);
  Napi::Float32Array start = arrayArg<float>(info, 2, "rotation", napi_float32_array, "Float32Array");
  const int64_t iterations = intArg(info, 3, "iterations", 0, 10000);
  if (v.ElementLength() % c != 0) throw invalid(env, "v must hold a whole number of c-value rows");
  if (start.ElementLength() != static_cast<size_t>(c * c)) throw invalid(env, "rotation must hold c x c values");
  Napi::Float32Array rotation = Napi::Float32Array::New(env, static_cast<size_t>(c * c));
  std::copy(start.Data(), start.Data() + c * c, rotation.Data());
  double loss = 0;
  try {
    loss = verify::iterativeQuantization(v.Data(), v.ElementLength() / c, static_cast<size_t>(c),
                                         static_cast<int>(iterations), rotation.Data());
  } catch (const std::invalid_argument& error) {
    throw invalid(env, error.what());
  }
  Napi::Object out = Napi::Object::New(env);
  out.Set("rotation", rotation);
  out.Set("loss", Napi::Number::New(env, loss));
  return out;
}

}  // namespace

void registerVerify(Napi::Env env, Napi::Object exports) {
  exports.Set("fitHead", Napi::Function::New(env, fitHeadJs, "fitHead"));
  exports.Set("projectSigns", Napi::Function::New(env, projectSignsJs, "projectSigns"));
  exports.Set("projectValues", Napi::Function::New(env, projectValuesJs, "projectValues"));
  exports.Set("symmetricEigen", Napi::Function::New(env, symmetricEigenJs, "symmetricEigen"));
  exports.Set("randomOrthogonal", Napi::Function::New(env, randomOrthogonalJs, "randomOrthogonal"));
  exports.Set("iterativeQuantization", Napi::Function::New(env, iterativeQuantizationJs, "iterativeQuantization"));
}

}  // namespace facebits

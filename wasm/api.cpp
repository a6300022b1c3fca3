// C entry points of the WebAssembly build. lib/wasm.ts wraps them in the NativeBinding
// interface of lib/native.ts and does the argument checks that native/addon.cpp does.
//
// Pointers are offsets into the module's linear memory. A function that can fail returns
// 0 and leaves the message for fb_last_error(). fb_last_error_code() is 1 (INVALID_MODEL)
// for a malformed plan and 2 for any other failure.

#include <emscripten/emscripten.h>

#include <algorithm>
#include <cstdint>
#include <new>
#include <stdexcept>
#include <string>
#include <vector>

#include "../native/binary.h"
#include "../native/cpu.h"
#include "../native/executor.h"
#include "../native/image.h"
#include "../native/verify_core.h"

using facebits::Model;
using facebits::TensorOutput;

namespace {

std::string lastError;
int32_t lastErrorCode = 0;
std::string isaNames;

void fail(int32_t code, const std::string& message) {
  lastErrorCode = code;
  lastError = message;
}

}  // namespace

extern "C" {

EMSCRIPTEN_KEEPALIVE const char* fb_last_error() { return lastError.c_str(); }
EMSCRIPTEN_KEEPALIVE int32_t fb_last_error_code() { return lastErrorCode; }

EMSCRIPTEN_KEEPALIVE Model* fb_model_create(const int32_t* words, uint32_t wordCount, const float* weights,
                                            uint32_t weightCount) {
  try {
    return new Model(words, wordCount, weights, weightCount);
  } catch (const facebits::PlanError& error) {
    fail(1, error.what());
  } catch (const std::bad_alloc&) {
    fail(1, "Out of memory while loading the plan");
  } catch (const std::exception& error) {
    fail(1, error.what());
  }
  return nullptr;
}

EMSCRIPTEN_KEEPALIVE void fb_model_free(Model* model) { delete model; }

EMSCRIPTEN_KEEPALIVE uint32_t fb_model_input_count(const Model* model) {
  return static_cast<uint32_t>(model->inputCount());
}

// Number of floats input `index` takes.
EMSCRIPTEN_KEEPALIVE double fb_model_input_size(const Model* model, uint32_t index) {
  return static_cast<double>(model->inputShape(index).size());
}

// Shape of input `index` as text, for error messages. It reuses fb_last_error's buffer.
EMSCRIPTEN_KEEPALIVE const char* fb_model_input_shape(const Model* model, uint32_t index) {
  lastError = model->inputShape(index).toString();
  return lastError.c_str();
}

// Runs the model on the current kernel set. inputs contains one pointer per plan input.
// Returns the outputs, to read with fb_outputs_* and free with fb_outputs_free.
EMSCRIPTEN_KEEPALIVE std::vector<TensorOutput>* fb_model_run(const Model* model, const float* const* inputs) {
  try {
    return new std::vector<TensorOutput>(model->run(inputs, facebits::currentKernels()));
  } catch (const std::bad_alloc&) {
    fail(2, "Out of memory while running the model");
  } catch (const std::exception& error) {
    fail(2, error.what());
  }
  return nullptr;
}

// Runs the model `runs` times and returns each op's time as a JSON array of
// [description, flops, seconds, fusedInto], or null after an error (see fb_last_error).
EMSCRIPTEN_KEEPALIVE const char* fb_model_profile(const Model* model, const float* const* inputs, int32_t runs) {
  static std::string json;
  try {
    const std::vector<facebits::OpProfile> ops = model->profile(inputs, facebits::currentKernels(), runs);
    json = "[";
    for (size_t i = 0; i < ops.size(); ++i) {
      // Descriptions hold letters, digits, spaces and ",->x", so they need no escaping.
      json += (i ? ",[\"" : "[\"") + ops[i].description + "\"," + std::to_string(ops[i].flops) + "," +
              std::to_string(ops[i].seconds) + "," + std::to_string(ops[i].fusedInto) + "]";
    }
    json += "]";
    return json.c_str();
  } catch (const std::bad_alloc&) {
    fail(2, "Out of memory while running the model");
  } catch (const std::exception& error) {
    fail(2, error.what());
  }
  return nullptr;
}

EMSCRIPTEN_KEEPALIVE uint32_t fb_outputs_count(const std::vector<TensorOutput>* outputs) {
  return static_cast<uint32_t>(outputs->size());
}
EMSCRIPTEN_KEEPALIVE const float* fb_outputs_data(const std::vector<TensorOutput>* outputs, uint32_t i) {
  return (*outputs)[i].data.data();
}
EMSCRIPTEN_KEEPALIVE uint32_t fb_outputs_size(const std::vector<TensorOutput>* outputs, uint32_t i) {
  return static_cast<uint32_t>((*outputs)[i].data.size());
}
EMSCRIPTEN_KEEPALIVE int32_t fb_outputs_rank(const std::vector<TensorOutput>* outputs, uint32_t i) {
  return (*outputs)[i].shape.rank;
}
EMSCRIPTEN_KEEPALIVE double fb_outputs_dim(const std::vector<TensorOutput>* outputs, uint32_t i, int32_t d) {
  return static_cast<double>((*outputs)[i].shape.dims[d]);
}
EMSCRIPTEN_KEEPALIVE void fb_outputs_free(std::vector<TensorOutput>* outputs) { delete outputs; }

EMSCRIPTEN_KEEPALIVE const char* fb_isa() { return facebits::currentKernels().name; }

// Comma-separated kernel set names, best first.
EMSCRIPTEN_KEEPALIVE const char* fb_supported_isas() {
  isaNames.clear();
  for (const std::string& name : facebits::supportedIsas()) isaNames += (isaNames.empty() ? "" : ",") + name;
  return isaNames.c_str();
}

EMSCRIPTEN_KEEPALIVE int32_t fb_set_isa(const char* name) { return facebits::setIsa(name) ? 1 : 0; }

EMSCRIPTEN_KEEPALIVE void fb_resize_bilinear(const uint8_t* src, int32_t width, int32_t height, int32_t channels,
                                             int32_t dstWidth, int32_t dstHeight, int32_t swapRB, float* dst) {
  facebits::resizeBilinearU8(src, width, height, channels, dstWidth, dstHeight, swapRB != 0, dst);
}

EMSCRIPTEN_KEEPALIVE void fb_warp_affine(const uint8_t* src, int32_t width, int32_t height, int32_t channels,
                                         const double* matrix, int32_t dstWidth, int32_t dstHeight, float border,
                                         int32_t swapRB, float* dst) {
  facebits::warpAffineU8(src, width, height, channels, matrix, dstWidth, dstHeight, border, swapRB != 0, dst);
}

EMSCRIPTEN_KEEPALIVE void fb_pack_signs(const float* values, uint32_t count, uint8_t* out) {
  facebits::binary::packSignsSerial(values, count, out);
}

// Hamming distance from query to each of count codes of `bytes` bytes, into out.
EMSCRIPTEN_KEEPALIVE void fb_hamming_many(const uint8_t* query, const uint8_t* codes, uint32_t bytes, uint32_t count,
                                          uint32_t* out) {
  for (uint32_t i = 0; i < count; ++i) {
    out[i] = static_cast<uint32_t>(facebits::binary::hammingSerial(query, codes + size_t(i) * bytes, bytes));
  }
}

// The verification core. Arguments are checked by lib/wasm.ts; fb_fit_head and
// fb_iterative_quantization return 0 and leave the message for fb_last_error() on failure.

// Writes 2 x dim + 1 weights, then iterations, loss and gradient norm into stats (3 values).
EMSCRIPTEN_KEEPALIVE int32_t fb_fit_head(const float* a, const float* b, const uint8_t* labels, uint32_t n, uint32_t dim,
                                         const double* prior, double lambda, int32_t maxIterations, double* weights,
                                         double* stats) {
  try {
    facebits::verify::HeadFit fit = facebits::verify::fitHead(a, b, labels, n, dim, prior, lambda, maxIterations);
    std::copy(fit.weights.begin(), fit.weights.end(), weights);
    stats[0] = fit.iterations;
    stats[1] = fit.loss;
    stats[2] = fit.gradientNorm;
    return 1;
  } catch (const std::invalid_argument& error) {
    fail(2, error.what());
  } catch (const std::bad_alloc&) {
    fail(2, "Out of memory while fitting the head");
  }
  return 0;
}

EMSCRIPTEN_KEEPALIVE void fb_project_signs(const float* x, uint32_t rows, uint32_t dim, const float* mean,
                                           const float* matrix, uint32_t bits, const float* offsets, uint8_t* out) {
  facebits::verify::projectSigns(x, rows, dim, mean, matrix, bits, offsets, out);
}

EMSCRIPTEN_KEEPALIVE void fb_project_values(const float* x, uint32_t rows, uint32_t dim, const float* mean,
                                            const float* matrix, uint32_t bits, float* out) {
  facebits::verify::projectValues(x, rows, dim, mean, matrix, bits, out);
}

EMSCRIPTEN_KEEPALIVE void fb_random_orthogonal(uint32_t rows, uint32_t cols, double seed, float* out) {
  facebits::verify::randomOrthogonal(rows, cols, static_cast<uint64_t>(seed), out);
}

EMSCRIPTEN_KEEPALIVE void fb_symmetric_eigen(const double* a, uint32_t n, double* values, double* vectors) {
  facebits::verify::symmetricEigen(a, n, values, vectors);
}

// rotation holds the starting rotation and receives the result; loss receives one value.
EMSCRIPTEN_KEEPALIVE int32_t fb_iterative_quantization(const float* v, uint32_t rows, uint32_t c, int32_t iterations,
                                                       float* rotation, double* loss) {
  try {
    *loss = facebits::verify::iterativeQuantization(v, rows, c, iterations, rotation);
    return 1;
  } catch (const std::invalid_argument& error) {
    fail(2, error.what());
  } catch (const std::bad_alloc&) {
    fail(2, "Out of memory during iterative quantisation");
  }
  return 0;
}

}  // extern "C"

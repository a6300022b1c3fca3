// N-API binding (node-addon-api, C++ exceptions on). Exports the NativeBinding
// interface of lib/native.ts. Errors carry a `code`: INVALID_ARGUMENT for bad call
// arguments, INVALID_MODEL for a malformed plan or a disposed model.

#include <napi.h>

#include <cmath>
#include <cstring>
#include <memory>
#include <new>
#include <string>
#include <vector>

#include "binary.h"
#include "cpu.h"
#include "executor.h"
#include "image.h"
#include "verify.h"
#include "search.h"

namespace facebits {

namespace {

Napi::Error typedError(Napi::Env env, const char* code, const std::string& message) {
  Napi::Error error = Napi::Error::New(env, message);
  error.Set("code", Napi::String::New(env, code));
  return error;
}

Napi::Error invalidArgument(Napi::Env env, const std::string& message) {
  return typedError(env, "INVALID_ARGUMENT", message);
}

std::string describe(const Napi::Value& value) {
  if (value.IsTypedArray()) return "a typed array of length " + std::to_string(value.As<Napi::TypedArray>().ElementLength());
  if (value.IsNumber()) {
    // As JavaScript prints it, so the message shows the value that was passed.
    return value.ToString().Utf8Value();
  }
  if (value.IsString()) return "\"" + value.As<Napi::String>().Utf8Value() + "\"";
  if (value.IsUndefined()) return "undefined";
  if (value.IsNull()) return "null";
  if (value.IsArray()) return "an array";
  if (value.IsBoolean()) return value.As<Napi::Boolean>().Value() ? "true" : "false";
  return "a value of another type";
}

int64_t integerArg(const Napi::CallbackInfo& info, size_t i, const char* name, int64_t low, int64_t high) {
  const Napi::Value v = info[i];
  const double d = v.IsNumber() ? v.As<Napi::Number>().DoubleValue() : NAN;
  if (!(d >= static_cast<double>(low) && d <= static_cast<double>(high)) || d != std::floor(d)) {
    throw invalidArgument(info.Env(), std::string("Expected an integer from ") + std::to_string(low) + " to " +
                                          std::to_string(high) + " for " + name + " but received " + describe(v));
  }
  return static_cast<int64_t>(d);
}

bool booleanArg(const Napi::CallbackInfo& info, size_t i, const char* name) {
  const Napi::Value v = info[i];
  if (!v.IsBoolean()) {
    throw invalidArgument(info.Env(), std::string("Expected a boolean for ") + name + " but received " + describe(v));
  }
  return v.As<Napi::Boolean>().Value();
}

template <typename T>
Napi::TypedArrayOf<T> typedArrayArg(const Napi::CallbackInfo& info, size_t i, const char* name, napi_typedarray_type type,
                                    const char* typeName) {
  const Napi::Value v = info[i];
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != type) {
    throw invalidArgument(info.Env(), std::string("Expected a ") + typeName + " for " + name + " but received " + describe(v));
  }
  return v.As<Napi::TypedArrayOf<T>>();
}

std::string shapeText(const Shape& s) { return s.toString(); }

Napi::Array outputsToJs(Napi::Env env, const std::vector<TensorOutput>& outputs) {
  Napi::Array result = Napi::Array::New(env, outputs.size());
  for (size_t i = 0; i < outputs.size(); ++i) {
    const TensorOutput& t = outputs[i];
    Napi::Float32Array data = Napi::Float32Array::New(env, t.data.size());
    std::copy(t.data.begin(), t.data.end(), data.Data());
    Napi::Array shape = Napi::Array::New(env, t.shape.rank);
    for (int32_t d = 0; d < t.shape.rank; ++d) shape.Set(d, Napi::Number::New(env, static_cast<double>(t.shape.dims[d])));
    Napi::Object tensor = Napi::Object::New(env);
    tensor.Set("data", data);
    tensor.Set("shape", shape);
    result.Set(i, tensor);
  }
  return result;
}

// Returns the data pointers of a plan's checked inputs, in input order.
std::vector<const float*> dataOf(std::vector<Napi::Float32Array>& inputs) {
  std::vector<const float*> data;
  for (Napi::Float32Array& input : inputs) data.push_back(input.Data());
  return data;
}

// Runs a plan on the libuv pool, once per input set. It holds its own reference to the
// model, so a dispose() during the run frees the model only when the run is done, and
// references to the input arrays so the garbage collector keeps them while Execute reads
// them. A batch (runBatch) resolves to one output array per set, a single run to its outputs.
class RunWorker : public Napi::AsyncWorker {
 public:
  RunWorker(Napi::Env env, std::shared_ptr<const Model> model, std::vector<std::vector<Napi::Float32Array>> sets, bool batch)
      : Napi::AsyncWorker(env, "facebits.run"),
        deferred_(Napi::Promise::Deferred::New(env)),
        model_(std::move(model)),
        kernels_(&currentKernels()),
        batch_(batch) {
    for (std::vector<Napi::Float32Array>& inputs : sets) {
      for (Napi::Float32Array& input : inputs) references_.push_back(Napi::Persistent(input));
      data_.push_back(dataOf(inputs));
    }
  }

  Napi::Promise promise() const { return deferred_.Promise(); }

  void Execute() override {
    try {
      for (const std::vector<const float*>& data : data_) outputs_.push_back(model_->run(data.data(), *kernels_));
    } catch (const std::bad_alloc&) {
      SetError("Out of memory while running the model");
    } catch (const std::exception& error) {
      SetError(error.what());
    }
  }

  void OnOK() override {
    Napi::Env env = Env();
    if (batch_) {
      Napi::Array sets = Napi::Array::New(env, outputs_.size());
      for (size_t i = 0; i < outputs_.size(); ++i) sets.Set(static_cast<uint32_t>(i), outputsToJs(env, outputs_[i]));
      deferred_.Resolve(sets);
    } else {
      deferred_.Resolve(outputsToJs(env, outputs_[0]));
    }
    model_.reset();
  }

  void OnError(const Napi::Error& error) override {
    deferred_.Reject(error.Value());
    model_.reset();
  }

 private:
  Napi::Promise::Deferred deferred_;
  std::shared_ptr<const Model> model_;
  const KernelTable* kernels_;
  bool batch_;
  std::vector<std::vector<const float*>> data_;
  std::vector<Napi::Reference<Napi::Float32Array>> references_;
  std::vector<std::vector<TensorOutput>> outputs_;
};

class ModelWrap : public Napi::ObjectWrap<ModelWrap> {
 public:
  static Napi::Function define(Napi::Env env) {
    return DefineClass(env, "Model",
                       {InstanceMethod("run", &ModelWrap::run), InstanceMethod("runSync", &ModelWrap::runSync),
                        InstanceMethod("runBatch", &ModelWrap::runBatch), InstanceMethod("dispose", &ModelWrap::dispose),
                        InstanceMethod("bf16Layers", &ModelWrap::bf16Layers),
                        InstanceMethod("profileSync", &ModelWrap::profileSync)});
  }

  explicit ModelWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<ModelWrap>(info) {
    Napi::Env env = info.Env();
    Napi::Int32Array words = typedArrayArg<int32_t>(info, 0, "words", napi_int32_array, "Int32Array");
    Napi::Float32Array weights = typedArrayArg<float>(info, 1, "weights", napi_float32_array, "Float32Array");
    const Precision precision = precisionArg(info, 2);
    try {
      model_ = std::make_shared<const Model>(words.Data(), words.ElementLength(), weights.Data(), weights.ElementLength(),
                                             precision);
    } catch (const PlanError& error) {
      throw typedError(env, "INVALID_MODEL", error.what());
    } catch (const std::bad_alloc&) {
      throw typedError(env, "INVALID_MODEL", "Out of memory while loading the plan");
    }
  }

 private:
  // Checks the inputs against the plan and returns them as typed arrays.
  std::vector<Napi::Float32Array> checkInputs(const Napi::CallbackInfo& info, const Model& model) {
    return checkInputs(info.Env(), info[0], model);
  }

  std::vector<Napi::Float32Array> checkInputs(Napi::Env env, const Napi::Value value, const Model& model) {
    if (!value.IsArray()) throw invalidArgument(env, "Expected an array of Float32Array inputs but received " + describe(value));
    Napi::Array array = value.As<Napi::Array>();
    if (array.Length() != model.inputCount()) {
      throw invalidArgument(env, "Expected " + std::to_string(model.inputCount()) + " inputs but received " +
                                     std::to_string(array.Length()));
    }
    std::vector<Napi::Float32Array> inputs;
    for (uint32_t i = 0; i < array.Length(); ++i) {
      const Napi::Value item = array.Get(i);
      const Shape& shape = model.inputShape(i);
      if (!item.IsTypedArray() || item.As<Napi::TypedArray>().TypedArrayType() != napi_float32_array) {
        throw invalidArgument(env, "Expected a Float32Array for input " + std::to_string(i) + " but received " + describe(item));
      }
      Napi::Float32Array input = item.As<Napi::Float32Array>();
      if (static_cast<int64_t>(input.ElementLength()) != shape.size()) {
        throw invalidArgument(env, "Input " + std::to_string(i) + " has " + std::to_string(input.ElementLength()) +
                                       " floats; expected " + std::to_string(shape.size()) + " for shape " + shapeText(shape));
      }
      inputs.push_back(input);
    }
    return inputs;
  }

  // Reads the optional { precision: 'fp32' | 'bf16' } argument.
  static Precision precisionArg(const Napi::CallbackInfo& info, size_t index) {
    Napi::Env env = info.Env();
    if (info.Length() <= index || info[index].IsUndefined()) return Precision::FP32;
    if (!info[index].IsObject()) throw invalidArgument(env, "Expected an options object for options but received " + describe(info[index]));
    const Napi::Value value = info[index].As<Napi::Object>().Get("precision");
    if (value.IsUndefined()) return Precision::FP32;
    const std::string name = value.IsString() ? value.As<Napi::String>().Utf8Value() : "";
    if (name == "fp32") return Precision::FP32;
    if (name == "bf16") return Precision::BF16;
    throw invalidArgument(env, "Expected 'fp32' or 'bf16' for options.precision but received " + describe(value));
  }

  Napi::Value bf16Layers(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), static_cast<double>(liveModel(info.Env())->bf16Layers()));
  }

  std::shared_ptr<const Model> liveModel(Napi::Env env) {
    if (!model_) throw typedError(env, "INVALID_MODEL", "The model is disposed; create a new Model to run this plan");
    return model_;
  }

  // Queues the worker that makeWorker builds and returns its promise, or returns a rejected
  // promise when makeWorker throws, so argument errors reach the caller as rejections.
  template <typename MakeWorker>
  static Napi::Value queue(Napi::Env env, MakeWorker makeWorker) {
    try {
      RunWorker* worker = makeWorker();
      Napi::Promise promise = worker->promise();
      worker->Queue();
      return promise;
    } catch (const Napi::Error& error) {
      Napi::Promise::Deferred deferred = Napi::Promise::Deferred::New(env);
      deferred.Reject(error.Value());
      return deferred.Promise();
    }
  }

  Napi::Value run(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    return queue(env, [&] {
      std::shared_ptr<const Model> model = liveModel(env);
      std::vector<Napi::Float32Array> inputs = checkInputs(info, *model);
      return new RunWorker(env, model, {inputs}, false);
    });
  }

  // Maximum number of input sets per runBatch call.
  static constexpr uint32_t kMaxBatch = 65536;

  Napi::Value runBatch(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    return queue(env, [&] {
      std::shared_ptr<const Model> model = liveModel(env);
      if (!info[0].IsArray()) throw invalidArgument(env, "Expected an array of input arrays for sets but received " + describe(info[0]));
      Napi::Array array = info[0].As<Napi::Array>();
      if (array.Length() > kMaxBatch) {
        throw invalidArgument(env, "Expected at most " + std::to_string(kMaxBatch) + " input sets for sets but received " +
                                       std::to_string(array.Length()) + "; split the batch");
      }
      std::vector<std::vector<Napi::Float32Array>> sets;
      for (uint32_t i = 0; i < array.Length(); ++i) {
        try {
          sets.push_back(checkInputs(env, array.Get(i), *model));
        } catch (const Napi::Error& error) {
          throw invalidArgument(env, "Input set " + std::to_string(i) + ": " + error.Message());
        }
      }
      return new RunWorker(env, model, std::move(sets), true);
    });
  }

  Napi::Value runSync(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    std::shared_ptr<const Model> model = liveModel(env);
    std::vector<Napi::Float32Array> inputs = checkInputs(info, *model);
    const std::vector<const float*> data = dataOf(inputs);
    std::vector<TensorOutput> outputs;
    try {
      outputs = model->run(data.data(), currentKernels());
    } catch (const std::bad_alloc&) {
      throw Napi::Error::New(env, "Out of memory while running the model");
    }
    return outputsToJs(env, outputs);
  }

  // profileSync(inputs, runs): each op's description, flops and seconds over `runs` runs.
  Napi::Value profileSync(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    std::shared_ptr<const Model> model = liveModel(env);
    std::vector<Napi::Float32Array> inputs = checkInputs(info, *model);
    const int64_t runs = integerArg(info, 1, "runs", 1, 1000000);
    const std::vector<const float*> data = dataOf(inputs);
    std::vector<OpProfile> ops;
    try {
      ops = model->profile(data.data(), currentKernels(), runs);
    } catch (const std::bad_alloc&) {
      throw Napi::Error::New(env, "Out of memory while running the model");
    }
    Napi::Array result = Napi::Array::New(env, ops.size());
    for (size_t i = 0; i < ops.size(); ++i) {
      Napi::Object entry = Napi::Object::New(env);
      entry.Set("description", ops[i].description);
      entry.Set("flops", ops[i].flops);
      entry.Set("seconds", ops[i].seconds);
      entry.Set("fusedInto", static_cast<double>(ops[i].fusedInto));
      result.Set(static_cast<uint32_t>(i), entry);
    }
    return result;
  }

  Napi::Value dispose(const Napi::CallbackInfo& info) {
    model_.reset();
    return info.Env().Undefined();
  }

  std::shared_ptr<const Model> model_;
};

Napi::Value isa(const Napi::CallbackInfo& info) { return Napi::String::New(info.Env(), currentKernels().name); }

Napi::Value stringArray(Napi::Env env, const std::vector<std::string>& names) {
  Napi::Array result = Napi::Array::New(env, names.size());
  for (size_t i = 0; i < names.size(); ++i) result.Set(static_cast<uint32_t>(i), Napi::String::New(env, names[i]));
  return result;
}

std::string joined(const std::vector<std::string>& names) {
  std::string list;
  for (const std::string& s : names) list += (list.empty() ? "" : ", ") + s;
  return list.empty() ? "none" : list;
}

Napi::Value supportedIsasJs(const Napi::CallbackInfo& info) { return stringArray(info.Env(), supportedIsas()); }

Napi::Value setIsaJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsString()) throw invalidArgument(env, "Expected an ISA name string but received " + describe(info[0]));
  const std::string name = info[0].As<Napi::String>().Utf8Value();
  if (!setIsa(name)) {
    throw invalidArgument(env, "ISA \"" + name + "\" is not supported by this CPU or build; supported: " + joined(supportedIsas()));
  }
  return env.Undefined();
}

Napi::Value bf16GemmJs(const Napi::CallbackInfo& info) {
  const std::string name = bf16GemmName();
  return name.empty() ? info.Env().Null() : Napi::String::New(info.Env(), name);
}

Napi::Value supportedBf16GemmsJs(const Napi::CallbackInfo& info) { return stringArray(info.Env(), supportedBf16Gemms()); }

Napi::Value setBf16GemmJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsString()) {
    throw invalidArgument(env, "Expected a bf16 GEMM name string but received " + describe(info[0]));
  }
  const std::string name = info[0].As<Napi::String>().Utf8Value();
  if (!setBf16Gemm(name)) {
    throw invalidArgument(env, "bf16 GEMM \"" + name + "\" cannot run on this CPU or build; supported: " +
                                   joined(supportedBf16Gemms()));
  }
  return env.Undefined();
}

// Largest image output, in floats (1 GiB).
constexpr int64_t kMaxImageOutputFloats = int64_t(1) << 28;

struct ImageArgs {
  Napi::Uint8Array src;
  int64_t width, height, channels;
};

ImageArgs imageArgs(const Napi::CallbackInfo& info) {
  ImageArgs a{typedArrayArg<uint8_t>(info, 0, "src", napi_uint8_array, "Uint8Array"), integerArg(info, 1, "width", 1, kMaxImageSide),
              integerArg(info, 2, "height", 1, kMaxImageSide), 0};
  a.channels = integerArg(info, 3, "channels", 1, 4);
  if (a.channels == 2) throw invalidArgument(info.Env(), "Expected 1, 3 or 4 channels but received 2");
  const int64_t expected = a.width * a.height * a.channels;
  if (static_cast<int64_t>(a.src.ElementLength()) != expected) {
    throw invalidArgument(info.Env(), "Image buffer has " + std::to_string(a.src.ElementLength()) + " bytes; expected " +
                                          std::to_string(expected) + " (width " + std::to_string(a.width) + " x height " +
                                          std::to_string(a.height) + " x channels " + std::to_string(a.channels) + ")");
  }
  return a;
}

Napi::Float32Array imageOutput(const Napi::CallbackInfo& info, int64_t width, int64_t height, int64_t channels) {
  const int64_t floats = width * height * channels;
  if (floats > kMaxImageOutputFloats) {
    throw invalidArgument(info.Env(), "Output " + std::to_string(width) + "x" + std::to_string(height) + "x" +
                                          std::to_string(channels) + " exceeds the limit of " +
                                          std::to_string(kMaxImageOutputFloats) + " floats");
  }
  return Napi::Float32Array::New(info.Env(), static_cast<size_t>(floats));
}

Napi::Value resizeBilinearJs(const Napi::CallbackInfo& info) {
  const ImageArgs a = imageArgs(info);
  const int64_t dstWidth = integerArg(info, 4, "dstWidth", 1, kMaxImageSide);
  const int64_t dstHeight = integerArg(info, 5, "dstHeight", 1, kMaxImageSide);
  const bool swapRB = booleanArg(info, 6, "swapRB");
  Napi::Float32Array out = imageOutput(info, dstWidth, dstHeight, a.channels);
  resizeBilinearU8(a.src.Data(), a.width, a.height, a.channels, dstWidth, dstHeight, swapRB, out.Data());
  return out;
}

Napi::Value warpAffineJs(const Napi::CallbackInfo& info) {
  const ImageArgs a = imageArgs(info);
  Napi::Float64Array matrix = typedArrayArg<double>(info, 4, "matrix", napi_float64_array, "Float64Array");
  if (matrix.ElementLength() != 6) {
    throw invalidArgument(info.Env(), "Expected a 2x3 matrix of 6 values but received " + std::to_string(matrix.ElementLength()));
  }
  for (size_t i = 0; i < 6; ++i) {
    if (!std::isfinite(matrix[i])) throw invalidArgument(info.Env(), "Matrix entry " + std::to_string(i) + " is not finite");
  }
  const int64_t dstWidth = integerArg(info, 5, "dstWidth", 1, kMaxImageSide);
  const int64_t dstHeight = integerArg(info, 6, "dstHeight", 1, kMaxImageSide);
  if (!info[7].IsNumber() || !std::isfinite(info[7].As<Napi::Number>().DoubleValue())) {
    throw invalidArgument(info.Env(), "Expected a finite number for border but received " + describe(info[7]));
  }
  const float border = info[7].As<Napi::Number>().FloatValue();
  const bool swapRB = booleanArg(info, 8, "swapRB");
  Napi::Float32Array out = imageOutput(info, dstWidth, dstHeight, a.channels);
  warpAffineU8(a.src.Data(), a.width, a.height, a.channels, matrix.Data(), dstWidth, dstHeight, border, swapRB,
               out.Data());
  return out;
}

Napi::Value packSignsJs(const Napi::CallbackInfo& info) {
  Napi::Float32Array values = typedArrayArg<float>(info, 0, "values", napi_float32_array, "Float32Array");
  const size_t count = values.ElementLength();
  Napi::Uint8Array out = Napi::Uint8Array::New(info.Env(), (count + 63) / 64 * 8);
  binary::packSignsSerial(values.Data(), count, out.Data());
  return out;
}

using HammingFn = uint64_t (*)(const uint8_t* a, const uint8_t* b, size_t bytes);

// Picks the Hamming kernel of the current kernel set. The AVX-512 set falls back to the
// AVX2 kernel on CPUs without VPOPCNTDQ (Skylake-SP and Cascade Lake, for example).
HammingFn hammingKernel() {
  const std::string name = currentKernels().name;
#if FACEBITS_BINARY_X86
  if (name == "avx512" && hasAvx512Popcount()) return binary::hammingAvx512;
  if (name == "avx512" || name == "avx2") return binary::hammingAvx2;
#endif
#if FACEBITS_BINARY_NEON
  if (name == "neon") return binary::hammingNeon;
#endif
  return binary::hammingSerial;
}

// Distances from one query to `count` codes of `bytes` bytes stored back to back. There is
// one loop per kernel, compiled for that kernel's ISA, so the distance inlines into the loop.
// An indirect call per code cost a 1 M x 256-bit scan most of its speed.
using HammingScanFn = void (*)(const uint8_t* query, const uint8_t* codes, size_t count, size_t bytes, uint32_t* out);

#if FACEBITS_BINARY_X86
// GCC 12 reports the undefined merge operand inside its AVX-512 intrinsics, inlined here
// from binary.h, as uninitialized.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
// 256- and 512-bit codes keep the query in a register and take full-width loads. Eight
// codes per step share one reduction and one 32-byte store. The general kernel reads a
// 256-bit code with a masked 512-bit load, which ran 4x slower than the 512-bit scan over
// 1 M codes on an AVX-512 Xeon.
__attribute__((target("avx2,avx512f,avx512vl,avx512vpopcntdq"))) void hammingScanAvx512(
    const uint8_t* query, const uint8_t* codes, size_t count, size_t bytes, uint32_t* out) {
  size_t i = 0;
  if (bytes == 32) {
    const __m512i q = _mm512_broadcast_i64x4(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(query)));
    for (; i + 8 <= count; i += 8) {
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + i), binary::hamming8x256Avx512(q, codes + i * 32));
    }
  } else if (bytes == 64) {
    const __m512i q = _mm512_loadu_si512(query);
    for (; i + 8 <= count; i += 8) {
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + i), binary::hamming8x512Avx512(q, codes + i * 64));
    }
  }
  for (; i < count; ++i) out[i] = static_cast<uint32_t>(binary::hammingAvx512(query, codes + i * bytes, bytes));
}

#pragma GCC diagnostic pop

__attribute__((target("avx2"))) void hammingScanAvx2(const uint8_t* query, const uint8_t* codes, size_t count,
                                                     size_t bytes, uint32_t* out) {
  for (size_t i = 0; i < count; ++i) out[i] = static_cast<uint32_t>(binary::hammingAvx2(query, codes + i * bytes, bytes));
}
#endif

#if FACEBITS_BINARY_NEON
// 256- and 512-bit codes keep the query in registers: one CNT per 16 bytes of a code and
// one UADDLV per code.
template <int BLOCKS>
void hammingScanFixedNeon(const uint8_t* query, const uint8_t* codes, size_t count, uint32_t* out) {
  uint8x16_t q[BLOCKS];
  for (int b = 0; b < BLOCKS; ++b) q[b] = vld1q_u8(query + 16 * b);
  for (size_t i = 0; i < count; ++i) out[i] = binary::hammingFixedNeon<BLOCKS>(q, codes + i * 16 * BLOCKS);
}

void hammingScanNeon(const uint8_t* query, const uint8_t* codes, size_t count, size_t bytes, uint32_t* out) {
  if (bytes == 32) return hammingScanFixedNeon<2>(query, codes, count, out);
  if (bytes == 64) return hammingScanFixedNeon<4>(query, codes, count, out);
  for (size_t i = 0; i < count; ++i) out[i] = static_cast<uint32_t>(binary::hammingNeon(query, codes + i * bytes, bytes));
}
#endif

void hammingScanSerial(const uint8_t* query, const uint8_t* codes, size_t count, size_t bytes, uint32_t* out) {
  for (size_t i = 0; i < count; ++i) out[i] = static_cast<uint32_t>(binary::hammingSerial(query, codes + i * bytes, bytes));
}

// Picks the scan loop that matches hammingKernel().
HammingScanFn hammingScanKernel() {
  const HammingFn kernel = hammingKernel();
#if FACEBITS_BINARY_X86
  if (kernel == binary::hammingAvx512) return hammingScanAvx512;
  if (kernel == binary::hammingAvx2) return hammingScanAvx2;
#endif
#if FACEBITS_BINARY_NEON
  if (kernel == binary::hammingNeon) return hammingScanNeon;
#endif
  return hammingScanSerial;
}

void checkCodeLength(Napi::Env env, size_t length, const char* name) {
  if (length == 0 || length % 8 != 0) {
    throw invalidArgument(env, std::string("Expected ") + name + " to be a non-empty multiple of 8 bytes but it has " +
                                   std::to_string(length));
  }
}

Napi::Value hammingJs(const Napi::CallbackInfo& info) {
  Napi::Uint8Array a = typedArrayArg<uint8_t>(info, 0, "a", napi_uint8_array, "Uint8Array");
  Napi::Uint8Array b = typedArrayArg<uint8_t>(info, 1, "b", napi_uint8_array, "Uint8Array");
  checkCodeLength(info.Env(), a.ElementLength(), "a");
  if (a.ElementLength() != b.ElementLength()) {
    throw invalidArgument(info.Env(), "Codes differ in length: a has " + std::to_string(a.ElementLength()) + " bytes, b has " +
                                          std::to_string(b.ElementLength()));
  }
  return Napi::Number::New(info.Env(), static_cast<double>(hammingKernel()(a.Data(), b.Data(), a.ElementLength())));
}

Napi::Value hammingManyJs(const Napi::CallbackInfo& info) {
  Napi::Uint8Array query = typedArrayArg<uint8_t>(info, 0, "query", napi_uint8_array, "Uint8Array");
  Napi::Uint8Array codes = typedArrayArg<uint8_t>(info, 1, "codes", napi_uint8_array, "Uint8Array");
  const size_t bytes = query.ElementLength();
  checkCodeLength(info.Env(), bytes, "query");
  const int64_t count = integerArg(info, 2, "count", 0, static_cast<int64_t>(codes.ElementLength() / bytes));
  if (static_cast<size_t>(count) * bytes != codes.ElementLength()) {
    throw invalidArgument(info.Env(), "codes has " + std::to_string(codes.ElementLength()) + " bytes; expected count " +
                                          std::to_string(count) + " x " + std::to_string(bytes) + " bytes");
  }
  // An optional fourth argument receives the distances, so a caller that scans again and
  // again reuses one buffer instead of paying for fresh pages on every call.
  Napi::Uint32Array out;
  if (info.Length() > 3 && !info[3].IsUndefined()) {
    out = typedArrayArg<uint32_t>(info, 3, "out", napi_uint32_array, "Uint32Array");
    if (out.ElementLength() < static_cast<size_t>(count)) {
      throw invalidArgument(info.Env(), "Expected out to hold at least count " + std::to_string(count) +
                                            " distances but it holds " + std::to_string(out.ElementLength()));
    }
  } else {
    out = Napi::Uint32Array::New(info.Env(), static_cast<size_t>(count));
  }
  hammingScanKernel()(query.Data(), codes.Data(), static_cast<size_t>(count), bytes, out.Data());
  return out;
}

// Sums a buffer as 64-bit words (wrapping). Benchmarks time it as the single-core read
// bandwidth, so it uses the widest loads of the current kernel set and four independent
// accumulators, as the Hamming scans do. A narrower loop would understate the bandwidth.
uint64_t readSumSerial(const uint8_t* bytes, size_t words) {
  uint64_t sums[4] = {0, 0, 0, 0};
  size_t i = 0;
  for (; i + 4 <= words; i += 4) {
    for (size_t j = 0; j < 4; ++j) {
      uint64_t word;
      std::memcpy(&word, bytes + (i + j) * 8, 8);
      sums[j] += word;
    }
  }
  for (; i < words; ++i) {
    uint64_t word;
    std::memcpy(&word, bytes + i * 8, 8);
    sums[0] += word;
  }
  return sums[0] + sums[1] + sums[2] + sums[3];
}

#if FACEBITS_BINARY_X86
// GCC 12 reports the undefined merge operand inside _mm512_store_si512's helpers as
// maybe-uninitialized.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
__attribute__((target("avx2,avx512f"))) uint64_t readSumAvx512(const uint8_t* bytes, size_t words) {
  __m512i sums[4] = {_mm512_setzero_si512(), _mm512_setzero_si512(), _mm512_setzero_si512(), _mm512_setzero_si512()};
  size_t i = 0;
  for (; i + 32 <= words; i += 32) {
    for (int j = 0; j < 4; ++j) sums[j] = _mm512_add_epi64(sums[j], _mm512_loadu_si512(bytes + (i + 8 * j) * 8));
  }
  alignas(64) uint64_t lanes[8];
  _mm512_store_si512(lanes, _mm512_add_epi64(_mm512_add_epi64(sums[0], sums[1]), _mm512_add_epi64(sums[2], sums[3])));
  uint64_t total = 0;
  for (uint64_t lane : lanes) total += lane;
  return total + readSumSerial(bytes + i * 8, words - i);
}
#pragma GCC diagnostic pop

__attribute__((target("avx2"))) uint64_t readSumAvx2(const uint8_t* bytes, size_t words) {
  __m256i sums[4] = {_mm256_setzero_si256(), _mm256_setzero_si256(), _mm256_setzero_si256(), _mm256_setzero_si256()};
  size_t i = 0;
  for (; i + 16 <= words; i += 16) {
    for (int j = 0; j < 4; ++j) {
      const __m256i block = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(bytes + (i + 4 * j) * 8));
      sums[j] = _mm256_add_epi64(sums[j], block);
    }
  }
  alignas(32) uint64_t lanes[4];
  _mm256_store_si256(reinterpret_cast<__m256i*>(lanes),
                     _mm256_add_epi64(_mm256_add_epi64(sums[0], sums[1]), _mm256_add_epi64(sums[2], sums[3])));
  return lanes[0] + lanes[1] + lanes[2] + lanes[3] + readSumSerial(bytes + i * 8, words - i);
}
#endif

Napi::Value readSumJs(const Napi::CallbackInfo& info) {
  Napi::Uint8Array buffer = typedArrayArg<uint8_t>(info, 0, "buffer", napi_uint8_array, "Uint8Array");
  checkCodeLength(info.Env(), buffer.ElementLength(), "buffer");
  const uint8_t* bytes = buffer.Data();
  const size_t words = buffer.ElementLength() / 8;
  uint64_t total;
#if FACEBITS_BINARY_X86
  const std::string name = currentKernels().name;
  if (name == "avx512") total = readSumAvx512(bytes, words);
  else if (name == "avx2") total = readSumAvx2(bytes, words);
  else total = readSumSerial(bytes, words);
#else
  total = readSumSerial(bytes, words);
#endif
  return Napi::Number::New(info.Env(), static_cast<double>(total & ((uint64_t(1) << 53) - 1)));
}

// Runs `iterations` steps of 12 independent fused multiply-adds on the widest float32
// vectors of the current kernel set and returns the floating-point operations done (2 per
// lane). Benchmarks time it as the core's float32 arithmetic peak: no GEMM can beat it.
// Twelve chains cover an FMA latency of 4 to 6 cycles on two pipes.
constexpr int kFmaChains = 12;

double fmaLoopSerial(int64_t iterations, float* sink) {
  float acc[kFmaChains];
  for (int i = 0; i < kFmaChains; ++i) acc[i] = 0.001f * static_cast<float>(i);
  for (int64_t n = 0; n < iterations; ++n) {
    #pragma GCC unroll 12
    for (int i = 0; i < kFmaChains; ++i) acc[i] = acc[i] * 0.999f + 0.001f;
  }
  for (int i = 0; i < kFmaChains; ++i) *sink += acc[i];
  return 2.0 * kFmaChains * static_cast<double>(iterations);
}

#if FACEBITS_BINARY_X86
// GCC 12 reports the undefined operands inside _mm512_reduce_add_ps as uninitialized.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
__attribute__((target("avx2,fma,avx512f"))) double fmaLoopAvx512(int64_t iterations, float* sink) {
  __m512 acc[kFmaChains];
  #pragma GCC unroll 12
  for (int i = 0; i < kFmaChains; ++i) acc[i] = _mm512_set1_ps(0.001f * static_cast<float>(i));
  const __m512 scale = _mm512_set1_ps(0.999f), step = _mm512_set1_ps(0.001f);
  for (int64_t n = 0; n < iterations; ++n) {
    #pragma GCC unroll 12
    for (int i = 0; i < kFmaChains; ++i) acc[i] = _mm512_fmadd_ps(acc[i], scale, step);
  }
  #pragma GCC unroll 12
  for (int i = 0; i < kFmaChains; ++i) *sink += _mm512_reduce_add_ps(acc[i]);
  return 2.0 * 16 * kFmaChains * static_cast<double>(iterations);
}
#pragma GCC diagnostic pop

__attribute__((target("avx2,fma"))) double fmaLoopAvx2(int64_t iterations, float* sink) {
  __m256 acc[kFmaChains];
  #pragma GCC unroll 12
  for (int i = 0; i < kFmaChains; ++i) acc[i] = _mm256_set1_ps(0.001f * static_cast<float>(i));
  const __m256 scale = _mm256_set1_ps(0.999f), step = _mm256_set1_ps(0.001f);
  for (int64_t n = 0; n < iterations; ++n) {
    #pragma GCC unroll 12
    for (int i = 0; i < kFmaChains; ++i) acc[i] = _mm256_fmadd_ps(acc[i], scale, step);
  }
  alignas(32) float lanes[8];
  #pragma GCC unroll 12
  for (int i = 0; i < kFmaChains; ++i) {
    _mm256_store_ps(lanes, acc[i]);
    *sink += lanes[0];
  }
  return 2.0 * 8 * kFmaChains * static_cast<double>(iterations);
}
#endif

#if FACEBITS_BINARY_NEON
double fmaLoopNeon(int64_t iterations, float* sink) {
  float32x4_t acc[kFmaChains];
  for (int i = 0; i < kFmaChains; ++i) acc[i] = vdupq_n_f32(0.001f * static_cast<float>(i));
  const float32x4_t scale = vdupq_n_f32(0.999f), step = vdupq_n_f32(0.001f);
  for (int64_t n = 0; n < iterations; ++n) {
    #pragma GCC unroll 12
    for (int i = 0; i < kFmaChains; ++i) acc[i] = vfmaq_f32(step, acc[i], scale);
  }
  for (int i = 0; i < kFmaChains; ++i) *sink += vaddvq_f32(acc[i]);
  return 2.0 * 4 * kFmaChains * static_cast<double>(iterations);
}
#endif

Napi::Value fmaLoopJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const int64_t iterations = integerArg(info, 0, "iterations", 1, int64_t(1000000000));
  static volatile float sink = 0.0f;
  float local = 0.0f;
  double flops;
  const std::string name = currentKernels().name;
#if FACEBITS_BINARY_X86
  if (name == "avx512") flops = fmaLoopAvx512(iterations, &local);
  else if (name == "avx2") flops = fmaLoopAvx2(iterations, &local);
  else flops = fmaLoopSerial(iterations, &local);
#elif FACEBITS_BINARY_NEON
  flops = name == "neon" ? fmaLoopNeon(iterations, &local) : fmaLoopSerial(iterations, &local);
#else
  flops = fmaLoopSerial(iterations, &local);
#endif
  sink = sink + local;
  return Napi::Number::New(env, flops);
}

Napi::Object init(Napi::Env env, Napi::Object exports) {
  exports.Set("Model", ModelWrap::define(env));
  exports.Set("isa", Napi::Function::New(env, isa, "isa"));
  exports.Set("supportedIsas", Napi::Function::New(env, supportedIsasJs, "supportedIsas"));
  exports.Set("setIsa", Napi::Function::New(env, setIsaJs, "setIsa"));
  exports.Set("bf16Gemm", Napi::Function::New(env, bf16GemmJs, "bf16Gemm"));
  exports.Set("supportedBf16Gemms", Napi::Function::New(env, supportedBf16GemmsJs, "supportedBf16Gemms"));
  exports.Set("setBf16Gemm", Napi::Function::New(env, setBf16GemmJs, "setBf16Gemm"));
  exports.Set("resizeBilinear", Napi::Function::New(env, resizeBilinearJs, "resizeBilinear"));
  exports.Set("warpAffine", Napi::Function::New(env, warpAffineJs, "warpAffine"));
  exports.Set("packSigns", Napi::Function::New(env, packSignsJs, "packSigns"));
  exports.Set("hamming", Napi::Function::New(env, hammingJs, "hamming"));
  exports.Set("hammingMany", Napi::Function::New(env, hammingManyJs, "hammingMany"));
  exports.Set("readSum", Napi::Function::New(env, readSumJs, "readSum"));
  exports.Set("fmaLoop", Napi::Function::New(env, fmaLoopJs, "fmaLoop"));
  exports.Set("hammingTopK", Napi::Function::New(env, hammingTopKJs, "hammingTopK"));
  registerVerify(env, exports);
  return exports;
}

}  // namespace

}  // namespace facebits

static Napi::Object initModule(Napi::Env env, Napi::Object exports) { return facebits::init(env, exports); }

NODE_API_MODULE(facebits, initModule)

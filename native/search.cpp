// Multi-threaded top-k Hamming scan. Each thread scans one contiguous range of codes into
// its own bounded max-heap, and the heaps are merged at the end, so threads share no state.

#include "search.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <thread>

#include "binary.h"
#include "cpu.h"

namespace facebits {

namespace {

// Scans below this many codes stay on the calling thread when threads is 0, because
// starting threads costs more than the scan saves.
constexpr size_t kParallelMinCodes = size_t(1) << 16;

bool nearer(const HammingHit& a, const HammingHit& b) {
  return a.distance != b.distance ? a.distance < b.distance : a.index < b.index;
}

// The k nearest hits seen so far, as a max-heap under nearer(), so front() is the worst kept.
class BoundedHeap {
 public:
  explicit BoundedHeap(size_t k) : k_(k) { hits_.reserve(k); }

  void offer(uint32_t distance, size_t index) {
    const HammingHit hit{distance, static_cast<uint32_t>(index)};
    if (hits_.size() < k_) {
      hits_.push_back(hit);
      std::push_heap(hits_.begin(), hits_.end(), nearer);
      return;
    }
    if (!nearer(hit, hits_.front())) return;
    std::pop_heap(hits_.begin(), hits_.end(), nearer);
    hits_.back() = hit;
    std::push_heap(hits_.begin(), hits_.end(), nearer);
  }

  // The largest distance that offer() can still accept: the worst kept distance once k
  // hits are kept (a tie enters only with a lower index), and UINT32_MAX before that.
  uint32_t bound() const { return hits_.size() < k_ ? UINT32_MAX : hits_.front().distance; }

  std::vector<HammingHit>& hits() { return hits_; }

 private:
  size_t k_;
  std::vector<HammingHit> hits_;
};

using ScanFn = void (*)(const uint8_t* query, const uint8_t* codes, size_t begin, size_t end, size_t bytes,
                        BoundedHeap& heap);

// One scan loop per ISA: each carries the target attribute of its popcount kernel, so the
// kernel inlines into the loop instead of being called through a pointer per code.
void scanSerial(const uint8_t* query, const uint8_t* codes, size_t begin, size_t end, size_t bytes, BoundedHeap& heap) {
  for (size_t i = begin; i < end; ++i) {
    heap.offer(static_cast<uint32_t>(binary::hammingSerial(query, codes + i * bytes, bytes)), i);
  }
}

#if FACEBITS_BINARY_X86
__attribute__((target("avx2"))) void scanAvx2(const uint8_t* query, const uint8_t* codes, size_t begin, size_t end,
                                               size_t bytes, BoundedHeap& heap) {
  for (size_t i = begin; i < end; ++i) {
    heap.offer(static_cast<uint32_t>(binary::hammingAvx2(query, codes + i * bytes, bytes)), i);
  }
}

// GCC 12 reports the undefined merge operand inside its AVX-512 intrinsics, inlined here
// from binary.h, as uninitialized.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
// Offers the codes of one block of 8 whose distance is at most the bound. The compare
// rejects the whole block at once in the common case where no code beats the bound.
__attribute__((target("avx2,avx512f,avx512vl"))) inline void offerBlock(__m256i distances, size_t first,
                                                                         uint32_t& bound, BoundedHeap& heap) {
  __mmask8 mask = _mm256_cmple_epu32_mask(distances, _mm256_set1_epi32(static_cast<int>(bound)));
  if (mask == 0) return;
  alignas(32) uint32_t values[8];
  _mm256_store_si256(reinterpret_cast<__m256i*>(values), distances);
  for (; mask != 0; mask &= static_cast<__mmask8>(mask - 1)) {
    const int j = __builtin_ctz(mask);
    if (values[j] > bound) continue;
    heap.offer(values[j], first + static_cast<size_t>(j));
    bound = heap.bound();
  }
}

__attribute__((target("avx2,avx512f,avx512vl,avx512vpopcntdq"))) void scanAvx512(const uint8_t* query,
                                                                              const uint8_t* codes, size_t begin,
                                                                              size_t end, size_t bytes,
                                                                              BoundedHeap& heap) {
  uint32_t bound = heap.bound();
  size_t i = begin;
  if (bytes == 32) {
    const __m512i q = _mm512_broadcast_i64x4(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(query)));
    for (; i + 8 <= end; i += 8) offerBlock(binary::hamming8x256Avx512(q, codes + i * 32), i, bound, heap);
  } else if (bytes == 64) {
    const __m512i q = _mm512_loadu_si512(query);
    for (; i + 8 <= end; i += 8) offerBlock(binary::hamming8x512Avx512(q, codes + i * 64), i, bound, heap);
  }
  for (; i < end; ++i) {
    const uint32_t distance = static_cast<uint32_t>(binary::hammingAvx512(query, codes + i * bytes, bytes));
    if (distance > bound) continue;
    heap.offer(distance, i);
    bound = heap.bound();
  }
}
#pragma GCC diagnostic pop
#endif

#if FACEBITS_BINARY_NEON
template <int BLOCKS>
void scanFixedNeon(const uint8_t* query, const uint8_t* codes, size_t begin, size_t end, BoundedHeap& heap) {
  uint8x16_t q[BLOCKS];
  for (int b = 0; b < BLOCKS; ++b) q[b] = vld1q_u8(query + 16 * b);
  uint32_t bound = heap.bound();
  for (size_t i = begin; i < end; ++i) {
    const uint32_t distance = binary::hammingFixedNeon<BLOCKS>(q, codes + i * 16 * BLOCKS);
    if (distance > bound) continue;
    heap.offer(distance, i);
    bound = heap.bound();
  }
}

// 256- and 512-bit codes keep the query in registers; other lengths use the general kernel.
void scanNeon(const uint8_t* query, const uint8_t* codes, size_t begin, size_t end, size_t bytes, BoundedHeap& heap) {
  if (bytes == 32) return scanFixedNeon<2>(query, codes, begin, end, heap);
  if (bytes == 64) return scanFixedNeon<4>(query, codes, begin, end, heap);
  uint32_t bound = heap.bound();
  for (size_t i = begin; i < end; ++i) {
    const uint32_t distance = static_cast<uint32_t>(binary::hammingNeon(query, codes + i * bytes, bytes));
    if (distance > bound) continue;
    heap.offer(distance, i);
    bound = heap.bound();
  }
}
#endif

// Follows the same rule as the single-pair hamming() binding: the AVX-512 kernel set uses
// VPOPCNTQ only where the CPU has VPOPCNTDQ, and the AVX2 loop otherwise.
ScanFn pickScan() {
  const std::string name = currentKernels().name;
#if FACEBITS_BINARY_X86
  if (name == "avx512" && hasAvx512Popcount()) return scanAvx512;
  if (name == "avx512" || name == "avx2") return scanAvx2;
#endif
#if FACEBITS_BINARY_NEON
  if (name == "neon") return scanNeon;
#endif
  return scanSerial;
}

Napi::Error invalidArgument(Napi::Env env, const std::string& message) {
  Napi::Error error = Napi::Error::New(env, message);
  error.Set("code", Napi::String::New(env, "INVALID_ARGUMENT"));
  return error;
}

Napi::Uint8Array bytesArg(const Napi::CallbackInfo& info, size_t i, const char* name) {
  const Napi::Value v = info[i];
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array) {
    throw invalidArgument(info.Env(), std::string("Expected a Uint8Array for ") + name);
  }
  return v.As<Napi::Uint8Array>();
}

size_t sizeArg(const Napi::CallbackInfo& info, size_t i, const char* name, double high) {
  const Napi::Value v = info[i];
  const double d = v.IsNumber() ? v.As<Napi::Number>().DoubleValue() : NAN;
  if (!(d >= 0 && d <= high) || d != std::floor(d)) {
    throw invalidArgument(info.Env(), std::string("Expected an integer from 0 to ") + std::to_string(high) + " for " +
                                          name);
  }
  return static_cast<size_t>(d);
}

}  // namespace

std::vector<HammingHit> hammingTopK(const uint8_t* query, const uint8_t* codes, size_t count, size_t bytes, size_t k,
                                    unsigned threads) {
  k = std::min(k, count);
  if (k == 0) return {};
  const ScanFn scan = pickScan();

  size_t workers = threads;
  if (workers == 0) workers = count >= kParallelMinCodes ? std::max(1u, std::thread::hardware_concurrency()) : 1;
  workers = std::max<size_t>(1, std::min(workers, count));

  std::vector<BoundedHeap> heaps(workers, BoundedHeap(k));
  if (workers == 1) {
    scan(query, codes, 0, count, bytes, heaps[0]);
  } else {
    std::vector<std::thread> pool;
    pool.reserve(workers - 1);
    const size_t chunk = (count + workers - 1) / workers;
    for (size_t w = 1; w < workers; ++w) {
      const size_t begin = std::min(count, w * chunk);
      const size_t end = std::min(count, begin + chunk);
      pool.emplace_back(scan, query, codes, begin, end, bytes, std::ref(heaps[w]));
    }
    scan(query, codes, 0, std::min(count, chunk), bytes, heaps[0]);
    for (std::thread& t : pool) t.join();
  }

  std::vector<HammingHit> merged;
  merged.reserve(workers * k);
  for (BoundedHeap& heap : heaps) merged.insert(merged.end(), heap.hits().begin(), heap.hits().end());
  std::partial_sort(merged.begin(), merged.begin() + static_cast<std::ptrdiff_t>(k), merged.end(), nearer);
  merged.resize(k);
  return merged;
}

Napi::Value hammingTopKJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Uint8Array query = bytesArg(info, 0, "query");
  Napi::Uint8Array codes = bytesArg(info, 1, "codes");
  const size_t bytes = query.ElementLength();
  if (bytes == 0 || bytes % 8 != 0) {
    throw invalidArgument(env, "Expected query to be a non-empty multiple of 8 bytes but it has " + std::to_string(bytes));
  }
  // Indices are returned as uint32, so a scan covers at most 2^32 - 1 codes.
  const size_t count = sizeArg(info, 2, "count", 4294967295.0);
  if (count * bytes != codes.ElementLength()) {
    throw invalidArgument(env, "codes has " + std::to_string(codes.ElementLength()) + " bytes; expected count " +
                                   std::to_string(count) + " x " + std::to_string(bytes) + " bytes");
  }
  const size_t k = sizeArg(info, 3, "k", 4294967295.0);
  const unsigned threads = static_cast<unsigned>(sizeArg(info, 4, "threads", 1024));

  const std::vector<HammingHit> hits = hammingTopK(query.Data(), codes.Data(), count, bytes, k, threads);
  Napi::Uint32Array indices = Napi::Uint32Array::New(env, hits.size());
  Napi::Uint32Array distances = Napi::Uint32Array::New(env, hits.size());
  for (size_t i = 0; i < hits.size(); ++i) {
    indices[i] = hits[i].index;
    distances[i] = hits[i].distance;
  }
  Napi::Object result = Napi::Object::New(env);
  result.Set("indices", indices);
  result.Set("distances", distances);
  return result;
}

}  // namespace facebits

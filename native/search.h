// Top-k Hamming search over binary codes stored back to back: the first stage of a
// gallery search, which the caller re-ranks with float scores.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include <napi.h>

namespace facebits {

struct HammingHit {
  uint32_t distance;
  uint32_t index;
};

// Returns the k codes nearest to `query` by Hamming distance, nearest first, ties broken
// by the lower index. `codes` contains `count` codes of `bytes` bytes each (a multiple of 8).
// `threads` is the number of worker threads, and 0 picks one per hardware thread for scans of
// at least 64 Ki codes and a single thread below that.
std::vector<HammingHit> hammingTopK(const uint8_t* query, const uint8_t* codes, size_t count, size_t bytes, size_t k,
                                    unsigned threads);

// The N-API entry point: hammingTopK(query, codes, count, k, threads) returns
// { indices: Uint32Array, distances: Uint32Array }.
Napi::Value hammingTopKJs(const Napi::CallbackInfo& info);

}  // namespace facebits

// Binary face codes: sign packing and Hamming distance.
//
// Measures:
//   packSigns  bit i of the code is 1 when x[i] > 0 (NaN and -0 give 0); bits fill 64-bit
//              little-endian words, bit i in word i / 64, bit position i % 64
//   hamming    popcount(a XOR b) over codes of equal byte length, a multiple of 8
//   hamming8   the distances from one query to 8 consecutive 256- or 512-bit codes, as
//              eight 32-bit lanes. AVX-512 only: the scans use it for their main loops.
// ISAs, each in its own section below:
//   serial     portable 64-bit popcount (__builtin_popcountll)
//   avx2       nibble lookup table with VPSHUFB, byte sums with VPSADBW
//   avx512     VPOPCNTQ (AVX-512 VPOPCNTDQ) on 512-bit words, masked tail
//   neon       CNT byte counts summed with UADDLV (AArch64)
// The SIMD functions carry target attributes, so this header compiles in a baseline
// translation unit. Callers pick one from the CPU feature flags (see cpu.cpp).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

#if defined(__x86_64__) || defined(_M_X64)
#include <immintrin.h>
#define FACEBITS_BINARY_X86 1
#endif
#if defined(__aarch64__)
#include <arm_neon.h>
#define FACEBITS_BINARY_NEON 1
#endif

namespace facebits {
namespace binary {

// region: serial

// Writes ceil(count / 64) * 8 bytes to out.
static inline void packSignsSerial(const float* x, size_t count, uint8_t* out) {
  const size_t words = (count + 63) / 64;
  for (size_t w = 0; w < words; ++w) {
    uint64_t bits = 0;
    for (size_t j = 0; j < 64; ++j) {
      const size_t i = w * 64 + j;
      if (i < count && x[i] > 0.0f) bits |= uint64_t(1) << j;
    }
    for (int byte = 0; byte < 8; ++byte) out[w * 8 + byte] = static_cast<uint8_t>(bits >> (8 * byte));
  }
}

static inline uint64_t hammingSerial(const uint8_t* a, const uint8_t* b, size_t bytes) {
  uint64_t total = 0;
  for (size_t i = 0; i + 8 <= bytes; i += 8) {
    uint64_t x, y;
    std::memcpy(&x, a + i, 8);
    std::memcpy(&y, b + i, 8);
    total += static_cast<uint64_t>(__builtin_popcountll(x ^ y));
  }
  return total;
}

// endregion

#if FACEBITS_BINARY_X86

// region: avx2

// Each VPSHUFB lookup gives 0..4 per nibble, so a byte holds at most 8 set bits of one
// 32-byte block. VPSADBW folds the bytes into four 64-bit lanes every iteration; those
// lanes could only overflow past 2^61 bytes of input.
__attribute__((target("avx2"))) static inline uint64_t hammingAvx2(const uint8_t* a, const uint8_t* b, size_t bytes) {
  const __m256i lookup = _mm256_setr_epi8(0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4,
                                          0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4);
  const __m256i lowNibble = _mm256_set1_epi8(0x0f);
  __m256i sums = _mm256_setzero_si256();
  size_t i = 0;
  for (; i + 32 <= bytes; i += 32) {
    const __m256i x = _mm256_xor_si256(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(a + i)),
                                       _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b + i)));
    const __m256i low = _mm256_shuffle_epi8(lookup, _mm256_and_si256(x, lowNibble));
    const __m256i high = _mm256_shuffle_epi8(lookup, _mm256_and_si256(_mm256_srli_epi16(x, 4), lowNibble));
    sums = _mm256_add_epi64(sums, _mm256_sad_epu8(_mm256_add_epi8(low, high), _mm256_setzero_si256()));
  }
  alignas(32) uint64_t lanes[4];
  _mm256_store_si256(reinterpret_cast<__m256i*>(lanes), sums);
  return lanes[0] + lanes[1] + lanes[2] + lanes[3] + hammingSerial(a + i, b + i, bytes - i);
}

// endregion

// region: avx512

// VPOPCNTQ counts into 64-bit lanes directly; lanes overflow only past 2^61 bytes.
__attribute__((target("avx512f,avx512vpopcntdq"))) static inline uint64_t hammingAvx512(const uint8_t* a,
                                                                                        const uint8_t* b,
                                                                                        size_t bytes) {
  __m512i sums = _mm512_setzero_si512();
  size_t i = 0;
  for (; i + 64 <= bytes; i += 64) {
    const __m512i x = _mm512_xor_si512(_mm512_loadu_si512(a + i), _mm512_loadu_si512(b + i));
    sums = _mm512_add_epi64(sums, _mm512_popcnt_epi64(x));
  }
  if (i < bytes) {
    // The tail is a whole number of 8-byte words, so a qword mask covers it exactly.
    const __mmask8 mask = static_cast<__mmask8>((1u << ((bytes - i) / 8)) - 1u);
    const __m512i x = _mm512_xor_si512(_mm512_maskz_loadu_epi64(mask, a + i), _mm512_maskz_loadu_epi64(mask, b + i));
    sums = _mm512_add_epi64(sums, _mm512_popcnt_epi64(x));
  }
  alignas(64) uint64_t lanes[8];
  _mm512_store_si512(lanes, sums);
  uint64_t total = 0;
  for (int lane = 0; lane < 8; ++lane) total += lanes[lane];
  return total;
}

// GCC 12 reports the undefined merge operand inside its own AVX-512 unpack, shuffle and
// conversion intrinsics as uninitialized. Files that inline these functions need the same
// pragmas around the caller.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

// Adds the eight 64-bit lanes of each of p0..p7 and returns sum(p_j) in lane j. Unpacks and
// 128-bit lane shuffles fold the vectors pairwise: 14 shuffles for eight codes, where a
// separate reduction per code takes three. Each sum is at most 512, so the lanes convert
// to 32 bits exactly.
__attribute__((target("avx512f"))) static inline __m512i sumLanes8(__m512i p0, __m512i p1, __m512i p2, __m512i p3,
                                                                   __m512i p4, __m512i p5, __m512i p6, __m512i p7) {
  const __m512i s01 = _mm512_add_epi64(_mm512_unpacklo_epi64(p0, p1), _mm512_unpackhi_epi64(p0, p1));
  const __m512i s23 = _mm512_add_epi64(_mm512_unpacklo_epi64(p2, p3), _mm512_unpackhi_epi64(p2, p3));
  const __m512i s45 = _mm512_add_epi64(_mm512_unpacklo_epi64(p4, p5), _mm512_unpackhi_epi64(p4, p5));
  const __m512i s67 = _mm512_add_epi64(_mm512_unpacklo_epi64(p6, p7), _mm512_unpackhi_epi64(p6, p7));
  const __m512i s0123 = _mm512_add_epi64(_mm512_shuffle_i64x2(s01, s23, _MM_SHUFFLE(2, 0, 2, 0)),
                                         _mm512_shuffle_i64x2(s01, s23, _MM_SHUFFLE(3, 1, 3, 1)));
  const __m512i s4567 = _mm512_add_epi64(_mm512_shuffle_i64x2(s45, s67, _MM_SHUFFLE(2, 0, 2, 0)),
                                         _mm512_shuffle_i64x2(s45, s67, _MM_SHUFFLE(3, 1, 3, 1)));
  return _mm512_add_epi64(_mm512_shuffle_i64x2(s0123, s4567, _MM_SHUFFLE(2, 0, 2, 0)),
                          _mm512_shuffle_i64x2(s0123, s4567, _MM_SHUFFLE(3, 1, 3, 1)));
}

// Distances from a 512-bit query to the 8 codes at block (512 bytes, any alignment).
__attribute__((target("avx512f,avx512vpopcntdq"))) static inline __m256i hamming8x512Avx512(__m512i query,
                                                                                           const uint8_t* block) {
  __m512i p[8];
  for (int j = 0; j < 8; ++j) p[j] = _mm512_popcnt_epi64(_mm512_xor_si512(query, _mm512_loadu_si512(block + 64 * j)));
  return _mm512_cvtepi64_epi32(sumLanes8(p[0], p[1], p[2], p[3], p[4], p[5], p[6], p[7]));
}

// Distances from a 256-bit query, broadcast to both halves of `query`, to the 8 codes at
// block (256 bytes, any alignment). Each load reads two codes: lanes 0-3 of p_j belong to
// code 2j and lanes 4-7 to code 2j+1. Two folding steps leave the sums in the order
// 0 2 1 3 4 6 5 7, and one lane permutation restores code order.
__attribute__((target("avx512f,avx512vpopcntdq"))) static inline __m256i hamming8x256Avx512(__m512i query,
                                                                                           const uint8_t* block) {
  const __m512i p0 = _mm512_popcnt_epi64(_mm512_xor_si512(query, _mm512_loadu_si512(block)));
  const __m512i p1 = _mm512_popcnt_epi64(_mm512_xor_si512(query, _mm512_loadu_si512(block + 64)));
  const __m512i p2 = _mm512_popcnt_epi64(_mm512_xor_si512(query, _mm512_loadu_si512(block + 128)));
  const __m512i p3 = _mm512_popcnt_epi64(_mm512_xor_si512(query, _mm512_loadu_si512(block + 192)));
  const __m512i s01 = _mm512_add_epi64(_mm512_unpacklo_epi64(p0, p1), _mm512_unpackhi_epi64(p0, p1));
  const __m512i s23 = _mm512_add_epi64(_mm512_unpacklo_epi64(p2, p3), _mm512_unpackhi_epi64(p2, p3));
  const __m512i sums = _mm512_add_epi64(_mm512_shuffle_i64x2(s01, s23, _MM_SHUFFLE(2, 0, 2, 0)),
                                        _mm512_shuffle_i64x2(s01, s23, _MM_SHUFFLE(3, 1, 3, 1)));
  return _mm512_cvtepi64_epi32(_mm512_permutexvar_epi64(_mm512_setr_epi64(0, 2, 1, 3, 4, 6, 5, 7), sums));
}

#pragma GCC diagnostic pop

// endregion

#endif  // FACEBITS_BINARY_X86

#if FACEBITS_BINARY_NEON

// region: neon

// CNT counts the set bits of each byte (0..8). Four CNT results add to at most 32 per byte
// lane, so the 8-bit sums of one 64-byte block cannot wrap. UADDLV widens the 16 lanes into
// one sum of at most 512 per block, and the total is 64-bit, so no counter overflows for
// any code length.
static inline uint64_t hammingNeon(const uint8_t* a, const uint8_t* b, size_t bytes) {
  uint64_t total = 0;
  size_t i = 0;
  for (; i + 64 <= bytes; i += 64) {
    const uint8x16_t x0 = veorq_u8(vld1q_u8(a + i), vld1q_u8(b + i));
    const uint8x16_t x1 = veorq_u8(vld1q_u8(a + i + 16), vld1q_u8(b + i + 16));
    const uint8x16_t x2 = veorq_u8(vld1q_u8(a + i + 32), vld1q_u8(b + i + 32));
    const uint8x16_t x3 = veorq_u8(vld1q_u8(a + i + 48), vld1q_u8(b + i + 48));
    const uint8x16_t counts = vaddq_u8(vaddq_u8(vcntq_u8(x0), vcntq_u8(x1)), vaddq_u8(vcntq_u8(x2), vcntq_u8(x3)));
    total += vaddlvq_u8(counts);
  }
  for (; i + 16 <= bytes; i += 16) total += vaddlvq_u8(vcntq_u8(veorq_u8(vld1q_u8(a + i), vld1q_u8(b + i))));
  return total + hammingSerial(a + i, b + i, bytes - i);
}

// Distance from a query already loaded into q[0 .. BLOCKS) to one code of 16 * BLOCKS
// bytes, for the 256- and 512-bit scan loops. With at most 4 blocks a byte lane adds at
// most 32, so it cannot wrap.
template <int BLOCKS>
static inline uint32_t hammingFixedNeon(const uint8x16_t* q, const uint8_t* code) {
  static_assert(BLOCKS >= 1 && BLOCKS <= 4, "8-bit lane sums wrap past 4 blocks");
  uint8x16_t counts = vcntq_u8(veorq_u8(q[0], vld1q_u8(code)));
  for (int b = 1; b < BLOCKS; ++b) counts = vaddq_u8(counts, vcntq_u8(veorq_u8(q[b], vld1q_u8(code + 16 * b))));
  return vaddlvq_u8(counts);
}

// endregion

#endif  // FACEBITS_BINARY_NEON

}  // namespace binary
}  // namespace facebits

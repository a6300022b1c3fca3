// Inline helpers shared by the WebAssembly SIMD128 kernels (native/ops/*_simd128.cpp).
// Only translation units compiled by emcc with -msimd128 include this header.
#pragma once

#include <wasm_simd128.h>

#include "../kernels.h"

namespace facebits {
namespace simd128 {

// Activation codes of plan.h that the vector helper handles; SIGMOID (5) is not one.
inline bool isVectorActivation(int32_t kind) { return kind >= 0 && kind <= 4; }

// Applies activation `kind` (NONE, RELU, CLIP, PRELU or LEAKY_RELU) to 4 lanes. lo and hi
// are the CLIP bounds; slope contains the PReLU slopes of the 4 channels, or the
// LEAKY_RELU slope in every lane. pmax and pmin compile to single x86 max and min
// instructions. RELU maps NaN to 0 and CLIP keeps NaN, as the scalar activate() does.
inline v128_t activate4(v128_t x, int32_t kind, v128_t lo, v128_t hi, v128_t slope) {
  const v128_t zero = wasm_f32x4_splat(0.0f);
  switch (kind) {
    case 1: return wasm_f32x4_pmax(zero, x);
    case 2: return wasm_f32x4_pmin(wasm_f32x4_pmax(x, lo), hi);
    case 3:
    case 4: return wasm_v128_bitselect(x, wasm_f32x4_mul(x, slope), wasm_f32x4_ge(x, zero));
    default: return x;
  }
}

}  // namespace simd128
}  // namespace facebits

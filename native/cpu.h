// Runtime selection of the kernel set.
#pragma once

#include <string>
#include <vector>

#include "kernels.h"

namespace facebits {

// Names of the kernel sets this CPU and build can run, best first ("scalar" is last).
std::vector<std::string> supportedIsas();

// The kernel set runs use now; the best supported one until setIsa changes it.
const KernelTable& currentKernels();

// Whether the CPU has AVX-512 VPOPCNTDQ (not part of the AVX-512 kernel set's requirements).
bool hasAvx512Popcount();

// The bfloat16 GEMMs this CPU, OS and build can run, best first: "amx" (AMX-BF16 tiles) and
// "avx512-bf16" (VDPBF16PS). Empty where models loaded with bf16 precision run float32.
std::vector<std::string> supportedBf16Gemms();

// The bfloat16 GEMM that bf16 models run now, or "" when there is none or the kernel set in
// use (setIsa) has no bfloat16 GEMM.
std::string bf16GemmName();

// Whether a bfloat16 GEMM can run, so that models loaded with bf16 precision pack tiles.
bool bf16Ready();

// Forces a bfloat16 GEMM by name, for tests and benchmarks. Returns false when the name is
// unknown or cannot run here. Both GEMMs read the same tiles, so models need no reload.
bool setBf16Gemm(const std::string& name);

// Forces a kernel set by name. Returns false when the name is unknown or unsupported.
bool setIsa(const std::string& name);

}  // namespace facebits

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

// Forces a kernel set by name. Returns false when the name is unknown or unsupported.
bool setIsa(const std::string& name);

}  // namespace facebits

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

// Whether AMX-BF16 tiles can run in this process: the CPU has AMX-TILE and AMX-BF16, the
// OS enables the tile state in XCR0, and Linux granted the tile data permission
// (arch_prctl ARCH_REQ_XCOMP_PERM), which the first call requests for the whole process.
bool amxBf16Ready();

// Forces a kernel set by name. Returns false when the name is unknown or unsupported.
bool setIsa(const std::string& name);

}  // namespace facebits

// The NEON dispatch slot. No NEON kernels exist yet, so on Arm the addon runs the
// scalar set; a NEON table goes here, built from sources guarded by __ARM_NEON.

#include "../kernels.h"

namespace facebits {

// TODO: add NEON GEMM, depthwise and element-wise kernels and return their table here.
const KernelTable* neonKernels() { return nullptr; }

}  // namespace facebits

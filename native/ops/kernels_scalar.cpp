// The scalar kernel set: the reference every faster set is tested against.

#include "ops.h"

namespace facebits {

const KernelTable* scalarKernels() {
  static const KernelTable table = {
      "scalar", true, gemmScalar, depthwiseScalar, poolScalar, binaryScalar, activationScalar, channelAffineScalar,
  };
  return &table;
}

}  // namespace facebits

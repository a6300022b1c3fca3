// Node-API bindings of the verification helpers (verify_core.h): the learned pair head
// (L-BFGS fit), projected sign codes, seeded random orthogonal projections, the symmetric
// eigen-solver and iterative quantisation. Registered on the addon's exports.
#pragma once

#include <napi.h>

namespace facebits {

// Adds fitHead, projectSigns, projectValues, randomOrthogonal, symmetricEigen and
// iterativeQuantization to the addon's exports.
void registerVerify(Napi::Env env, Napi::Object exports);

}  // namespace facebits

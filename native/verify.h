// Verification helpers of the native core: the learned pair head (L-BFGS fit), projected
// sign codes and seeded random orthogonal projections. Registered on the addon's exports.
#pragma once

#include <napi.h>

namespace facebits {

// Adds fitHead, projectSigns and randomOrthogonal to the addon's exports.
void registerVerify(Napi::Env env, Napi::Object exports);

}  // namespace facebits

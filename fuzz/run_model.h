// Shared by the plan fuzz targets: compiles a plan and, when it is small enough to run
// quickly, runs it with the scalar reference kernels and with the best kernel set, and once
// more in bf16 precision when the CPU has AMX and some layer takes the bfloat16 GEMM.
#pragma once

#include <cstdint>
#include <new>
#include <vector>

#include "../native/cpu.h"
#include "../native/executor.h"
#include "../native/plan.h"

namespace facebits_fuzz {

// Rough multiply-add count of one op, so that slow plans are parsed and compiled but not run.
inline double opCost(const facebits::Plan& plan, const facebits::PlanOp& op) {
  const facebits::Shape& out = plan.shapes[op.output];
  double cost = static_cast<double>(out.size());
  const int64_t last = out.dims[out.rank - 1];
  if (!op.consts.empty() && last > 0) cost *= 1.0 + static_cast<double>(op.consts[0].length) / static_cast<double>(last);
  if (op.type == facebits::OpType::POOL2D) cost *= 1.0 + static_cast<double>(op.params[1]) * op.params[2];
  if (op.type == facebits::OpType::CONCAT) cost *= 1.0 + static_cast<double>(op.inputs.size());
  const facebits::Shape& in = plan.shapes[op.inputs[0]];
  if (op.type == facebits::OpType::POOL2D && op.params[1] == 0) cost += static_cast<double>(in.size());
  return cost;
}

inline void compileAndRun(const int32_t* words, size_t wordCount, const float* weights, size_t weightCount) {
  facebits::Plan plan;
  try {
    plan = facebits::parsePlan(words, wordCount, weightCount);
  } catch (const facebits::PlanError&) {
    return;
  }
  double cost = 0;
  double elements = 0;
  for (const facebits::Shape& s : plan.shapes) elements += static_cast<double>(s.size());
  for (const facebits::PlanOp& op : plan.ops) cost += opCost(plan, op);
  if (elements > (1 << 22)) return;
  try {
    facebits::Model model(words, wordCount, weights, weightCount);
    if (cost > 2e7) return;
    std::vector<std::vector<float>> inputs(model.inputCount());
    std::vector<const float*> pointers;
    for (size_t i = 0; i < inputs.size(); ++i) {
      inputs[i].assign(static_cast<size_t>(model.inputShape(i).size()), 0.0f);
      for (size_t k = 0; k < inputs[i].size(); ++k) inputs[i][k] = static_cast<float>((k * 7919) % 255) - 127.0f;
      pointers.push_back(inputs[i].data());
    }
    model.run(pointers.data(), *facebits::scalarKernels());
    model.run(pointers.data(), facebits::currentKernels());
    facebits::Model bf16(words, wordCount, weights, weightCount, facebits::Precision::BF16);
    if (bf16.bf16Layers() > 0) bf16.run(pointers.data(), facebits::currentKernels());
  } catch (const facebits::PlanError&) {
  } catch (const std::bad_alloc&) {
  }
}

}  // namespace facebits_fuzz

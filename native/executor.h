// A compiled plan: validated, with shapes inferred, weights packed and the tensor
// arena laid out once at load. run() is const and may be called from several threads
// at once. Each call takes an arena from a pool, which keeps up to 8 for later calls.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "kernels.h"
#include "plan.h"

namespace facebits {

struct AlignedBuffer {
  struct Free {
    void operator()(float* p) const;
  };
  std::unique_ptr<float[], Free> data;
  int64_t size = 0;  // floats

  void allocate(int64_t floats);
};

// Ops that run together on bands of rows (runBands in fusion.cpp), so the tensors between
// them stay in cache: a depthwise conv and either the 1x1 conv right after it (with the
// residual ADD right after that when add is set) or, when pool is set, the pooling right
// after it.
struct BandGroup {
  int64_t rows = 0;  // depthwise output rows per band, 0 on ops that lead no group
  bool add = false;
  bool pool = false;
};

// Pre-packed state of one op (only the fields its type uses are set).
struct CompiledOp {
  ActParams act;
  std::vector<float> slopes;           // PReLU slopes expanded to the channel count
  AlignedBuffer packed;                // GEMM panels, bias and slopes for every group
  AlignedBuffer tiles;                 // bfloat16 GEMM tiles for every group (bf16 precision)
  std::vector<PackedMatrix> matrices;  // one per group (FC and CONV2D)
  std::vector<float> depthwise;        // [kh][kw][c] weights for depthwise CONV2D
  std::vector<float> direct;           // DirectConvFn weights, when directConvApplies
  // Index of the next op, a 1x1 CONV2D that the direct convolution applies in the same
  // pass (DirectConvFn's post), or -1.
  int64_t fusedPointwise = -1;
  BandGroup band;                      // set on the depthwise conv that leads a banded group
  // 1x1 convs that read the same input run as one GEMM over their stacked weights, when the
  // first of them runs (fuseSiblings in fusion.cpp). siblings lists the later ones on the
  // first, and mergedInto names the first on the later ones (else -1).
  std::vector<int64_t> siblings;
  int64_t mergedInto = -1;
  AlignedBuffer mergedPacked;          // panels, bias and slopes of the stacked weights
  PackedMatrix merged;
  std::vector<float> bias;             // bias, zero-filled when the plan has none
  ConvGeometry conv{};
  bool isDepthwise = false;
  int64_t scratchFloats = 0;
  Shape constShape;                    // BINARY constant operand
};

struct TensorOutput {
  std::vector<float> data;
  Shape shape;
};

// Time spent in one op over Model::profile's runs. An op fused into the one before it has
// its time counted there and fusedInto set.
struct OpProfile {
  std::string description;  // e.g. "conv 1x1 64->128, 56x56 out, gemm bf16"
  double flops = 0;         // multiply-adds x 2 per run
  double seconds = 0;       // summed over the runs
  int64_t fusedInto = -1;
};

// Arithmetic a model may use. BF16 lets GEMM-lowered layers (1x1 and im2col convolutions,
// fully connected) multiply bfloat16-rounded operands with float32 sums, on AMX tiles or with
// VDPBF16PS, where bf16Ready() is true. Every other layer, and every layer on other CPUs,
// stays float32.
enum class Precision { FP32, BF16 };

class Model {
 public:
  Model(const int32_t* words, size_t wordCount, const float* weights, size_t weightCount,
        Precision precision = Precision::FP32);

  size_t inputCount() const { return plan_.inputs.size(); }
  const Shape& inputShape(size_t i) const { return plan_.shapes[plan_.inputs[i]]; }
  // Number of layers packed for the bfloat16 GEMM; 0 unless loaded with BF16 on an AMX CPU.
  int64_t bf16Layers() const { return bf16Layers_; }

  // Runs the plan with the given kernel set. inputs[i] must hold inputShape(i).size() floats.
  std::vector<TensorOutput> run(const float* const* inputs, const KernelTable& kernels) const;

  // Runs the plan `runs` times and returns each op's time, in plan order.
  std::vector<OpProfile> profile(const float* const* inputs, const KernelTable& kernels, int64_t runs) const;

 private:
  std::vector<TensorOutput> runTimed(const float* const* inputs, const KernelTable& kernels,
                                     std::vector<OpProfile>* profile) const;
  std::string describe(size_t index, const KernelTable& k) const;
  void compileOp(size_t index);
  void packBf16(CompiledOp& c, const float* w, int64_t groups, int64_t columns, int64_t depth);
  void dropUnusedTiles();
  void layoutArena();
  void fusePointwise(const std::vector<int32_t>& consumers);
  void fuseBands(const std::vector<int32_t>& consumers);
  void fuseSiblings();
  void stackSiblings(const std::vector<size_t>& convs, int64_t total);
  void runSiblings(size_t index, float** tensors, float* scratch, const KernelTable& k) const;
  // The last op that runs with op index in one pass: index itself unless ops were fused into it.
  size_t groupEnd(size_t index) const;
  // Runs the band group that op index leads (CompiledOp::band).
  void runBands(size_t index, float** tensors, float* scratch, const KernelTable& k) const;
  void runPoolBands(size_t index, float** tensors, float* scratch, const KernelTable& k) const;
  std::string describeBands(size_t index, const KernelTable& k) const;
  PoolGeometry poolGeometry(size_t index) const;
  // Runs op index and returns how many ops it ran: more than 1 when the ops after it were
  // fused into it (groupEnd).
  size_t execute(size_t index, float** tensors, float* scratch, const KernelTable& k) const;
  const float* constData(const PlanOp& op, size_t i) const { return weights_.data() + op.consts[i].offset; }

  Plan plan_;
  std::vector<float> weights_;
  std::vector<CompiledOp> compiled_;
  std::vector<int64_t> offsets_;  // arena offset (floats) of each tensor, -1 for plan inputs
  int64_t arenaFloats_ = 0;
  int64_t scratchFloats_ = 0;
  bool bf16_ = false;
  int64_t bf16Layers_ = 0;

  // Arenas of finished runs: one per call that ran at the same time, at most kMaxPooledArenas.
  static constexpr size_t kMaxPooledArenas = 8;
  mutable std::mutex arenaMutex_;
  mutable std::vector<AlignedBuffer> freeArenas_;
};

}  // namespace facebits

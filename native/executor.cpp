// Model compilation (weight packing, arena layout) and the op-by-op executor.

#include "executor.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <new>

#include "cpu.h"
#include "ops/ops.h"

#if defined(__x86_64__) || defined(_M_X64)
#include <xmmintrin.h>
#define FACEBITS_HAS_MXCSR 1
#endif

namespace facebits {

namespace {

constexpr int64_t kAlignFloats = 16;  // 64 bytes

int32_t param(const PlanOp& op, size_t i) { return op.params[i]; }
float paramF(const PlanOp& op, size_t i) { return paramFloat(op.params[i]); }

ActParams activation(const PlanOp& op, size_t kindIndex) {
  ActParams act;
  act.kind = param(op, kindIndex);
  act.a = paramF(op, kindIndex + 1);
  act.b = paramF(op, kindIndex + 2);
  return act;
}

// Copies PReLU slopes of length 1 or `channels` into `channels` floats.
std::vector<float> expandSlopes(const float* slopes, int64_t length, int64_t channels) {
  std::vector<float> out(channels);
  for (int64_t c = 0; c < channels; ++c) out[c] = slopes[length == 1 ? 0 : c];
  return out;
}

// Sets flush-to-zero and denormals-are-zero for the calling thread while in scope and
// restores the caller's MXCSR on exit. Subnormal activations otherwise take a microcode
// assist on every x86 multiply, which can slow a whole layer several times over.
// On AArch64 it sets FPCR.FZ (bit 24), which flushes subnormal inputs and results of scalar
// and Advanced SIMD float operations to zero, as FTZ and DAZ do on x64.
// NOTE: on other architectures this does nothing, so subnormals keep their full cost there.
class FlushDenormals {
 public:
#if FACEBITS_HAS_MXCSR
  FlushDenormals() : saved_(_mm_getcsr()) { _mm_setcsr(saved_ | kFlushToZero | kDenormalsAreZero); }
  ~FlushDenormals() { _mm_setcsr(saved_); }

 private:
  static constexpr unsigned kFlushToZero = 0x8000;
  static constexpr unsigned kDenormalsAreZero = 0x0040;
  unsigned saved_;
#elif defined(__aarch64__)
  FlushDenormals() {
    __asm__ volatile("mrs %0, fpcr" : "=r"(saved_) : : "memory");
    const uint64_t flushing = saved_ | kFlushToZero;
    __asm__ volatile("msr fpcr, %0" : : "r"(flushing) : "memory");
  }
  ~FlushDenormals() { __asm__ volatile("msr fpcr, %0" : : "r"(saved_) : "memory"); }

 private:
  static constexpr uint64_t kFlushToZero = uint64_t(1) << 24;
  uint64_t saved_;
#endif
};

// Magnitude below which the Model constructor sets weights to zero.
#if defined(__wasm__)
// WebAssembly cannot set flush-to-zero, so a product that underflows to a subnormal also takes
// the assist. fr_feature has about 190,000 normal weights below 1e-10 (pruned filters), whose
// products with small activations underflow: with them the WebAssembly run took 35 ms, without
// them 14 ms (Xeon, V8 11.3). Their products with activations below 1e3 are under 1e-7, which
// is float rounding for outputs near 1; test/wasm.test.ts checks the embeddings against native.
constexpr float kZeroWeightsBelow = 1e-10f;
#else
constexpr float kZeroWeightsBelow = std::numeric_limits<float>::min();
#endif

}  // namespace

void AlignedBuffer::Free::operator()(float* p) const { std::free(p); }

void AlignedBuffer::allocate(int64_t floats) {
  const size_t bytes = static_cast<size_t>(roundUp(std::max<int64_t>(floats, 1), kAlignFloats)) * sizeof(float);
  void* p = std::aligned_alloc(64, bytes);
  if (!p) throw std::bad_alloc();
  data.reset(static_cast<float*>(p));
  size = floats;
}

Model::Model(const int32_t* words, size_t wordCount, const float* weights, size_t weightCount, Precision precision)
    : plan_(parsePlan(words, wordCount, weightCount)), weights_(weights, weights + weightCount) {
  bf16_ = precision == Precision::BF16 && bf16Ready();
  // Subnormal weights become zero. Products with subnormals take a microcode assist on x86
  // (fr_feature has 8,938 such weights and ran 6x slower with them), and values that small
  // change no output. The same loop in JavaScript took 17 to 73 ms for fr_feature's 1.2 M
  // weights in a fresh process, which is why it runs here.
  for (float& w : weights_) {
    if (w != 0.0f && std::fabs(w) < kZeroWeightsBelow) w = 0.0f;
  }
  compiled_.resize(plan_.ops.size());
  for (size_t i = 0; i < plan_.ops.size(); ++i) compileOp(i);
  std::vector<int32_t> consumers(plan_.tensorCount, 0);
  for (const PlanOp& op : plan_.ops)
    for (int32_t id : op.inputs) ++consumers[id];
  for (int32_t id : plan_.outputs) ++consumers[id];
  fusePointwise(consumers);
  fuseBands(consumers);
  if (!bf16_) fuseSiblings();
  dropUnusedTiles();
  layoutArena();
  // With the slots reserved, returning an arena to the pool never allocates and so cannot throw.
  freeArenas_.reserve(kMaxPooledArenas);
}

void Model::compileOp(size_t index) {
  const PlanOp& op = plan_.ops[index];
  CompiledOp& c = compiled_[index];
  switch (op.type) {
    case OpType::CONV2D: {
      const Shape& in = plan_.shapes[op.inputs[0]];
      const Shape& out = plan_.shapes[op.output];
      ConvGeometry& g = c.conv;
      g = ConvGeometry{in.dims[0], in.dims[1], in.dims[2], in.dims[3], out.dims[1], out.dims[2], out.dims[3],
                       param(op, 0), param(op, 1), param(op, 2), param(op, 3), param(op, 4), param(op, 5),
                       param(op, 6), param(op, 7), param(op, 10)};
      c.act = activation(op, 12);
      const int64_t kernel = g.kh * g.kw;
      const int64_t cg = g.c / g.groups;
      const int64_t ocg = g.oc / g.groups;
      const float* w = constData(op, 0);
      c.bias.assign(g.oc, 0.0f);
      if (op.consts[1].length) std::copy(constData(op, 1), constData(op, 1) + g.oc, c.bias.begin());
      if (c.act.kind == static_cast<int32_t>(Activation::PRELU)) {
        c.slopes = expandSlopes(constData(op, 2), op.consts[2].length, g.oc);
        c.act.slopes = c.slopes.data();
      }
      c.isDepthwise = g.groups == g.c && g.oc == g.c;
      if (c.isDepthwise) {
        c.depthwise.resize(kernel * g.c);
        for (int64_t ch = 0; ch < g.c; ++ch)
          for (int64_t t = 0; t < kernel; ++t) c.depthwise[t * g.c + ch] = w[ch * kernel + t];
        break;
      }
      if (directConvApplies(g)) c.direct = packDirectWeights(g, w);
      const int64_t depth = kernel * cg;
      const int64_t panels = panelCount(ocg);
      const int64_t groupFloats = panels * kPanelWidth * (depth + 2);
      c.packed.allocate(groupFloats * g.groups);
      std::memset(c.packed.data.get(), 0, sizeof(float) * groupFloats * g.groups);
      for (int64_t group = 0; group < g.groups; ++group) {
        float* base = c.packed.data.get() + group * groupFloats;
        PackedMatrix m;
        m.panels = base;
        m.bias = base + panels * kPanelWidth * depth;
        m.slopes = m.bias + panels * kPanelWidth;
        m.k = depth;
        m.n = ocg;
        m.panelCount = panels;
        packPanels(w + group * ocg * depth, ocg, depth, depth, base);
        float* bias = base + panels * kPanelWidth * depth;
        std::copy(c.bias.begin() + group * ocg, c.bias.begin() + (group + 1) * ocg, bias);
        if (!c.slopes.empty()) {
          std::copy(c.slopes.begin() + group * ocg, c.slopes.begin() + (group + 1) * ocg, bias + panels * kPanelWidth);
        }
        c.matrices.push_back(m);
      }
      packBf16(c, w, g.groups, ocg, depth);
      c.scratchFloats = conv2dScratchFloats(g);
      break;
    }
    case OpType::FULLY_CONNECTED: {
      const Shape& in = plan_.shapes[op.inputs[0]];
      const int64_t depth = in.size() / in.dims[0];
      const int64_t outF = param(op, 0);
      c.act = activation(op, 1);
      c.bias.assign(outF, 0.0f);
      if (op.consts[1].length) std::copy(constData(op, 1), constData(op, 1) + outF, c.bias.begin());
      if (c.act.kind == static_cast<int32_t>(Activation::PRELU)) {
        c.slopes = expandSlopes(constData(op, 2), op.consts[2].length, outF);
        c.act.slopes = c.slopes.data();
      }
      const int64_t panels = panelCount(outF);
      c.packed.allocate(panels * kPanelWidth * (depth + 2));
      std::memset(c.packed.data.get(), 0, sizeof(float) * panels * kPanelWidth * (depth + 2));
      float* base = c.packed.data.get();
      packPanels(constData(op, 0), outF, depth, depth, base);
      float* bias = base + panels * kPanelWidth * depth;
      std::copy(c.bias.begin(), c.bias.end(), bias);
      if (!c.slopes.empty()) std::copy(c.slopes.begin(), c.slopes.end(), bias + panels * kPanelWidth);
      c.matrices.push_back(PackedMatrix{base, bias, bias + panels * kPanelWidth, depth, outF, panels});
      packBf16(c, constData(op, 0), 1, outF, depth);
      break;
    }
    case OpType::BINARY: {
      c.act = activation(op, 1);
      if (op.inputs.size() == 1) {
        const Shape& a = plan_.shapes[op.inputs[0]];
        const int64_t length = op.consts[0].length;
        if (length == a.size()) {
          c.constShape = a;
        } else {
          c.constShape.rank = 1;
          c.constShape.dims[0] = length;
        }
      }
      break;
    }
    case OpType::UNARY: {
      if (param(op, 0) == static_cast<int32_t>(UnaryKind::PRELU)) {
        const Shape& in = plan_.shapes[op.inputs[0]];
        c.slopes = expandSlopes(constData(op, 0), op.consts[0].length, in.dims[in.rank - 1]);
      }
      break;
    }
    default:
      break;
  }
}

// Adds bfloat16 tiles to the matrices of one op when the model runs in BF16 and the shape
// suits the bfloat16 GEMMs. w contains the groups' weights one after another, columns x depth each.
void Model::packBf16(CompiledOp& c, const float* w, int64_t groups, int64_t columns, int64_t depth) {
  if (!bf16_ || !bf16Applies(columns, depth)) return;
  const int64_t values = tilesBf16Size(columns, depth);
  c.tiles.allocate(roundUp(values, 2 * kAlignFloats) / 2 * groups);
  uint16_t* tiles = reinterpret_cast<uint16_t*>(c.tiles.data.get());
  for (int64_t group = 0; group < groups; ++group) {
    uint16_t* groupTiles = tiles + group * roundUp(values, 2 * kAlignFloats);
    packTilesBf16(w + group * columns * depth, columns, depth, depth, groupTiles);
    c.matrices[group].tiles = groupTiles;
    c.matrices[group].tileDepth = roundUp(depth, kTileDepth);
  }
}

// A direct conv and the 1x1 conv fused into its pass multiply in float32 (DirectConvFn reads
// float32 weights), so their tiles would never be read. The rest run the bfloat16 GEMM.
void Model::dropUnusedTiles() {
  for (size_t i = 0; i < compiled_.size(); ++i) {
    CompiledOp& c = compiled_[i];
    if (!c.tiles.data) continue;
    const bool fusedIntoDirect = i > 0 && compiled_[i - 1].fusedPointwise == static_cast<int64_t>(i);
    if (c.direct.empty() && !fusedIntoDirect) {
      ++bf16Layers_;
      continue;
    }
    for (PackedMatrix& m : c.matrices) {
      m.tiles = nullptr;
      m.tileDepth = 0;
    }
    c.tiles = AlignedBuffer{};
  }
}

void Model::layoutArena() {
  const int32_t tensorCount = plan_.tensorCount;
  const int64_t end = static_cast<int64_t>(plan_.ops.size());
  std::vector<int64_t> first(tensorCount, -1), last(tensorCount, -1);
  // Ops fused into one pass run interleaved, so every tensor they touch lives from the
  // group's first op to its last.
  for (size_t start = 0; start < plan_.ops.size();) {
    const size_t groupLast = groupEnd(start);
    const int64_t from = static_cast<int64_t>(start);
    const int64_t to = static_cast<int64_t>(groupLast);
    for (size_t i = start; i <= groupLast; ++i) {
      const PlanOp& op = plan_.ops[i];
      first[op.output] = from;
      last[op.output] = std::max(last[op.output], to);
      for (int32_t id : op.inputs) last[id] = std::max(last[id], to);
      scratchFloats_ = std::max(scratchFloats_, compiled_[i].scratchFloats);
    }
    start = groupLast + 1;
  }
  // The first of a set of sibling 1x1 convs writes all their outputs.
  for (size_t i = 0; i < plan_.ops.size(); ++i) {
    const int64_t leader = compiled_[i].mergedInto;
    if (leader >= 0) first[plan_.ops[i].output] = std::min(first[plan_.ops[i].output], leader);
  }
  for (int32_t id : plan_.outputs) last[id] = end;

  // Greedy best-fit by size: the biggest tensors are placed first at the lowest offset
  // that no tensor with an overlapping lifetime [first, last] uses.
  std::vector<int32_t> order;
  for (int32_t t = 0; t < tensorCount; ++t)
    if (first[t] >= 0) order.push_back(t);
  std::stable_sort(order.begin(), order.end(), [&](int32_t x, int32_t y) {
    return plan_.shapes[x].size() > plan_.shapes[y].size();
  });
  offsets_.assign(tensorCount, -1);
  std::vector<int32_t> placed;
  for (int32_t t : order) {
    const int64_t size = roundUp(plan_.shapes[t].size(), kAlignFloats);
    std::vector<std::pair<int64_t, int64_t>> busy;
    for (int32_t p : placed) {
      if (first[p] <= last[t] && first[t] <= last[p]) {
        busy.emplace_back(offsets_[p], offsets_[p] + roundUp(plan_.shapes[p].size(), kAlignFloats));
      }
    }
    std::sort(busy.begin(), busy.end());
    int64_t offset = 0;
    for (const auto& range : busy) {
      if (range.first >= offset + size) break;
      offset = std::max(offset, range.second);
    }
    offsets_[t] = offset;
    arenaFloats_ = std::max(arenaFloats_, offset + size);
    placed.push_back(t);
  }
}

std::vector<TensorOutput> Model::run(const float* const* inputs, const KernelTable& kernels) const {
  return runTimed(inputs, kernels, nullptr);
}

std::vector<OpProfile> Model::profile(const float* const* inputs, const KernelTable& kernels, int64_t runs) const {
  std::vector<OpProfile> ops(plan_.ops.size());
  for (size_t i = 0; i < ops.size(); ++i) {
    ops[i].description = describe(i, kernels);
    const PlanOp& op = plan_.ops[i];
    const Shape& out = plan_.shapes[op.output];
    const Shape& in = plan_.shapes[op.inputs[0]];
    if (op.type == OpType::CONV2D) {
      const ConvGeometry& g = compiled_[i].conv;
      ops[i].flops = 2.0 * out.size() * g.kh * g.kw * (g.c / g.groups);
    } else if (op.type == OpType::FULLY_CONNECTED) {
      ops[i].flops = 2.0 * out.size() * (in.size() / in.dims[0]);
    }
  }
  for (size_t i = 0; i < ops.size(); ++i) {
    if (compiled_[i].fusedPointwise >= 0 && kernels.directConv && !kernels.reference) {
      ops[compiled_[i].fusedPointwise].fusedInto = static_cast<int64_t>(i);
    }
    if (compiled_[i].band.rows > 0 && !kernels.reference) {
      for (size_t j = i + 1; j <= groupEnd(i); ++j) ops[j].fusedInto = static_cast<int64_t>(i);
    }
    if (compiled_[i].mergedInto >= 0 && !kernels.reference) ops[i].fusedInto = compiled_[i].mergedInto;
  }
  for (int64_t r = 0; r < runs; ++r) runTimed(inputs, kernels, &ops);
  return ops;
}

std::string Model::describe(size_t index, const KernelTable& k) const {
  const PlanOp& op = plan_.ops[index];
  const CompiledOp& c = compiled_[index];
  const Shape& out = plan_.shapes[op.output];
  const std::string size = out.rank == 4 ? std::to_string(out.dims[1]) + "x" + std::to_string(out.dims[2]) + " out" : "";
  if (c.band.rows > 0 && !k.reference) return describeBands(index, k);
  switch (op.type) {
    case OpType::CONV2D: {
      const ConvGeometry& g = c.conv;
      const std::string kernel = std::to_string(g.kh) + "x" + std::to_string(g.kw);
      const std::string stride = g.sh > 1 ? " s" + std::to_string(g.sh) : "";
      if (c.isDepthwise) return "depthwise " + kernel + stride + " " + std::to_string(g.c) + ", " + size;
      if (!c.siblings.empty() && !k.reference) {
        return "conv 1x1 " + std::to_string(g.c) + "->" + std::to_string(c.merged.n) + " for " +
               std::to_string(c.siblings.size() + 1) + " convs of one input, " + size + ", " + gemmName(k, c.merged);
      }
      const std::string path = k.reference ? "reference"
                               : (k.directConv && !c.direct.empty()) ? "direct"
                                                                      : gemmName(k, c.matrices[0]);
      return "conv " + kernel + stride + " " + std::to_string(g.c) + "->" + std::to_string(g.oc) + ", " + size + ", " + path;
    }
    case OpType::FULLY_CONNECTED:
      return "fully connected " + std::to_string(out.dims[1]) + " out, " + (k.reference ? "reference" : gemmName(k, c.matrices[0]));
    case OpType::BINARY: return "binary";
    case OpType::UNARY: return "unary";
    case OpType::PAD: return "pad";
    case OpType::POOL2D: return "pool, " + size;
    case OpType::RESHAPE: return "reshape";
    case OpType::TRANSPOSE: return "transpose";
    case OpType::CONCAT: return "concat";
    case OpType::SOFTMAX: return "softmax";
    case OpType::L2_NORMALIZE: return "l2 normalize";
    case OpType::RESIZE: return "resize, " + size;
    case OpType::SLICE: return "slice";
    case OpType::CHANNEL_AFFINE: return "channel affine";
  }
  return "op";
}

std::vector<TensorOutput> Model::runTimed(const float* const* inputs, const KernelTable& kernels,
                                          std::vector<OpProfile>* profile) const {
  // Each concurrent run takes an arena from the pool, or allocates one when all are busy,
  // and returns it afterwards. A fresh arena per run page-faults on first touch, and freeing
  // it can make the kernel flush the TLBs of the process's other threads. Two run() calls in
  // flight took about 5 % less time with the pool (MobileFaceNet and fr_feature, 2-core Xeon).
  AlignedBuffer arena;
  {
    std::lock_guard<std::mutex> lock(arenaMutex_);
    if (!freeArenas_.empty()) {
      arena = std::move(freeArenas_.back());
      freeArenas_.pop_back();
    }
  }
  if (!arena.data) arena.allocate(arenaFloats_ + scratchFloats_);
  struct Return {
    const Model* model;
    AlignedBuffer& arena;
    ~Return() {
      std::lock_guard<std::mutex> lock(model->arenaMutex_);
      if (model->freeArenas_.size() < kMaxPooledArenas) model->freeArenas_.push_back(std::move(arena));
    }
  } giveBack{this, arena};

  std::vector<float*> tensors(plan_.tensorCount, nullptr);
  for (int32_t t = 0; t < plan_.tensorCount; ++t)
    if (offsets_[t] >= 0) tensors[t] = arena.data.get() + offsets_[t];
  for (size_t i = 0; i < plan_.inputs.size(); ++i) tensors[plan_.inputs[i]] = const_cast<float*>(inputs[i]);

  float* scratch = arena.data.get() + arenaFloats_;
  {
    FlushDenormals flush;
    if (!profile) {
      for (size_t i = 0; i < plan_.ops.size();) i += execute(i, tensors.data(), scratch, kernels);
    } else {
      for (size_t i = 0; i < plan_.ops.size();) {
        const auto start = std::chrono::steady_clock::now();
        const size_t ran = execute(i, tensors.data(), scratch, kernels);
        (*profile)[i].seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        i += ran;
      }
    }
  }

  std::vector<TensorOutput> outputs(plan_.outputs.size());
  for (size_t i = 0; i < plan_.outputs.size(); ++i) {
    const int32_t id = plan_.outputs[i];
    const Shape& shape = plan_.shapes[id];
    outputs[i].shape = shape;
    outputs[i].data.assign(tensors[id], tensors[id] + shape.size());
  }
  return outputs;
}

PoolGeometry Model::poolGeometry(size_t index) const {
  const PlanOp& op = plan_.ops[index];
  const Shape& in = plan_.shapes[op.inputs[0]];
  const Shape& out = plan_.shapes[op.output];
  return PoolGeometry{in.dims[0],   in.dims[1],   in.dims[2],   in.dims[3],   out.dims[1],
                      out.dims[2],  param(op, 1), param(op, 2), param(op, 3), param(op, 4),
                      param(op, 5), param(op, 6), param(op, 0), param(op, 1) == 0 && param(op, 2) == 0,
                      param(op, 9) == 1};
}

size_t Model::execute(size_t index, float** tensors, float* scratch, const KernelTable& k) const {
  const PlanOp& op = plan_.ops[index];
  const CompiledOp& c = compiled_[index];
  const Shape& inShape = plan_.shapes[op.inputs[0]];
  const Shape& outShape = plan_.shapes[op.output];
  const float* in = tensors[op.inputs[0]];
  float* out = tensors[op.output];

  switch (op.type) {
    case OpType::CONV2D:
      if (c.band.rows > 0 && !k.reference) {
        runBands(index, tensors, scratch, k);
        return groupEnd(index) - index + 1;
      }
      if (!k.reference && (c.mergedInto >= 0 || !c.siblings.empty())) {
        // The first conv of the set wrote this one's output.
        if (c.mergedInto < 0) runSiblings(index, tensors, scratch, k);
        return 1;
      }
      if (k.reference) {
        conv2dReference(c.conv, in, constData(op, 0), c.bias.data(), c.act, out);
      } else if (c.isDepthwise) {
        k.depthwise(c.conv, in, c.depthwise.data(), c.bias.data(), c.act, out);
      } else if (k.directConv && !c.direct.empty()) {
        if (c.fusedPointwise >= 0) {
          // The 1x1 conv that follows runs in the same pass, so this op's output is never stored.
          const CompiledOp& next = compiled_[c.fusedPointwise];
          float* nextOut = tensors[plan_.ops[c.fusedPointwise].output];
          k.directConv(c.conv, in, c.direct.data(), c.bias.data(), c.act, next.matrices.data(), next.act, nextOut);
          return 2;
        }
        k.directConv(c.conv, in, c.direct.data(), c.bias.data(), c.act, nullptr, ActParams{}, out);
      } else {
        conv2dPacked(k, c.conv, in, c.matrices.data(), c.act, scratch, out);
      }
      return 1;
    case OpType::FULLY_CONNECTED: {
      const int64_t rows = inShape.dims[0];
      const int64_t depth = inShape.size() / rows;
      const int64_t outF = outShape.dims[1];
      if (k.reference) {
        fullyConnectedReference(rows, depth, outF, in, constData(op, 0), c.bias.data(), c.act, out);
      } else {
        gemmFor(k, c.matrices[0])(rows, in, depth, c.matrices[0], c.act, out, outF);
        if (c.act.kind == static_cast<int32_t>(Activation::SIGMOID)) k.activation(out, rows, outF, c.act);
      }
      return 1;
    }
    case OpType::BINARY: {
      const float* a = in;
      const float* b = op.inputs.size() == 2 ? tensors[op.inputs[1]] : constData(op, 0);
      const Shape* shapeA = &inShape;
      const Shape* shapeB = op.inputs.size() == 2 ? &plan_.shapes[op.inputs[1]] : &c.constShape;
      if (param(op, 4) == 1) {
        std::swap(a, b);
        std::swap(shapeA, shapeB);
      }
      binaryBroadcast(k, param(op, 0), a, *shapeA, b, *shapeB, out, outShape, c.act);
      return 1;
    }
    case OpType::UNARY:
      unary(k, param(op, 0), paramF(op, 1), paramF(op, 2), c.slopes.data(), static_cast<int64_t>(c.slopes.size()), in,
            out, inShape);
      return 1;
    case OpType::PAD: {
      const PadParams p{param(op, 0), param(op, 1), param(op, 2), param(op, 3), param(op, 4), param(op, 5),
                        param(op, 6), paramF(op, 7)};
      pad(inShape, p, in, out);
      return 1;
    }
    case OpType::POOL2D:
      k.pool(poolGeometry(index), in, out);
      return 1;
    case OpType::RESHAPE:
      std::memcpy(out, in, sizeof(float) * inShape.size());
      return 1;
    case OpType::TRANSPOSE:
      transpose(inShape, op.params.data() + 1, in, out);
      return 1;
    case OpType::CONCAT: {
      std::vector<Shape> shapes;
      std::vector<const float*> inputs;
      for (int32_t id : op.inputs) {
        shapes.push_back(plan_.shapes[id]);
        inputs.push_back(tensors[id]);
      }
      int32_t axis = param(op, 0);
      if (axis < 0) axis += inShape.rank;
      concat(shapes.data(), inputs.data(), static_cast<int64_t>(inputs.size()), axis, out);
      return 1;
    }
    case OpType::SOFTMAX: {
      int32_t axis = param(op, 0);
      if (axis < 0) axis += inShape.rank;
      softmax(inShape, axis, in, out);
      return 1;
    }
    case OpType::L2_NORMALIZE: {
      const int64_t length = inShape.dims[inShape.rank - 1];
      l2Normalize(inShape.size() / length, length, paramF(op, 0), in, out);
      return 1;
    }
    case OpType::RESIZE:
      resize(inShape, param(op, 0), param(op, 1), param(op, 2), param(op, 3), in, out);
      return 1;
    case OpType::SLICE: {
      int64_t start[kMaxRank] = {0, 0, 0, 0};
      for (int32_t i = 0; i < inShape.rank; ++i) start[i] = param(op, 1 + i);
      slice(inShape, start, outShape, in, out);
      return 1;
    }
    case OpType::CHANNEL_AFFINE: {
      const int64_t channels = inShape.dims[inShape.rank - 1];
      k.channelAffine(in, constData(op, 0), constData(op, 1), out, inShape.size() / channels, channels);
      return 1;
    }
  }
  return 1;
}

}  // namespace facebits

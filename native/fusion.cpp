// Op fusion: which consecutive ops run as one pass, and the banded passes that run a
// depthwise conv with the op after it.
//
// A direct convolution with at most 16 outputs takes the 1x1 conv after it into the same
// pass (DirectConvFn's post). A depthwise conv takes the 1x1 conv after it and the residual
// ADD after that, as in MobileNetV2 and MobileFaceNet blocks, or else a pooling with
// windows that do not overlap, as in YuNet. Those groups run on bands of output rows, so
// the depthwise output of one band is still in cache when the next op reads it, and the
// pooling never writes it to memory at all. Every value is computed as the separate ops
// compute it, so results are bit for bit the same.
//
// NOTE: the 1x1 conv before the depthwise conv stays a separate op. Computing its output
// rows per band as well ran no faster on MobileFaceNet on a Xeon with a 2 MiB L2, where
// that conv's whole output already stays in L2. CPUs with smaller caches may gain from it.

#include <algorithm>
#include <cstring>
#include <map>

#include "executor.h"
#include "ops/ops.h"

namespace facebits {

namespace {

// Depthwise output floats per band (64 KiB). On MobileFaceNet, 8,192 to 32,768 floats ran
// equally fast and 4,096 was slower (one 2-core Xeon with a 2 MiB L2 per core).
constexpr int64_t kBandFloats = 16384;

constexpr int32_t kSigmoid = static_cast<int32_t>(Activation::SIGMOID);

bool sameShape(const Shape& a, const Shape& b) {
  return a.rank == b.rank && std::equal(a.dims, a.dims + a.rank, b.dims);
}

// A 1x1 conv with one input and one output channel compiles as depthwise, without the packed
// matrix that the GEMM needs.
bool packedPointwise(const CompiledOp& c) { return isPointwise(c.conv) && !c.isDepthwise && !c.matrices.empty(); }

// Activations that apply per element, so a band can apply them as the whole-tensor op does.
// PReLU slopes of a BINARY op follow binaryBroadcast's flattened index, not the channel.
bool elementwise(int32_t kind) {
  return kind == 0 || kind == static_cast<int32_t>(Activation::RELU) || kind == static_cast<int32_t>(Activation::CLIP) ||
         kind == static_cast<int32_t>(Activation::LEAKY_RELU);
}

// A pooling whose windows tile its input without overlap or padding, so each band of
// `stride` input rows gives its own output rows: kernel equal to stride, no padding, and
// no partial window at the bottom or right edge.
bool tilingPool(const PoolGeometry& p) {
  return !p.global && p.kh == p.sh && p.kw == p.sw && p.padTop == 0 && p.padLeft == 0 && p.oh * p.sh <= p.h &&
         p.ow * p.sw <= p.w;
}

// Columns of one stacked GEMM of sibling 1x1 convs: four 16-column panels, so the scratch
// output of a 60x80 feature map stays under 1.2 MiB.
constexpr int64_t kMaxSiblingColumns = 64;

// Rows of depthwise output per band, a multiple of `multiple`: about kBandFloats floats,
// at least `multiple` rows.
int64_t bandRows(const ConvGeometry& g, int64_t multiple) {
  const int64_t rows = kBandFloats / std::max<int64_t>(1, g.ow * g.c) / multiple * multiple;
  return std::max(multiple, std::min(rows, roundUp(g.oh, multiple)));
}

}  // namespace

void Model::fusePointwise(const std::vector<int32_t>& consumers) {
  for (size_t i = 0; i + 1 < plan_.ops.size(); ++i) {
    const CompiledOp& c = compiled_[i];
    const PlanOp& next = plan_.ops[i + 1];
    if (c.direct.empty() || c.conv.oc > 16 || c.act.kind == kSigmoid) continue;
    if (next.type != OpType::CONV2D || next.inputs.size() != 1 || next.inputs[0] != plan_.ops[i].output) continue;
    if (consumers[plan_.ops[i].output] != 1) continue;
    const CompiledOp& n = compiled_[i + 1];
    if (!packedPointwise(n) || n.conv.oc > 16 || n.act.kind == kSigmoid) continue;
    compiled_[i].fusedPointwise = static_cast<int64_t>(i + 1);
    ++i;
  }
}

void Model::fuseBands(const std::vector<int32_t>& consumers) {
  for (size_t i = 0; i + 1 < plan_.ops.size(); ++i) {
    // The ops of a direct conv's pass stay in that pass.
    if (compiled_[i].fusedPointwise >= 0) {
      i = groupEnd(i);
      continue;
    }
    CompiledOp& c = compiled_[i];
    const PlanOp& op = plan_.ops[i];
    const PlanOp& next = plan_.ops[i + 1];
    const CompiledOp& n = compiled_[i + 1];
    if (op.type != OpType::CONV2D || !c.isDepthwise || c.act.kind == kSigmoid) continue;
    if (next.inputs.empty() || next.inputs[0] != op.output || consumers[op.output] != 1) continue;

    BandGroup band;
    if (next.type == OpType::POOL2D) {
      const PoolGeometry pool = poolGeometry(i + 1);
      if (!tilingPool(pool)) continue;
      band.pool = true;
      band.rows = bandRows(c.conv, pool.sh);
      c.band = band;
      c.scratchFloats = std::max(c.scratchFloats, band.rows * c.conv.ow * c.conv.c);
      ++i;
      continue;
    }
    if (next.type != OpType::CONV2D || next.inputs.size() != 1) continue;
    if (!packedPointwise(n) || !n.direct.empty() || n.act.kind == kSigmoid) continue;

    // A residual ADD of two tensors of the 1x1 conv's shape.
    if (i + 2 < plan_.ops.size()) {
      const PlanOp& add = plan_.ops[i + 2];
      const bool isAdd = add.type == OpType::BINARY && add.params[0] == static_cast<int32_t>(BinaryKind::ADD) &&
                         add.inputs.size() == 2;
      if (isAdd && elementwise(compiled_[i + 2].act.kind) && consumers[next.output] == 1) {
        int32_t other = -1;
        if (add.inputs[0] == next.output) {
          other = add.inputs[1];
        } else if (add.inputs[1] == next.output) {
          other = add.inputs[0];
        }
        const Shape& shape = plan_.shapes[next.output];
        if (other >= 0 && other != next.output && sameShape(plan_.shapes[other], shape) &&
            sameShape(plan_.shapes[add.output], shape)) {
          band.add = true;
        }
      }
    }

    band.rows = bandRows(c.conv, 1);
    c.band = band;
    c.scratchFloats = std::max(c.scratchFloats, band.rows * c.conv.ow * c.conv.c);
    i = groupEnd(i);
  }
}

// Sibling 1x1 convs, such as a detector's class, box and landmark heads on one feature map,
// each read the whole input. With their weights stacked into one matrix, one GEMM reads it
// once and its output columns are copied to each conv's output. Results match the separate
// convs within float32 rounding, because a conv with at most 4 outputs sums its dot
// products in another order on its own.
// NOTE: bf16 models keep the convs separate, because the stacked matrix has no bfloat16 tiles.
void Model::fuseSiblings() {
  // Ops that already run inside another op's pass.
  std::vector<bool> grouped(plan_.ops.size(), false);
  for (size_t start = 0; start < plan_.ops.size(); start = groupEnd(start) + 1) {
    for (size_t i = start + 1; i <= groupEnd(start); ++i) grouped[i] = true;
  }

  // Candidates by input tensor and activation: plain 1x1 convs with no activation or ReLU.
  std::map<std::pair<int32_t, int32_t>, std::vector<size_t>> readers;
  for (size_t i = 0; i < plan_.ops.size(); ++i) {
    const PlanOp& op = plan_.ops[i];
    const CompiledOp& c = compiled_[i];
    if (op.type != OpType::CONV2D || op.inputs.size() != 1 || grouped[i]) continue;
    if (!packedPointwise(c) || c.matrices.size() != 1 || !c.direct.empty()) continue;
    if (c.act.kind != 0 && c.act.kind != static_cast<int32_t>(Activation::RELU)) continue;
    readers[{op.inputs[0], c.act.kind}].push_back(i);
  }

  for (const auto& entry : readers) {
    const std::vector<size_t>& convs = entry.second;
    for (size_t first = 0; first + 1 < convs.size();) {
      // As many following convs as fit in kMaxSiblingColumns.
      int64_t total = compiled_[convs[first]].conv.oc;
      size_t end = first + 1;
      while (end < convs.size() && total + compiled_[convs[end]].conv.oc <= kMaxSiblingColumns) {
        total += compiled_[convs[end]].conv.oc;
        ++end;
      }
      if (end - first >= 2) stackSiblings(std::vector<size_t>(convs.begin() + first, convs.begin() + end), total);
      first = end;
    }
  }
}

void Model::stackSiblings(const std::vector<size_t>& convs, int64_t total) {
  CompiledOp& leader = compiled_[convs[0]];
  const int64_t depth = leader.conv.c;
  std::vector<float> weights(total * depth);
  std::vector<float> bias(total);
  int64_t column = 0;
  for (size_t i : convs) {
    const int64_t oc = compiled_[i].conv.oc;
    std::copy(constData(plan_.ops[i], 0), constData(plan_.ops[i], 0) + oc * depth, weights.begin() + column * depth);
    std::copy(compiled_[i].bias.begin(), compiled_[i].bias.begin() + oc, bias.begin() + column);
    column += oc;
    if (i != convs[0]) {
      compiled_[i].mergedInto = static_cast<int64_t>(convs[0]);
      leader.siblings.push_back(static_cast<int64_t>(i));
    }
  }

  const int64_t panels = panelCount(total);
  const int64_t floats = panels * kPanelWidth * (depth + 2);
  leader.mergedPacked.allocate(floats);
  float* base = leader.mergedPacked.data.get();
  std::memset(base, 0, sizeof(float) * floats);
  packPanels(weights.data(), total, depth, depth, base);
  float* packedBias = base + panels * kPanelWidth * depth;
  std::copy(bias.begin(), bias.end(), packedBias);
  leader.merged = PackedMatrix{base, packedBias, packedBias + panels * kPanelWidth, depth, total, panels};

  const int64_t pixels = plan_.shapes[plan_.ops[convs[0]].inputs[0]].size() / depth;
  leader.scratchFloats = std::max(leader.scratchFloats, pixels * total);
}

void Model::runSiblings(size_t index, float** tensors, float* scratch, const KernelTable& k) const {
  const CompiledOp& c = compiled_[index];
  const PackedMatrix& m = c.merged;
  const int64_t pixels = plan_.shapes[plan_.ops[index].inputs[0]].size() / m.k;
  gemmFor(k, m)(pixels, tensors[plan_.ops[index].inputs[0]], m.k, m, c.act, scratch, m.n);

  // Each conv's columns, from the stacked output to its own.
  int64_t column = 0;
  const auto copyColumns = [&](size_t conv) {
    const int64_t oc = compiled_[conv].conv.oc;
    float* out = tensors[plan_.ops[conv].output];
    for (int64_t p = 0; p < pixels; ++p) {
      const float* row = scratch + p * m.n + column;
      for (int64_t j = 0; j < oc; ++j) out[p * oc + j] = row[j];
    }
    column += oc;
  };
  copyColumns(index);
  for (int64_t sibling : c.siblings) copyColumns(static_cast<size_t>(sibling));
}

size_t Model::groupEnd(size_t index) const {
  const CompiledOp& c = compiled_[index];
  if (c.band.rows > 0) return index + (c.band.add ? 2 : 1);
  if (c.fusedPointwise >= 0) return static_cast<size_t>(c.fusedPointwise);
  return index;
}

namespace {

// The depthwise geometry of the band of output rows [oy, oy + rows) of image n, and the
// input it reads. The band starts at input row `top`, and rows above it that the kernel
// reaches are padding in both geometries.
struct Band {
  ConvGeometry geometry;
  const float* source;
};

Band bandOf(const ConvGeometry& g, const float* input, int64_t n, int64_t oy, int64_t rows) {
  const int64_t top = std::max<int64_t>(0, oy * g.sh - g.padTop);
  ConvGeometry geometry = g;
  geometry.n = 1;
  geometry.oh = rows;
  geometry.h = g.h - top;
  geometry.padTop = g.padTop + top - oy * g.sh;
  return {geometry, input + (n * g.h + top) * g.w * g.c};
}

}  // namespace

void Model::runPoolBands(size_t index, float** tensors, float* scratch, const KernelTable& k) const {
  const CompiledOp& depthwise = compiled_[index];
  const ConvGeometry& g = depthwise.conv;
  const PoolGeometry pool = poolGeometry(index + 1);
  const float* input = tensors[plan_.ops[index].inputs[0]];
  float* out = tensors[plan_.ops[index + 1].output];

  // Depthwise rows past the last pooling window are never read, so they are not computed.
  const int64_t usedRows = pool.oh * pool.sh;
  for (int64_t n = 0; n < g.n; ++n) {
    for (int64_t oy = 0; oy < usedRows; oy += depthwise.band.rows) {
      const int64_t rows = std::min(depthwise.band.rows, usedRows - oy);
      const Band band = bandOf(g, input, n, oy, rows);
      k.depthwise(band.geometry, band.source, depthwise.depthwise.data(), depthwise.bias.data(), depthwise.act, scratch);

      PoolGeometry bandPool = pool;
      bandPool.n = 1;
      bandPool.h = rows;
      bandPool.oh = rows / pool.sh;
      k.pool(bandPool, scratch, out + (n * pool.oh + oy / pool.sh) * pool.ow * pool.c);
    }
  }
}

void Model::runBands(size_t index, float** tensors, float* scratch, const KernelTable& k) const {
  if (compiled_[index].band.pool) {
    runPoolBands(index, tensors, scratch, k);
    return;
  }
  const CompiledOp& depthwise = compiled_[index];
  const ConvGeometry& g = depthwise.conv;
  const BandGroup& b = depthwise.band;
  const PlanOp& pointwiseOp = plan_.ops[index + 1];
  const CompiledOp& pointwise = compiled_[index + 1];
  const PackedMatrix& matrix = pointwise.matrices[0];
  const int64_t channels = pointwise.conv.oc;

  // With the ADD in the group, the 1x1 conv writes the ADD's output and each band adds the residual.
  float* out = tensors[pointwiseOp.output];
  const float* residual = nullptr;
  ActParams addAct;
  if (b.add) {
    const PlanOp& add = plan_.ops[index + 2];
    out = tensors[add.output];
    residual = tensors[add.inputs[0] == pointwiseOp.output ? add.inputs[1] : add.inputs[0]];
    addAct = compiled_[index + 2].act;
  }

  const float* input = tensors[plan_.ops[index].inputs[0]];
  for (int64_t n = 0; n < g.n; ++n) {
    for (int64_t oy = 0; oy < g.oh; oy += b.rows) {
      const int64_t rows = std::min(b.rows, g.oh - oy);
      const Band band = bandOf(g, input, n, oy, rows);
      k.depthwise(band.geometry, band.source, depthwise.depthwise.data(), depthwise.bias.data(), depthwise.act, scratch);

      const int64_t pixels = rows * g.ow;
      float* bandOut = out + (n * g.oh + oy) * g.ow * channels;
      gemmFor(k, matrix)(pixels, scratch, g.c, matrix, pointwise.act, bandOut, channels);
      if (!residual) continue;
      const float* bandResidual = residual + (n * g.oh + oy) * g.ow * channels;
      k.binary(static_cast<int32_t>(BinaryKind::ADD), bandOut, 1, bandResidual, 1, bandOut, pixels * channels);
      if (addAct.kind != 0) k.activation(bandOut, pixels, channels, addAct);
    }
  }
}

std::string Model::describeBands(size_t index, const KernelTable& k) const {
  const ConvGeometry& g = compiled_[index].conv;
  std::string text = "depthwise " + std::to_string(g.kh) + "x" + std::to_string(g.kw);
  if (g.sh > 1) text += " s" + std::to_string(g.sh);
  if (compiled_[index].band.pool) {
    const PoolGeometry p = poolGeometry(index + 1);
    text += " " + std::to_string(g.c) + (p.kind == static_cast<int32_t>(PoolKind::MAX) ? " + max pool " : " + average pool ");
    return text + std::to_string(p.kh) + "x" + std::to_string(p.kw) + ", " + std::to_string(p.oh) + "x" +
           std::to_string(p.ow) + " out, in bands";
  }
  const CompiledOp& pointwise = compiled_[index + 1];
  text += " " + std::to_string(g.c) + " + conv 1x1 " + std::to_string(g.c) + "->" + std::to_string(pointwise.conv.oc);
  if (compiled_[index].band.add) text += " + add";
  text += ", " + std::to_string(g.oh) + "x" + std::to_string(g.ow) + " out, in bands, ";
  return text + gemmName(k, pointwise.matrices[0]);
}

}  // namespace facebits

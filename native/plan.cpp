// Plan parser: reads the word stream written by encodePlan (lib/plan.ts) and checks
// every field before the executor touches a weight or allocates a tensor.

#include "plan.h"

#include <cmath>
#include <cstring>
#include <sstream>

namespace facebits {

std::string Shape::toString() const {
  std::ostringstream s;
  s << '[';
  for (int32_t i = 0; i < rank; ++i) s << (i ? ", " : "") << dims[i];
  s << ']';
  return s.str();
}

const char* opTypeName(int32_t type) {
  switch (static_cast<OpType>(type)) {
    case OpType::CONV2D: return "CONV2D";
    case OpType::FULLY_CONNECTED: return "FULLY_CONNECTED";
    case OpType::BINARY: return "BINARY";
    case OpType::UNARY: return "UNARY";
    case OpType::PAD: return "PAD";
    case OpType::POOL2D: return "POOL2D";
    case OpType::RESHAPE: return "RESHAPE";
    case OpType::TRANSPOSE: return "TRANSPOSE";
    case OpType::CONCAT: return "CONCAT";
    case OpType::SOFTMAX: return "SOFTMAX";
    case OpType::L2_NORMALIZE: return "L2_NORMALIZE";
    case OpType::RESIZE: return "RESIZE";
    case OpType::SLICE: return "SLICE";
    case OpType::CHANNEL_AFFINE: return "CHANNEL_AFFINE";
  }
  return "UNKNOWN";
}

float paramFloat(int32_t word) {
  float value;
  std::memcpy(&value, &word, sizeof value);
  return value;
}

namespace {

// Bounds-checked reader over the word stream.
class WordReader {
 public:
  WordReader(const int32_t* words, size_t count) : words_(words), count_(count) {}

  int32_t next(const char* what) {
    if (pos_ >= count_) {
      std::ostringstream s;
      s << "Invalid plan: truncated at word " << pos_ << " of " << count_ << " while reading " << what;
      throw PlanError(s.str());
    }
    return words_[pos_++];
  }
  size_t position() const { return pos_; }
  size_t remaining() const { return count_ - pos_; }

 private:
  const int32_t* words_;
  size_t count_;
  size_t pos_ = 0;
};

// Collects the context for errors raised while checking one op.
class OpChecker {
 public:
  OpChecker(const PlanOp& op, size_t index, const std::vector<Shape>& shapes, int64_t weightCount)
      : op_(op), index_(index), shapes_(shapes), weightCount_(weightCount) {}

  [[noreturn]] void fail(const std::string& detail) const {
    std::ostringstream s;
    s << "Invalid plan: op " << index_ << " (" << opTypeName(static_cast<int32_t>(op_.type)) << "): " << detail;
    throw PlanError(s.str());
  }

  void expectInputs(size_t count) const {
    if (op_.inputs.size() != count) {
      fail("has " + std::to_string(op_.inputs.size()) + " inputs; expected " + std::to_string(count));
    }
  }
  void expectParams(size_t count) const {
    if (op_.params.size() != count) {
      fail("has " + std::to_string(op_.params.size()) + " params; expected " + std::to_string(count));
    }
  }
  void expectConsts(size_t count) const {
    if (op_.consts.size() != count) {
      fail("has " + std::to_string(op_.consts.size()) + " consts; expected " + std::to_string(count));
    }
  }
  void expectConstLength(size_t index, int64_t expected, const char* what) const {
    int64_t length = op_.consts[index].length;
    if (length != expected) {
      fail(std::string(what) + " (const " + std::to_string(index) + ") has " + std::to_string(length) +
           " floats; expected " + std::to_string(expected));
    }
  }
  const Shape& input(size_t i) const { return shapes_[op_.inputs[i]]; }
  int32_t param(size_t i) const { return op_.params[i]; }

  int32_t paramAtLeast(size_t i, int32_t minimum, const char* name) const {
    int32_t value = op_.params[i];
    if (value < minimum) {
      fail(std::string(name) + " is " + std::to_string(value) + "; expected at least " + std::to_string(minimum));
    }
    return value;
  }
  int32_t paramInRange(size_t i, int32_t low, int32_t high, const char* name) const {
    int32_t value = op_.params[i];
    if (value < low || value > high) {
      fail(std::string(name) + " is " + std::to_string(value) + "; expected " + std::to_string(low) + " to " +
           std::to_string(high));
    }
    return value;
  }
  void expectRank(const Shape& shape, int32_t rank, const char* what) const {
    if (shape.rank != rank) {
      fail(std::string(what) + " has shape " + shape.toString() + "; expected rank " + std::to_string(rank));
    }
  }
  // Normalises an axis in -rank .. rank-1 to 0 .. rank-1.
  int32_t axis(size_t paramIndex, int32_t rank) const {
    int32_t value = op_.params[paramIndex];
    if (value < -rank || value >= rank) {
      fail("axis " + std::to_string(value) + " is out of range for rank " + std::to_string(rank));
    }
    return value < 0 ? value + rank : value;
  }

  // Checks the activation code and the PReLU slope const that goes with it.
  void checkActivation(size_t paramIndex, size_t fixedConsts, int64_t channels) const {
    int32_t act = paramInRange(paramIndex, 0, 5, "activation");
    size_t expected = fixedConsts + (act == static_cast<int32_t>(Activation::PRELU) ? 1 : 0);
    expectConsts(expected);
    if (act == static_cast<int32_t>(Activation::PRELU)) {
      int64_t length = op_.consts[fixedConsts].length;
      if (length != 1 && length != channels) {
        fail("PReLU slopes have " + std::to_string(length) + " floats; expected 1 or " + std::to_string(channels));
      }
    }
  }

  const PlanOp& op() const { return op_; }

 private:
  const PlanOp& op_;
  size_t index_;
  const std::vector<Shape>& shapes_;
  int64_t weightCount_;
};

Shape makeShape(std::initializer_list<int64_t> dims) {
  Shape s;
  for (int64_t d : dims) s.dims[s.rank++] = d;
  return s;
}

Shape inferConv(const OpChecker& c) {
  c.expectInputs(1);
  c.expectParams(15);
  const Shape& in = c.input(0);
  c.expectRank(in, 4, "input");
  int64_t kh = c.paramAtLeast(0, 1, "kernel height");
  int64_t kw = c.paramAtLeast(1, 1, "kernel width");
  int64_t sh = c.paramAtLeast(2, 1, "stride height");
  int64_t sw = c.paramAtLeast(3, 1, "stride width");
  int64_t dh = c.paramAtLeast(4, 1, "dilation height");
  int64_t dw = c.paramAtLeast(5, 1, "dilation width");
  int64_t pt = c.paramAtLeast(6, 0, "padTop");
  int64_t pl = c.paramAtLeast(7, 0, "padLeft");
  int64_t pb = c.paramAtLeast(8, 0, "padBottom");
  int64_t pr = c.paramAtLeast(9, 0, "padRight");
  int64_t groups = c.paramAtLeast(10, 1, "groups");
  int64_t outC = c.paramAtLeast(11, 1, "outChannels");

  int64_t inC = in.dims[3];
  if (inC % groups != 0) c.fail("input channels " + std::to_string(inC) + " are not divisible by groups " + std::to_string(groups));
  if (outC % groups != 0) c.fail("outChannels " + std::to_string(outC) + " are not divisible by groups " + std::to_string(groups));
  int64_t effH = (kh - 1) * dh + 1;
  int64_t effW = (kw - 1) * dw + 1;
  int64_t paddedH = in.dims[1] + pt + pb;
  int64_t paddedW = in.dims[2] + pl + pr;
  if (effH > paddedH || effW > paddedW) {
    c.fail("dilated kernel " + std::to_string(effH) + "x" + std::to_string(effW) + " is larger than the padded input " +
           std::to_string(paddedH) + "x" + std::to_string(paddedW));
  }

  c.checkActivation(12, 2, outC);
  // kh * kw can reach 2^62, so the weight count is multiplied with an overflow check.
  int64_t weightCount = 0;
  if (__builtin_mul_overflow(outC, kh, &weightCount) || __builtin_mul_overflow(weightCount, kw, &weightCount) ||
      __builtin_mul_overflow(weightCount, inC / groups, &weightCount)) {
    c.fail("weight count outC x kh x kw x inC/groups overflows");
  }
  c.expectConstLength(0, weightCount, "weights [outC][kh][kw][inC/groups]");

  int64_t biasLength = c.op().consts[1].length;
  if (biasLength != 0 && biasLength != outC) {
    c.fail("bias has " + std::to_string(biasLength) + " floats; expected 0 or " + std::to_string(outC));
  }
  return makeShape({in.dims[0], (paddedH - effH) / sh + 1, (paddedW - effW) / sw + 1, outC});
}

Shape inferFullyConnected(const OpChecker& c) {
  c.expectInputs(1);
  c.expectParams(4);
  const Shape& in = c.input(0);
  int64_t rows = in.dims[0];
  int64_t k = in.size() / rows;
  int64_t outF = c.paramAtLeast(0, 1, "outFeatures");
  c.checkActivation(1, 2, outF);
  c.expectConstLength(0, outF * k, "weights [outFeatures][K]");
  int64_t biasLength = c.op().consts[1].length;
  if (biasLength != 0 && biasLength != outF) {
    c.fail("bias has " + std::to_string(biasLength) + " floats; expected 0 or " + std::to_string(outF));
  }
  return makeShape({rows, outF});
}

// NumPy broadcasting of two shapes, right-aligned.
Shape broadcastShapes(const OpChecker& c, const Shape& a, const Shape& b) {
  Shape out;
  out.rank = a.rank > b.rank ? a.rank : b.rank;
  for (int32_t i = 0; i < out.rank; ++i) {
    int32_t ia = i - (out.rank - a.rank);
    int32_t ib = i - (out.rank - b.rank);
    int64_t da = ia >= 0 ? a.dims[ia] : 1;
    int64_t db = ib >= 0 ? b.dims[ib] : 1;
    if (da != db && da != 1 && db != 1) {
      c.fail("shapes " + a.toString() + " and " + b.toString() + " cannot be broadcast");
    }
    out.dims[i] = da == 1 ? db : da;
  }
  return out;
}

Shape inferBinary(const OpChecker& c) {
  c.expectParams(5);
  c.paramInRange(0, 0, 5, "binary kind");
  int32_t act = c.paramInRange(1, 0, 5, "activation");
  if (act == static_cast<int32_t>(Activation::PRELU)) c.fail("PRELU activation is not supported on BINARY; use a UNARY op");
  c.paramInRange(4, 0, 1, "swap");
  const Shape& a = c.input(0);
  if (c.op().inputs.size() == 2) {
    c.expectConsts(0);
    return broadcastShapes(c, a, c.input(1));
  }
  c.expectInputs(1);
  c.expectConsts(1);
  int64_t length = c.op().consts[0].length;
  if (length != 1 && length != a.dims[a.rank - 1] && length != a.size()) {
    c.fail("constant operand has " + std::to_string(length) + " floats; expected 1, " +
           std::to_string(a.dims[a.rank - 1]) + " (last dim) or " + std::to_string(a.size()) + " (size of a)");
  }
  return a;
}

Shape inferUnary(const OpChecker& c) {
  c.expectInputs(1);
  c.expectParams(3);
  int32_t kind = c.paramInRange(0, 1, 10, "unary kind");
  const Shape& in = c.input(0);
  if (kind == static_cast<int32_t>(UnaryKind::PRELU)) {
    c.expectConsts(1);
    int64_t length = c.op().consts[0].length;
    int64_t last = in.dims[in.rank - 1];
    if (length != 1 && length != last) {
      c.fail("PReLU slopes have " + std::to_string(length) + " floats; expected 1 or " + std::to_string(last));
    }
  } else {
    c.expectConsts(0);
  }
  return in;
}

Shape inferPad(const OpChecker& c) {
  c.expectInputs(1);
  c.expectParams(8);
  c.expectConsts(0);
  const Shape& in = c.input(0);
  c.expectRank(in, 4, "input");
  int64_t top = c.paramAtLeast(0, 0, "top");
  int64_t bottom = c.paramAtLeast(1, 0, "bottom");
  int64_t left = c.paramAtLeast(2, 0, "left");
  int64_t right = c.paramAtLeast(3, 0, "right");
  int64_t before = c.paramAtLeast(4, 0, "channelsBefore");
  int64_t after = c.paramAtLeast(5, 0, "channelsAfter");
  int32_t mode = c.paramInRange(6, 0, 2, "pad mode");
  if (mode == static_cast<int32_t>(PadMode::REFLECT)) {
    if (top >= in.dims[1] || bottom >= in.dims[1] || left >= in.dims[2] || right >= in.dims[2] ||
        before >= in.dims[3] || after >= in.dims[3]) {
      c.fail("reflect padding must be smaller than the padded dimension of " + in.toString());
    }
  }
  return makeShape({in.dims[0], in.dims[1] + top + bottom, in.dims[2] + left + right, in.dims[3] + before + after});
}

Shape inferPool(const OpChecker& c) {
  c.expectInputs(1);
  c.expectParams(10);
  c.expectConsts(0);
  const Shape& in = c.input(0);
  c.expectRank(in, 4, "input");
  c.paramInRange(0, 0, 1, "pool kind");
  int64_t kh = c.paramAtLeast(1, 0, "kernel height");
  int64_t kw = c.paramAtLeast(2, 0, "kernel width");
  c.paramInRange(9, 0, 1, "countIncludePad");
  if (kh == 0 && kw == 0) return makeShape({in.dims[0], 1, 1, in.dims[3]});
  if (kh == 0 || kw == 0) c.fail("kernel " + std::to_string(kh) + "x" + std::to_string(kw) + " is invalid; use 0x0 for global pooling");
  int64_t sh = c.paramAtLeast(3, 1, "stride height");
  int64_t sw = c.paramAtLeast(4, 1, "stride width");
  int64_t pt = c.paramAtLeast(5, 0, "padTop");
  int64_t pl = c.paramAtLeast(6, 0, "padLeft");
  int64_t pb = c.paramAtLeast(7, 0, "padBottom");
  int64_t pr = c.paramAtLeast(8, 0, "padRight");
  if (pt >= kh || pb >= kh || pl >= kw || pr >= kw) c.fail("padding must be smaller than the kernel");
  int64_t paddedH = in.dims[1] + pt + pb;
  int64_t paddedW = in.dims[2] + pl + pr;
  if (kh > paddedH || kw > paddedW) c.fail("kernel is larger than the padded input " + in.toString());
  return makeShape({in.dims[0], (paddedH - kh) / sh + 1, (paddedW - kw) / sw + 1, in.dims[3]});
}

Shape inferReshape(const OpChecker& c) {
  c.expectInputs(1);
  c.expectConsts(0);
  if (c.op().params.empty()) c.fail("is missing the rank param");
  int32_t rank = c.paramInRange(0, 1, kMaxRank, "rank");
  c.expectParams(1 + rank);
  Shape out;
  out.rank = rank;
  for (int32_t i = 0; i < rank; ++i) out.dims[i] = c.paramAtLeast(1 + i, 1, "dimension");
  // Each dim is below 2^31 and the rank is at most 4, so the product needs an overflow check.
  int64_t size = 1;
  for (int32_t i = 0; i < rank; ++i) {
    if (size > kMaxTensorElements / out.dims[i]) c.fail("shape " + out.toString() + " is too large");
    size *= out.dims[i];
  }
  if (size != c.input(0).size()) {
    c.fail("shape " + out.toString() + " has " + std::to_string(size) + " elements but the input " +
           c.input(0).toString() + " has " + std::to_string(c.input(0).size()));
  }
  return out;
}

Shape inferTranspose(const OpChecker& c) {
  c.expectInputs(1);
  c.expectConsts(0);
  const Shape& in = c.input(0);
  if (c.op().params.empty()) c.fail("is missing the rank param");
  int32_t rank = c.param(0);
  if (rank != in.rank) c.fail("rank param " + std::to_string(rank) + " does not match the input " + in.toString());
  c.expectParams(1 + rank);
  Shape out;
  out.rank = rank;
  bool seen[kMaxRank] = {false, false, false, false};
  for (int32_t i = 0; i < rank; ++i) {
    int32_t p = c.paramInRange(1 + i, 0, rank - 1, "perm entry");
    if (seen[p]) c.fail("perm repeats axis " + std::to_string(p));
    seen[p] = true;
    out.dims[i] = in.dims[p];
  }
  return out;
}

Shape inferConcat(const OpChecker& c) {
  if (c.op().inputs.empty()) c.fail("has no inputs");
  c.expectParams(1);
  c.expectConsts(0);
  Shape out = c.input(0);
  int32_t axis = c.axis(0, out.rank);
  for (size_t i = 1; i < c.op().inputs.size(); ++i) {
    const Shape& s = c.input(i);
    bool same = s.rank == out.rank;
    for (int32_t d = 0; same && d < s.rank; ++d) same = d == axis || s.dims[d] == out.dims[d];
    if (!same) c.fail("input " + std::to_string(i) + " " + s.toString() + " does not match " + c.input(0).toString() + " outside axis " + std::to_string(axis));
    out.dims[axis] += s.dims[axis];
    if (out.dims[axis] > kMaxTensorElements) c.fail("concatenated axis is too large");
  }
  return out;
}

Shape inferSoftmax(const OpChecker& c) {
  c.expectInputs(1);
  c.expectParams(1);
  c.expectConsts(0);
  c.axis(0, c.input(0).rank);
  return c.input(0);
}

Shape inferL2Normalize(const OpChecker& c) {
  c.expectInputs(1);
  c.expectParams(1);
  c.expectConsts(0);
  float eps = paramFloat(c.param(0));
  if (!(eps >= 0.0f) || std::isinf(eps)) c.fail("eps must be a finite number >= 0");
  return c.input(0);
}

Shape inferResize(const OpChecker& c) {
  c.expectInputs(1);
  c.expectParams(4);
  c.expectConsts(0);
  const Shape& in = c.input(0);
  c.expectRank(in, 4, "input");
  int64_t outH = c.paramAtLeast(0, 1, "outH");
  int64_t outW = c.paramAtLeast(1, 1, "outW");
  c.paramInRange(2, 0, 1, "resize mode");
  c.paramInRange(3, 0, 3, "coordinate mode");
  return makeShape({in.dims[0], outH, outW, in.dims[3]});
}

Shape inferSlice(const OpChecker& c) {
  c.expectInputs(1);
  c.expectConsts(0);
  const Shape& in = c.input(0);
  if (c.op().params.empty()) c.fail("is missing the rank param");
  int32_t rank = c.param(0);
  if (rank != in.rank) c.fail("rank param " + std::to_string(rank) + " does not match the input " + in.toString());
  c.expectParams(1 + 2 * rank);
  Shape out;
  out.rank = rank;
  for (int32_t i = 0; i < rank; ++i) {
    int64_t start = c.param(1 + i);
    int64_t end = c.param(1 + rank + i);
    if (start < 0 || end > in.dims[i] || start >= end) {
      c.fail("range " + std::to_string(start) + ".." + std::to_string(end) + " on axis " + std::to_string(i) +
             " is empty or outside 0.." + std::to_string(in.dims[i]));
    }
    out.dims[i] = end - start;
  }
  return out;
}

Shape inferChannelAffine(const OpChecker& c) {
  c.expectInputs(1);
  c.expectParams(0);
  c.expectConsts(2);
  const Shape& in = c.input(0);
  int64_t channels = in.dims[in.rank - 1];
  c.expectConstLength(0, channels, "scale");
  c.expectConstLength(1, channels, "shift");
  return in;
}

Shape inferShape(const OpChecker& c) {
  switch (c.op().type) {
    case OpType::CONV2D: return inferConv(c);
    case OpType::FULLY_CONNECTED: return inferFullyConnected(c);
    case OpType::BINARY: return inferBinary(c);
    case OpType::UNARY: return inferUnary(c);
    case OpType::PAD: return inferPad(c);
    case OpType::POOL2D: return inferPool(c);
    case OpType::RESHAPE: return inferReshape(c);
    case OpType::TRANSPOSE: return inferTranspose(c);
    case OpType::CONCAT: return inferConcat(c);
    case OpType::SOFTMAX: return inferSoftmax(c);
    case OpType::L2_NORMALIZE: return inferL2Normalize(c);
    case OpType::RESIZE: return inferResize(c);
    case OpType::SLICE: return inferSlice(c);
    case OpType::CHANNEL_AFFINE: return inferChannelAffine(c);
  }
  c.fail("unknown op type");
}

// Checks that every dim is positive and the element count fits the per-tensor cap.
void checkShapeSize(const OpChecker* c, const Shape& s, const std::string& what) {
  int64_t size = 1;
  for (int32_t i = 0; i < s.rank; ++i) {
    if (s.dims[i] < 1) {
      std::string detail = what + " has shape " + s.toString() + " with a dimension below 1";
      if (c) c->fail(detail);
      throw PlanError("Invalid plan: " + detail);
    }
    if (size > kMaxTensorElements / s.dims[i]) {
      std::string detail = what + " has shape " + s.toString() + ", more than " + std::to_string(kMaxTensorElements) + " elements";
      if (c) c->fail(detail);
      throw PlanError("Invalid plan: " + detail);
    }
    size *= s.dims[i];
  }
}

}  // namespace

Plan parsePlan(const int32_t* words, size_t wordCount, size_t weightCount) {
  WordReader r(words, wordCount);
  if (wordCount < kHeaderWords) {
    throw PlanError("Invalid plan: " + std::to_string(wordCount) + " words is shorter than the " +
                    std::to_string(kHeaderWords) + "-word header");
  }
  int32_t magic = r.next("magic");
  if (magic != kPlanMagic) {
    std::ostringstream s;
    s << "Invalid plan: magic is 0x" << std::hex << static_cast<uint32_t>(magic) << "; expected 0x" << kPlanMagic << " ('FBP1')";
    throw PlanError(s.str());
  }
  int32_t version = r.next("version");
  if (version != kPlanVersion) {
    throw PlanError("Invalid plan: version " + std::to_string(version) + " is not supported; expected " + std::to_string(kPlanVersion));
  }

  Plan plan;
  plan.tensorCount = r.next("tensorCount");
  int32_t opCount = r.next("opCount");
  int32_t inputCount = r.next("inputCount");
  int32_t outputCount = r.next("outputCount");
  int32_t declaredWeights = r.next("weightCount");
  if (plan.tensorCount < 1 || plan.tensorCount > kMaxTensors) {
    throw PlanError("Invalid plan: tensorCount " + std::to_string(plan.tensorCount) + " is outside 1.." + std::to_string(kMaxTensors));
  }
  if (opCount < 0 || opCount > kMaxOps) throw PlanError("Invalid plan: opCount " + std::to_string(opCount) + " is outside 0.." + std::to_string(kMaxOps));
  if (inputCount < 1 || inputCount > plan.tensorCount) {
    throw PlanError("Invalid plan: inputCount " + std::to_string(inputCount) + " is outside 1.." + std::to_string(plan.tensorCount));
  }
  if (outputCount < 1 || outputCount > plan.tensorCount) {
    throw PlanError("Invalid plan: outputCount " + std::to_string(outputCount) + " is outside 1.." + std::to_string(plan.tensorCount));
  }
  if (declaredWeights < 0 || static_cast<size_t>(declaredWeights) != weightCount) {
    throw PlanError("Invalid plan: header declares " + std::to_string(declaredWeights) + " weights but the weight array has " +
                    std::to_string(weightCount));
  }
  plan.weightCount = declaredWeights;

  std::vector<bool> written(plan.tensorCount, false);
  plan.shapes.assign(plan.tensorCount, Shape());
  int64_t totalBytes = 0;

  for (int32_t i = 0; i < inputCount; ++i) {
    int32_t id = r.next("input id");
    int32_t rank = r.next("input rank");
    std::string what = "input " + std::to_string(i);
    if (id < 0 || id >= plan.tensorCount) throw PlanError("Invalid plan: " + what + " has tensor id " + std::to_string(id) + " outside 0.." + std::to_string(plan.tensorCount - 1));
    if (written[id]) throw PlanError("Invalid plan: " + what + " reuses tensor id " + std::to_string(id));
    if (rank < 1 || rank > kMaxRank) throw PlanError("Invalid plan: " + what + " has rank " + std::to_string(rank) + "; expected 1 to 4");
    Shape s;
    s.rank = rank;
    for (int d = 0; d < kMaxRank; ++d) {
      int32_t dim = r.next("input dims");
      if (d < rank) {
        s.dims[d] = dim;
      } else if (dim != 1) {
        throw PlanError("Invalid plan: " + what + " has unused dimension " + std::to_string(d) + " = " + std::to_string(dim) + "; expected 1");
      }
    }
    checkShapeSize(nullptr, s, what);
    written[id] = true;
    plan.shapes[id] = s;
    plan.inputs.push_back(id);
    totalBytes += s.size() * 4;
  }

  for (int32_t i = 0; i < outputCount; ++i) {
    int32_t id = r.next("output id");
    if (id < 0 || id >= plan.tensorCount) {
      throw PlanError("Invalid plan: output " + std::to_string(i) + " has tensor id " + std::to_string(id) + " outside 0.." + std::to_string(plan.tensorCount - 1));
    }
    plan.outputs.push_back(id);
  }

  plan.ops.reserve(opCount);
  for (int32_t index = 0; index < opCount; ++index) {
    PlanOp op;
    int32_t type = r.next("op type");
    auto fail = [&](const std::string& detail) {
      throw PlanError("Invalid plan: op " + std::to_string(index) + " (" + opTypeName(type) + "): " + detail);
    };
    if (type < static_cast<int32_t>(OpType::CONV2D) || type > static_cast<int32_t>(OpType::CHANNEL_AFFINE)) {
      fail("unknown op type " + std::to_string(type));
    }
    op.type = static_cast<OpType>(type);
    int32_t inCount = r.next("op input count");
    if (inCount < 1 || inCount > kMaxOpInputs) fail("input count " + std::to_string(inCount) + " is outside 1.." + std::to_string(kMaxOpInputs));
    for (int32_t k = 0; k < inCount; ++k) {
      int32_t id = r.next("op input id");
      if (id < 0 || id >= plan.tensorCount) fail("input " + std::to_string(k) + " has tensor id " + std::to_string(id) + " outside 0.." + std::to_string(plan.tensorCount - 1));
      if (!written[id]) fail("reads tensor " + std::to_string(id) + " before any op writes it");
      op.inputs.push_back(id);
    }
    op.output = r.next("op output id");
    if (op.output < 0 || op.output >= plan.tensorCount) fail("output tensor id " + std::to_string(op.output) + " is outside 0.." + std::to_string(plan.tensorCount - 1));
    if (written[op.output]) fail("writes tensor " + std::to_string(op.output) + ", which is already written");
    int32_t paramCount = r.next("op param count");
    if (paramCount < 0 || paramCount > kMaxOpParams) fail("param count " + std::to_string(paramCount) + " is outside 0.." + std::to_string(kMaxOpParams));
    for (int32_t k = 0; k < paramCount; ++k) op.params.push_back(r.next("op params"));
    int32_t constCount = r.next("op const count");
    if (constCount < 0 || constCount > kMaxOpConsts) fail("const count " + std::to_string(constCount) + " is outside 0.." + std::to_string(kMaxOpConsts));
    for (int32_t k = 0; k < constCount; ++k) {
      ConstRange range;
      range.offset = r.next("const offset");
      range.length = r.next("const length");
      if (range.offset < 0 || range.length < 0 || range.offset + range.length > plan.weightCount) {
        fail("const " + std::to_string(k) + " (offset " + std::to_string(range.offset) + ", length " + std::to_string(range.length) +
             ") is outside the weight array of " + std::to_string(plan.weightCount) + " floats");
      }
      op.consts.push_back(range);
    }

    OpChecker checker(op, index, plan.shapes, plan.weightCount);
    Shape out = inferShape(checker);
    checkShapeSize(&checker, out, "output");
    totalBytes += out.size() * 4;
    if (totalBytes > kMaxTotalTensorBytes) {
      checker.fail("tensors need more than " + std::to_string(kMaxTotalTensorBytes) + " bytes in total");
    }
    plan.shapes[op.output] = out;
    written[op.output] = true;
    plan.ops.push_back(std::move(op));
  }

  if (r.remaining() != 0) {
    throw PlanError("Invalid plan: " + std::to_string(r.remaining()) + " unexpected words after the last op");
  }
  for (size_t i = 0; i < plan.outputs.size(); ++i) {
    if (!written[plan.outputs[i]]) {
      throw PlanError("Invalid plan: output " + std::to_string(i) + " (tensor " + std::to_string(plan.outputs[i]) + ") is never written");
    }
  }
  return plan;
}

}  // namespace facebits

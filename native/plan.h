// The execution plan in C++. Every constant mirrors lib/plan.ts, which documents the
// word layout, so a change to one file needs the same change in the other.
#pragma once

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace facebits {

constexpr int32_t kPlanMagic = 0x31504246;  // 'FBP1' little-endian
constexpr int32_t kPlanVersion = 1;
constexpr int kMaxRank = 4;

// Limits that keep a hostile or corrupt plan from exhausting memory. They are far above
// what the face models in this project need (MobileFaceNet 112x112 uses about 25 MB of
// tensors before buffer reuse).
constexpr int32_t kMaxTensors = 1 << 20;
constexpr int32_t kMaxOps = 1 << 20;
constexpr int32_t kMaxOpInputs = 1024;
constexpr int32_t kMaxOpParams = 64;
constexpr int32_t kMaxOpConsts = 8;
constexpr int64_t kMaxTensorElements = int64_t(1) << 30;
constexpr int64_t kMaxTotalTensorBytes = int64_t(4) << 30;

enum class OpType : int32_t {
  CONV2D = 1,
  FULLY_CONNECTED = 2,
  BINARY = 3,
  UNARY = 4,
  PAD = 5,
  POOL2D = 6,
  RESHAPE = 7,
  TRANSPOSE = 8,
  CONCAT = 9,
  SOFTMAX = 10,
  L2_NORMALIZE = 11,
  RESIZE = 12,
  SLICE = 13,
  CHANNEL_AFFINE = 14,
};

enum class Activation : int32_t { NONE = 0, RELU = 1, CLIP = 2, PRELU = 3, LEAKY_RELU = 4, SIGMOID = 5 };

enum class BinaryKind : int32_t { ADD = 0, SUB = 1, MUL = 2, DIV = 3, MAX = 4, MIN = 5 };

enum class UnaryKind : int32_t {
  RELU = 1,
  CLIP = 2,
  PRELU = 3,
  LEAKY_RELU = 4,
  SIGMOID = 5,
  EXP = 6,
  TANH = 7,
  ABS = 8,
  SQRT = 9,
  NEG = 10,
};

enum class PadMode : int32_t { CONSTANT = 0, REFLECT = 1, EDGE = 2 };

enum class PoolKind : int32_t { MAX = 0, AVERAGE = 1 };

enum class ResizeMode : int32_t { NEAREST = 0, BILINEAR = 1 };

enum class ResizeCoordinates : int32_t { ASYMMETRIC = 0, HALF_PIXEL = 1, ALIGN_CORNERS = 2, PYTORCH_HALF_PIXEL = 3 };

// Number of words in the fixed header and in one plan input record.
constexpr size_t kHeaderWords = 7;
constexpr size_t kInputRecordWords = 2 + kMaxRank;

struct Shape {
  int32_t rank = 0;
  int64_t dims[kMaxRank] = {1, 1, 1, 1};

  int64_t size() const {
    int64_t n = 1;
    for (int32_t i = 0; i < rank; ++i) n *= dims[i];
    return n;
  }
  std::string toString() const;
};

// A range of the weight array: weights[offset .. offset + length).
struct ConstRange {
  int64_t offset = 0;
  int64_t length = 0;
};

struct PlanOp {
  OpType type = OpType::CONV2D;
  std::vector<int32_t> inputs;
  int32_t output = -1;
  std::vector<int32_t> params;
  std::vector<ConstRange> consts;
};

// A validated plan: every id, count, const range and shape has been checked.
struct Plan {
  int32_t tensorCount = 0;
  int64_t weightCount = 0;
  std::vector<int32_t> inputs;
  std::vector<int32_t> outputs;
  std::vector<PlanOp> ops;
  std::vector<Shape> shapes;  // inferred shape of every tensor id
};

// Thrown for any malformed plan. The binding turns it into a JS Error with code INVALID_MODEL.
class PlanError : public std::runtime_error {
 public:
  explicit PlanError(const std::string& message) : std::runtime_error(message) {}
};

const char* opTypeName(int32_t type);

// Reinterprets a parameter word as the float32 it stores.
float paramFloat(int32_t word);

// Parses and validates the word stream against a weight array of weightCount floats.
// Throws PlanError naming the op index, op type and the problem.
Plan parsePlan(const int32_t* words, size_t wordCount, size_t weightCount);

}  // namespace facebits

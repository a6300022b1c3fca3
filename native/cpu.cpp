// CPU feature detection and kernel dispatch.
//
// x86: CPUID leaf 1 gives FMA, OSXSAVE and AVX; leaf 7 gives AVX2, AVX-512 F/BW/VL and
// VPOPCNTDQ. A CPU flag is not enough on its own: XGETBV(0) must show that the OS saves
// the YMM state (XCR0 bits 1-2) and, for AVX-512, the opmask and ZMM state (bits 5-7).
// Arm: AArch64 builds always have the NEON set, because Advanced SIMD is part of the
// AArch64 baseline; other Arm builds run the scalar set.
// AMX (x86): CPUID leaf 7 EDX bits 22 and 24 give AMX-BF16 and AMX-TILE, XCR0 bits 17-18 the
// OS support for the tile state. Linux also requires a per-process permission before the first
// tile instruction. Without it, that instruction faults.
// AVX512_BF16 (x86): CPUID leaf 7 subleaf 1 EAX bit 5, on top of the AVX-512 set's requirements.
// bf16 precision runs on AMX where the tiles can run and on VDPBF16PS elsewhere.
// WebAssembly: builds with -msimd128 (wasm/) add the "simd128" set; a wasm module that
// loads at all has SIMD128, so no run-time check is needed.

#include "cpu.h"

#include <atomic>

#if defined(__x86_64__) || defined(_M_X64) || defined(__i386__)
#define FACEBITS_X86 1
#include <cpuid.h>
#endif

#if FACEBITS_X86 && defined(__linux__)
#include <sys/syscall.h>
#include <unistd.h>
#endif

#if defined(__wasm_simd128__)
namespace facebits {
const KernelTable* wasmSimd128Kernels();  // native/kernels_wasm.cpp, emscripten builds only
}
#endif

namespace facebits {

namespace {

struct Features {
  bool avx2 = false;
  bool avx512 = false;
  bool avx512Popcount = false;
  bool amxBf16 = false;  // AMX-TILE and AMX-BF16 with OS support, before Linux's permission
  bool avx512Bf16 = false;
};

#if FACEBITS_X86
uint64_t readXcr0() {
  uint32_t eax, edx;
  __asm__ volatile("xgetbv" : "=a"(eax), "=d"(edx) : "c"(0));
  return (static_cast<uint64_t>(edx) << 32) | eax;
}
#endif

Features detect() {
  Features f;
#if FACEBITS_X86
  unsigned eax, ebx, ecx, edx;
  if (!__get_cpuid(1, &eax, &ebx, &ecx, &edx)) return f;
  const bool fma = ecx & (1u << 12);
  const bool osxsave = ecx & (1u << 27);
  const bool avx = ecx & (1u << 28);
  if (!osxsave || !avx) return f;
  const uint64_t xcr0 = readXcr0();
  const bool ymmState = (xcr0 & 0x6) == 0x6;
  const bool zmmState = (xcr0 & 0xe6) == 0xe6;
  if (!__get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx)) return f;
  const bool avx2 = ebx & (1u << 5);
  const bool avx512f = ebx & (1u << 16);
  const bool avx512bw = ebx & (1u << 30);
  const bool avx512vl = ebx & (1u << 31);
  const bool vpopcntdq = ecx & (1u << 14);
  const bool amxBf16 = edx & (1u << 22);
  const bool amxTile = edx & (1u << 24);
  const bool tileState = (xcr0 & 0x60000) == 0x60000;
  f.avx2 = avx2 && fma && ymmState;
  f.avx512 = f.avx2 && avx512f && avx512bw && avx512vl && zmmState;
  f.avx512Popcount = f.avx512 && vpopcntdq;
  f.amxBf16 = f.avx512 && amxBf16 && amxTile && tileState;
  if (__get_cpuid_count(7, 1, &eax, &ebx, &ecx, &edx)) f.avx512Bf16 = f.avx512 && (eax & (1u << 5));
#endif
  return f;
}

const Features& features() {
  static const Features detected = detect();
  return detected;
}

const KernelTable* tableFor(const std::string& name) {
  const Features& f = features();
  if (name == "scalar") return scalarKernels();
#if FACEBITS_X86
  if (name == "avx2" && f.avx2) return avx2Kernels();
  if (name == "avx512" && f.avx512) return avx512Kernels();
#endif
  if (name == "neon") return neonKernels();
#if defined(__wasm_simd128__)
  if (name == "simd128") return wasmSimd128Kernels();
#endif
  (void)f;
  return nullptr;
}

const KernelTable* best() {
  for (const char* name : {"avx512", "avx2", "neon", "simd128"}) {
    if (const KernelTable* t = tableFor(name)) return t;
  }
  return scalarKernels();
}

std::atomic<const KernelTable*> current{nullptr};

}  // namespace

std::vector<std::string> supportedIsas() {
  std::vector<std::string> names;
  for (const char* name : {"avx512", "avx2", "neon", "simd128", "scalar"}) {
    if (tableFor(name)) names.push_back(name);
  }
  return names;
}

const KernelTable& currentKernels() {
  const KernelTable* t = current.load(std::memory_order_acquire);
  if (!t) {
    t = best();
    const KernelTable* expected = nullptr;
    current.compare_exchange_strong(expected, t);
    t = current.load(std::memory_order_acquire);
  }
  return *t;
}

bool hasAvx512Popcount() { return features().avx512Popcount; }

// Whether AMX-BF16 tiles can run in this process: the CPU has AMX-TILE and AMX-BF16, the
// OS enables the tile state in XCR0, and Linux granted the tile data permission
// (arch_prctl ARCH_REQ_XCOMP_PERM), which the first call requests for the whole process.
bool amxBf16Ready() {
  static const bool ready = [] {
#if FACEBITS_X86 && defined(__linux__)
    if (!features().amxBf16 || !amxBf16Gemm()) return false;
    constexpr long kRequestPermission = 0x1023;  // ARCH_REQ_XCOMP_PERM
    constexpr long kTileData = 18;               // XFEATURE_XTILEDATA
    return syscall(SYS_arch_prctl, kRequestPermission, kTileData) == 0;
#else
    return false;
#endif
  }();
  return ready;
}

namespace {

struct Bf16Gemm {
  const char* name;
  GemmFn gemm;
};

// The bfloat16 GEMMs that this CPU, OS and build can run, best first. The first call
// requests Linux's AMX tile permission (amxBf16Ready).
const std::vector<Bf16Gemm>& bf16Gemms() {
  static const std::vector<Bf16Gemm> list = [] {
    std::vector<Bf16Gemm> found;
#if FACEBITS_X86
    if (amxBf16Ready()) found.push_back({"amx", amxBf16Gemm()});
    if (features().avx512Bf16 && avx512Bf16Gemm()) found.push_back({"avx512-bf16", avx512Bf16Gemm()});
#endif
    return found;
  }();
  return list;
}

std::atomic<const Bf16Gemm*> forcedBf16{nullptr};

const Bf16Gemm* currentBf16() {
  if (const Bf16Gemm* forced = forcedBf16.load(std::memory_order_acquire)) return forced;
  const std::vector<Bf16Gemm>& list = bf16Gemms();
  return list.empty() ? nullptr : &list.front();
}

}  // namespace

std::vector<std::string> supportedBf16Gemms() {
  std::vector<std::string> names;
  for (const Bf16Gemm& g : bf16Gemms()) names.push_back(g.name);
  return names;
}

std::string bf16GemmName() {
  const Bf16Gemm* g = currentBf16();
  return g && currentKernels().gemmBf16 ? g->name : "";
}

bool bf16Ready() { return currentBf16() != nullptr; }

void gemmBf16(int64_t rows, const float* a, int64_t lda, const PackedMatrix& b, const ActParams& act, float* c,
              int64_t ldc) {
  currentBf16()->gemm(rows, a, lda, b, act, c, ldc);
}

bool setBf16Gemm(const std::string& name) {
  for (const Bf16Gemm& g : bf16Gemms()) {
    if (name != g.name) continue;
    forcedBf16.store(&g, std::memory_order_release);
    return true;
  }
  return false;
}

bool setIsa(const std::string& name) {
  const KernelTable* t = tableFor(name);
  if (!t) return false;
  current.store(t, std::memory_order_release);
  return true;
}

}  // namespace facebits

{
  # The addon links three ISA-specific static libraries, each compiled with its own flags,
  # so everything else stays baseline x86-64 and the kernels are picked at run time
  # (native/cpu.cpp). The *_neon.cpp sources are listed for every target but compile to
  # nothing except on AArch64, where Advanced SIMD is baseline and needs no flags.
  "variables": {
    "facebits_cflags": ["-O3", "-std=c++17", "-fexceptions", "-fvisibility=hidden"]
  },
  "target_defaults": {
    "cflags!": ["-fno-exceptions", "-O2", "-O0"],
    "cflags_cc!": ["-fno-exceptions", "-fno-rtti", "-std=gnu++17", "-std=gnu++14", "-O2", "-O0"],
    "cflags_cc": ["<@(facebits_cflags)"],
    "xcode_settings": {
      "GCC_ENABLE_CPP_EXCEPTIONS": "YES",
      "CLANG_CXX_LANGUAGE_STANDARD": "c++17",
      "GCC_OPTIMIZATION_LEVEL": "3"
    },
    "msvs_settings": {"VCCLCompilerTool": {"ExceptionHandling": 1}}
  },
  "targets": [
    {
      "target_name": "facebits",
      "sources": [
        "native/addon.cpp",
        "native/cpu.cpp",
        "native/executor.cpp",
        "native/fusion.cpp",
        "native/image.cpp",
        "native/plan.cpp",
        "native/verify.cpp",
        "native/verify_core.cpp",
        "native/search.cpp",
        "native/ops/binary.cpp",
        "native/ops/binary_neon.cpp",
        "native/ops/channel_affine.cpp",
        "native/ops/channel_affine_neon.cpp",
        "native/ops/concat.cpp",
        "native/ops/conv2d.cpp",
        "native/ops/conv2d_direct_neon.cpp",
        "native/ops/conv2d_neon.cpp",
        "native/ops/fully_connected.cpp",
        "native/ops/gemm.cpp",
        "native/ops/gemm_neon.cpp",
        "native/ops/kernels_neon.cpp",
        "native/ops/kernels_scalar.cpp",
        "native/ops/l2_normalize.cpp",
        "native/ops/pad.cpp",
        "native/ops/pool2d.cpp",
        "native/ops/pool2d_neon.cpp",
        "native/ops/resize.cpp",
        "native/ops/slice.cpp",
        "native/ops/softmax.cpp",
        "native/ops/transpose.cpp",
        "native/ops/unary.cpp",
        "native/ops/unary_neon.cpp"
      ],
      "include_dirs": ["<!@(node -p \"require('node-addon-api').include\")"],
      "defines": ["NAPI_CPP_EXCEPTIONS", "NAPI_VERSION=8"],
      "conditions": [
        ["target_arch=='x64'", {
          "dependencies": ["facebits_avx2", "facebits_avx512", "facebits_amx", "facebits_avx512_bf16"]
        }]
      ]
    }
  ],
  "conditions": [
    ["target_arch=='x64'", {
      "targets": [
        {
          "target_name": "facebits_avx2",
          "type": "static_library",
          "sources": [
            "native/ops/conv2d_avx2.cpp",
            "native/ops/elementwise_avx2.cpp",
            "native/ops/gemm_avx2.cpp",
            "native/ops/kernels_avx2.cpp",
            "native/ops/pool2d_avx2.cpp"
          ],
          "cflags_cc": ["-mavx2", "-mfma"],
          "xcode_settings": {"OTHER_CPLUSPLUSFLAGS": ["-mavx2", "-mfma"]},
          "msvs_settings": {"VCCLCompilerTool": {"EnableEnhancedInstructionSet": 5}}
        },
        {
          "target_name": "facebits_avx512",
          "type": "static_library",
          "sources": [
            "native/ops/conv2d_avx512.cpp",
            "native/ops/conv2d_direct_avx512.cpp",
            "native/ops/gemm_avx512.cpp",
            "native/ops/pool2d_avx512.cpp",
            "native/ops/kernels_avx512.cpp"
          ],
          "cflags_cc": ["-mavx2", "-mfma", "-mavx512f", "-mavx512bw", "-mavx512vl"],
          "xcode_settings": {"OTHER_CPLUSPLUSFLAGS": ["-mavx2", "-mfma", "-mavx512f", "-mavx512bw", "-mavx512vl"]}
        },
        {
          "target_name": "facebits_amx",
          "type": "static_library",
          "sources": ["native/ops/gemm_amx.cpp"],
          "cflags_cc": ["-mavx2", "-mfma", "-mavx512f", "-mavx512bw", "-mavx512vl", "-mamx-tile", "-mamx-bf16"],
          "xcode_settings": {"OTHER_CPLUSPLUSFLAGS": ["-mavx2", "-mfma", "-mavx512f", "-mavx512bw", "-mavx512vl", "-mamx-tile", "-mamx-bf16"]}
        },
        {
          "target_name": "facebits_avx512_bf16",
          "type": "static_library",
          "sources": ["native/ops/gemm_avx512_bf16.cpp"],
          "cflags_cc": ["-mavx2", "-mfma", "-mavx512f", "-mavx512bw", "-mavx512vl", "-mavx512bf16"],
          "xcode_settings": {"OTHER_CPLUSPLUSFLAGS": ["-mavx2", "-mfma", "-mavx512f", "-mavx512bw", "-mavx512vl", "-mavx512bf16"]}
        }
      ]
    }]
  ]
}

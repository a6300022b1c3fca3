#!/usr/bin/env bash
# Builds the libFuzzer targets with AddressSanitizer and UndefinedBehaviorSanitizer into
# fuzz/out/. Needs clang (Debian: apt-get install clang libclang-rt-14-dev).
# Usage: fuzz/build.sh [target ...]   (default: every fuzz/*_fuzzer.cpp)
set -euo pipefail
cd "$(dirname "$0")/.."

CXX=${CXX_FUZZ:-$(command -v clang++ || command -v clang++-14 || true)}
if [ -z "$CXX" ]; then
  echo "fuzz/build.sh: clang++ not found; install clang and libclang-rt-14-dev" >&2
  exit 2
fi
OUT=fuzz/out
OBJ=$OUT/obj
mkdir -p "$OBJ"
SAN="-fsanitize=address,undefined -fno-sanitize-recover=undefined"
CXXFLAGS="-std=c++17 -O1 -g -fno-omit-frame-pointer -Wno-unknown-warning-option $SAN"

# search.cpp also holds its N-API wrapper, so the N-API headers are on the include path.
# The fuzz binaries never call that wrapper; its napi_* references are satisfied by
# generated stubs that abort if they are ever reached.
NAPI_INCLUDES="-I$(node -p "require('node-addon-api').include_dir") -I$(node -p "require('node-api-headers').include_dir")"
CXXFLAGS="$CXXFLAGS $NAPI_INCLUDES -DNAPI_CPP_EXCEPTIONS -DNAPI_VERSION=8"
CORE=(native/cpu.cpp native/executor.cpp native/fusion.cpp native/image.cpp native/plan.cpp native/search.cpp)
for f in native/ops/*.cpp; do CORE+=("$f"); done

objects=()
pids=()
for src in "${CORE[@]}"; do
  obj=$OBJ/$(echo "${src#native/}" | tr / _).o
  objects+=("$obj")
  flags=""
  case "$src" in
    *_avx512.cpp) flags="-mavx2 -mfma -mavx512f -mavx512bw -mavx512vl" ;;
    *_avx512_bf16.cpp) flags="-mavx2 -mfma -mavx512f -mavx512bw -mavx512vl -mavx512bf16" ;;
    *_amx.cpp) flags="-mavx2 -mfma -mavx512f -mavx512bw -mavx512vl -mamx-tile -mamx-bf16" ;;
    *_avx2.cpp) flags="-mavx2 -mfma" ;;
  esac
  if [ ! -f "$obj" ] || [ "$src" -nt "$obj" ] || [ native/plan.h -nt "$obj" ] || [ native/kernels.h -nt "$obj" ]; then
    $CXX $CXXFLAGS -fsanitize=fuzzer-no-link $flags -c "$src" -o "$obj" &
    pids+=($!)
    if [ ${#pids[@]} -ge "${FUZZ_JOBS:-2}" ]; then wait "${pids[0]}"; pids=("${pids[@]:1}"); fi
  fi
done
for p in "${pids[@]}"; do wait "$p"; done

nm -u "$OBJ/search.cpp.o" | awk '$2 ~ /^napi_/ {print $2}' | sort -u |
  awk 'BEGIN {print "#include <stdlib.h>"} {print "void " $1 "(void) { abort(); }"}' > "$OBJ/napi_stubs.c"
"${CXX/clang++/clang}" -c "$OBJ/napi_stubs.c" -o "$OBJ/napi_stubs.o"

targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  for f in fuzz/*_fuzzer.cpp; do targets+=("$(basename "$f" .cpp)"); done
fi
for t in "${targets[@]}"; do
  $CXX $CXXFLAGS -fsanitize=fuzzer "fuzz/$t.cpp" "${objects[@]}" "$OBJ/napi_stubs.o" -lpthread -o "$OUT/$t"
  echo "built $OUT/$t"
done

#!/usr/bin/env bash
# Builds the addon with AddressSanitizer and UndefinedBehaviorSanitizer (g++) into
# build-asan/build/Release/ and runs the native test files against it. node-gyp-build
# loads that copy because FACEBITS_PREBUILD points at build-asan. Node itself is not
# instrumented, so the sanitizer runtimes are preloaded and leak checking is off.
# Any sanitizer report fails the run (halt_on_error, exit code 1).
# Usage: scripts/asan-native.sh [uvu file pattern]   (default: the native-*.test.ts files)
set -euo pipefail
cd "$(dirname "$0")/.."

OUT=build-asan/build/Release
OBJ=build-asan/obj
mkdir -p "$OUT" "$OBJ"
CXX=${CXX:-g++}
INCLUDES="-I$(node -p "require('node-addon-api').include_dir") -I$(node -p "require('node-api-headers').include_dir")"
FLAGS="-std=c++17 -O1 -g -fPIC -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined"
FLAGS="$FLAGS -DNAPI_CPP_EXCEPTIONS -DNAPI_VERSION=8 -DNODE_ADDON_API_DISABLE_DEPRECATED"

# Sources and per-target ISA flags come from binding.gyp, so this list cannot drift.
mapfile -t LINES < <(python3 - <<'PY'
import ast, re
text = open('binding.gyp').read()
text = re.sub(r'#[^\n]*', '', text)
gyp = ast.literal_eval(text)
def walk(node, flags):
    if isinstance(node, dict):
        if 'sources' in node and 'target_name' in node:
            extra = ' '.join(f for f in node.get('cflags_cc', []) if f.startswith('-m'))
            for s in node['sources']:
                print(s + '\t' + extra)
        for v in node.values():
            walk(v, flags)
    elif isinstance(node, list):
        for v in node:
            walk(v, flags)
walk(gyp, '')
PY
)

objects=()
pids=()
for line in "${LINES[@]}"; do
  src=${line%%$'\t'*}
  extra=${line#*$'\t'}
  obj=$OBJ/$(echo "${src#native/}" | tr / _ | sed 's/\.[a-z]*$//').o
  objects+=("$obj")
  if [ ! -f "$obj" ] || [ "$src" -nt "$obj" ] || [ -n "$(find native -name '*.h' -newer "$obj" | head -1)" ]; then
    case "$src" in
      *.c) ${CC:-gcc} ${FLAGS/-std=c++17/} $INCLUDES $extra -c "$src" -o "$obj" & ;;
      *) $CXX $FLAGS $INCLUDES $extra -c "$src" -o "$obj" & ;;
    esac
    pids+=($!)
    if [ ${#pids[@]} -ge 2 ]; then wait "${pids[0]}"; pids=("${pids[@]:1}"); fi
  fi
done
for p in "${pids[@]}"; do wait "$p"; done
$CXX -shared -fsanitize=address,undefined -o "$OUT/facebits.node" "${objects[@]}" -lpthread

PRELOAD="$($CXX -print-file-name=libasan.so) $($CXX -print-file-name=libubsan.so)"
export FACEBITS_PREBUILD=$PWD/build-asan
export ASAN_OPTIONS=detect_leaks=0:halt_on_error=1:abort_on_error=0:exitcode=1
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
LD_PRELOAD="$PRELOAD" node node_modules/uvu/bin.js -r tsx test "${1:-native.*\.test\.ts$}"

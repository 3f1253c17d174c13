#!/usr/bin/env bash
# Speed benchmark on a GPU host, end to end, in one command (see README, "Benchmark on a GPU host"):
#   1. Node runtime: when `node` is missing, assemble the tarball parts carried in .carry/p*/ (and
#      those staged by earlier calls in $RT_PARTS) and unpack them to $RT (bench/gpu-pack.sh made them).
#   2. WebGPU through Vulkan: unpack the carried .gl/*.deb loader when libvulkan.so.1 is missing, and
#      point VK_DRIVER_FILES at the NVIDIA driver manifest.
#   3. Inference alone per batch size (--batches), at each clip's working size; the fastest per frame
#      at the largest clip becomes the batch size of the next step.
#   4. `npm run bench` with the whole command as a user runs it (--end-to-end), same table and JSON.
# Writes bench.json, batches.json, bench.md and host.txt to --out (default $OUT, else .out/gpu-bench).
#
#   bash bench/gpu-bench.sh [--device webgpu] [--seconds 4] [--sizes 854x480,1920x1080] [--batches 1,2,4,8,16] [--out DIR]
#   bash bench/gpu-bench.sh stage      # only copy this call's carried parts to $RT_PARTS (calls before the last)
#
# CPU dry run (any machine with `npm install` done; what test/gpu-bench.test.ts runs):
#   bash bench/gpu-bench.sh --device cpu --sizes 96x64 --seconds 1 --batches 1,2 --out /tmp/gpu-dry-run
set -euo pipefail
cd "$(dirname "$0")/.."

RT=${RT:-/tmp/rt}
RT_PARTS=${RT_PARTS:-/tmp/rt-parts}
device=webgpu
seconds=4
sizes=854x480,1920x1080
batches=1,2,4,8,16
out=${OUT:-.out/gpu-bench}
step_limit=${STEP_LIMIT:-270}

stage_parts() {
  mkdir -p "$RT_PARTS"
  local part
  for part in .carry/p*/*; do
    [ -f "$part" ] && cp "$part" "$RT_PARTS/"
  done
  return 0
}

if [ "${1:-}" = stage ]; then
  stage_parts
  ls -la "$RT_PARTS"
  exit 0
fi

while [ $# -gt 0 ]; do
  case "$1" in
    --device) device=$2; shift 2 ;;
    --seconds) seconds=$2; shift 2 ;;
    --sizes) sizes=$2; shift 2 ;;
    --batches) batches=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    *) echo "gpu-bench: unknown option $1" >&2; exit 2 ;;
  esac
done
mkdir -p "$out"

# 1. Node runtime.
# (FORCE_RUNTIME=1 assembles the carried runtime even where a node is installed, to try the parts out.)
if { [ "${FORCE_RUNTIME:-0}" = 1 ] || ! command -v node >/dev/null 2>&1; } && [ ! -x "$RT/bin/node" ]; then
  stage_parts
  if [ ! -f "$RT_PARTS/manifest.txt" ]; then
    echo "gpu-bench: no node on PATH and no runtime parts (run bench/gpu-pack.sh here, carry .carry/p1 ... in turn)" >&2
    exit 1
  fi
  (
    cd "$RT_PARTS"
    read -r sum parts < manifest.txt
    for p in $parts; do [ -f "$p" ] || { echo "gpu-bench: runtime part $p has not been carried yet" >&2; exit 1; }; done
    # shellcheck disable=SC2086
    echo "$sum  -" > /tmp/rt-sum && cat $parts | sha256sum -c /tmp/rt-sum >/dev/null || { echo "gpu-bench: runtime parts do not add up (checksum)" >&2; exit 1; }
    mkdir -p "$RT"
    # shellcheck disable=SC2086
    cat $parts | xz -d | tar xf - -C "$RT"
  )
fi
[ -x "$RT/bin/node" ] && export PATH="$RT/bin:$PATH"
# ESM ignores NODE_PATH: the carried packages must be found from the project root.
if [ ! -e node_modules ] && [ -d "$RT/node_modules" ]; then ln -s "$RT/node_modules" node_modules; fi

# 2. Vulkan for WebGPU.
if [ "$device" != cpu ]; then
  if ! ldconfig -p 2>/dev/null | grep -q 'libvulkan.so.1'; then
    for f in .gl/*.deb; do [ -f "$f" ] && dpkg -x "$f" /; done
    ldconfig 2>/dev/null || true
  fi
  if [ -z "${VK_DRIVER_FILES:-}" ]; then
    for icd in /usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json /usr/share/vulkan/icd.d/nvidia_icd.json /etc/vulkan/icd.d/nvidia_icd.json; do
      if [ -f "$icd" ]; then export VK_DRIVER_FILES=$icd; break; fi
    done
  fi
fi

# The compiled bench (dist/, from `npm run build:bench`) where the dev tools were left behind; sources otherwise.
if [ -f node_modules/.bin/tsx ] && [ -d node_modules/esbuild ]; then
  bench=(node --import tsx bench/bench.ts)
elif [ -f dist/bench/bench.js ]; then
  bench=(node dist/bench/bench.js)
else
  echo "gpu-bench: neither tsx nor dist/bench/bench.js (run npm run build:bench and carry dist)" >&2
  exit 1
fi

{
  echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "node: $(node --version)"
  echo "cpus: $(nproc)"
  echo "device requested: $device"
  if command -v nvidia-smi >/dev/null 2>&1; then nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader | sed 's/^/gpu: /'; fi
  echo "VK_DRIVER_FILES: ${VK_DRIVER_FILES:-unset}"
} > "$out/host.txt"
cat "$out/host.txt"

# 3. Inference per batch size.
largest=${sizes##*,}
timeout "$step_limit" "${bench[@]}" --only-batches --device "$device" --sizes "$sizes" --batches "$batches" --out "$out/batches.json" | tee "$out/batches.md"
batch_size=$(node -e "const r = JSON.parse(require('fs').readFileSync(process.argv[1], 'utf8')); console.log(r.batches.fastest[process.argv[2]].batchSize)" "$out/batches.json" "$largest")
echo "batch size for the bench: $batch_size (fastest per frame at $largest)"

# 4. The same table as npm run bench, plus the command as a user runs it.
timeout "$step_limit" "${bench[@]}" --device "$device" --seconds "$seconds" --sizes "$sizes" --batch-size "$batch_size" --end-to-end --out "$out/bench.json" | tee "$out/bench.md"

#!/usr/bin/env bash
# Packs what bench/gpu-bench.sh needs on a GPU host that has no Node.js (run here, from the project
# root, after `npm ci`): the compiled code (dist/, npm run build:bench), the Vulkan loader (.gl/)
# and the Node runtime tarball of ../shared/device/prepare-node-carry.sh cut into parts of at most
# PART_SIZE (default 28M; .carry/p1, .carry/p2, ...), so that each device call stays under its 64 MiB transfer
# limit together with the working tree. Each part folder holds a manifest (checksum, part names).
set -euo pipefail
cd "$(dirname "$0")/.."
part_size=${PART_SIZE:-28M}
prepare=${PREPARE_NODE_CARRY:-../shared/device/prepare-node-carry.sh}

npm run build:bench
bash "$prepare"
rm -rf .carry/p[0-9]* .carry/parts
mkdir -p .carry/parts
split -b "$part_size" -d -a 2 .carry/node-runtime.tar.xz .carry/parts/rt.
names=$(cd .carry/parts && ls rt.* | tr '\n' ' ')
sum=$(sha256sum .carry/node-runtime.tar.xz | cut -d' ' -f1)
i=0
for name in $names; do
  i=$((i + 1))
  mkdir -p ".carry/p$i"
  mv ".carry/parts/$name" ".carry/p$i/"
  echo "$sum $names" > ".carry/p$i/manifest.txt"
done
rmdir .carry/parts
echo "parts: $i (carry .carry/p1 ... .carry/p$i, one per call; the last call also carries dist and .gl)"
du -sh .carry/p* dist .gl 2>/dev/null || true

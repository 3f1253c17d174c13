#!/usr/bin/env bash
# Prepares what a GPU round carries (run here, before the round; everything lands in the ignored .data/):
#   .data/pretrained/mobilenet_v2_imagenet.npz and eccv16_partial_bins.npy (the 313 a*b* bin centres only)
#   .data/gpu/part-NN.zip: the training images re-packed into pieces of at most --part-mib MiB (default 24),
#   so that each device call (64 MiB in all, the repo's tracked files included) can carry one piece.
# usage: bash training/gpu_prepare.sh [--part-mib 24] [--parts N]
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PY="${PYTHON:-/usr/bin/python3}"
PART_MIB=24
PARTS=0
while [ $# -gt 0 ]; do
  case "$1" in
    --part-mib) PART_MIB="$2"; shift 2 ;;
    --parts) PARTS="$2"; shift 2 ;;
    *) echo "gpu_prepare: unknown option $1" >&2; exit 2 ;;
  esac
done
cd "$ROOT"
mkdir -p .data/pretrained .data/gpu
cp ../shared/pretrained/mobilenet_v2_imagenet.npz .data/pretrained/
"$PY" -c "import numpy as np; np.save('.data/pretrained/eccv16_partial_bins.npy', np.load('../shared/pretrained/eccv16_partial.npz')['pts_in_hull'])"
"$PY" - "$PART_MIB" "$PARTS" <<'PY'
import glob, os, random, sys, zipfile
part_bytes, max_parts = int(sys.argv[1]) * 2**20, int(sys.argv[2])
entries = []
for shard in sorted(glob.glob('../shared/datasets/train/train-*.zip')):
    with zipfile.ZipFile(shard) as z:
        entries += [(shard, i.filename, i.file_size) for i in z.infolist() if i.filename.lower().endswith(('.jpg', '.jpeg', '.png'))]
random.Random(0).shuffle(entries)  # every piece is a sample of all shards
for old in glob.glob('.data/gpu/part-*.zip'):
    os.remove(old)
part, size, out, zips = 0, 0, None, {}
for shard, name, n in entries:
    if out is None or size + n > part_bytes:
        if out:
            out.close()
        if max_parts and part == max_parts:
            out = None
            break
        out, size = zipfile.ZipFile(f'.data/gpu/part-{part:02d}.zip', 'w', zipfile.ZIP_STORED), 0
        part += 1
    zips.setdefault(shard, zipfile.ZipFile(shard))
    out.writestr(name, zips[shard].read(name))
    size += n + 100
if out:
    out.close()
print(f'gpu_prepare: {part} pieces in .data/gpu/')
PY
ls -la .data/gpu .data/pretrained

#!/usr/bin/env bash
# CI smoke test for the training code: 2 training steps on 16 images of one
# shard, ONNX export, and a load + run of the export with onnxruntime-node.
# Everything goes to a temporary directory; exits non-zero on any failure.
# Needs ../shared/datasets/train/train-00.zip and ../shared/pretrained/eccv16_partial.npz.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PY="${PYTHON:-/usr/bin/python3}"
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
cd "$ROOT"
DATA="$ROOT/../shared/datasets/train"
if ! ls "$DATA"/train-*.zip >/dev/null 2>&1; then
  echo "smoke: no training shards under $DATA" >&2; exit 1
fi
SHARD="$(basename "$(ls "$DATA"/train-*.zip | head -n 1)" .zip)"
"$PY" -u training/train.py --shards "$SHARD" --max-images 16 --val-images 8 --batch 8 \
  --head reg --steps 2 --warmup 1 --log-every 1 --val-every 2 --threads 2 --ckpt "$TMP/ckpt/latest.pt"
"$PY" training/export.py --ckpt "$TMP/ckpt/latest.pt" --out "$TMP/model" --ref "$TMP/reference.json" --fp16-weights
node training/verify_onnx.cjs "$TMP/model" "$TMP/reference.json" 0.5
echo "smoke: OK"

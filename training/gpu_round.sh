#!/usr/bin/env bash
# One GPU round, end to end, inside one device call (see training/README.md, "GPU round"):
# stash the carried data piece, resume from the committed checkpoint, train (bf16) for a fixed
# time, measure the held-out slice over the decoding temperatures, export both ONNX graphs
# (fp16 weights) and write checkpoint, graphs and logs to $OUT.
#
#   device call 1..k-1: bash training/gpu_round.sh --stash-only        (carry .data/gpu/part-NN.zip + .data/pretrained)
#   device call k:      bash training/gpu_round.sh --minutes 7          (trains on every piece stashed so far)
#   CPU dry run (CI):   bash training/gpu_round.sh --device cpu --steps 2 --max-images 16 --out "$TMP"   (--steps: beyond the checkpoint's)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PY="${PYTHON:-python3}"
OUT="${OUT:-$ROOT/.out/gpu-round}"
STASH="${COLORIZE_STASH:-/tmp/colorize-data}"
DEVICE=cuda
MINUTES=7
STASH_ONLY=0
EXTRA=()
while [ $# -gt 0 ]; do
  case "$1" in
    --device) DEVICE="$2"; shift 2 ;;
    --minutes) MINUTES="$2"; shift 2 ;;
    --out) OUT="$2"; shift 2 ;;
    --stash-only) STASH_ONLY=1; shift ;;
    --steps) EXTRA+=(--more-steps "$2"); shift 2 ;;
    --max-images|--batch|--threads) EXTRA+=("$1" "$2"); shift 2 ;;
    *) echo "gpu_round: unknown option $1" >&2; exit 2 ;;
  esac
done
cd "$ROOT"
mkdir -p "$OUT" "$STASH"
log() { echo "[gpu_round $(date -u +%H:%M:%S)] $*" | tee -a "$OUT/round.log"; }

# Data: the pieces carried now join those stashed by earlier calls; without any, ../shared (CPU dry run).
if ls .data/gpu/part-*.zip >/dev/null 2>&1; then cp -n .data/gpu/part-*.zip "$STASH"/; fi
if [ -d .data/pretrained ]; then export COLORIZE_PRETRAINED="$ROOT/.data/pretrained"; fi
DATA_ARGS=()
if ls "$STASH"/part-*.zip >/dev/null 2>&1; then
  for f in "$STASH"/part-*.zip; do n="$(basename "$f" .zip)"; ln -sf "$f" "$STASH/train-$n.zip"; done
  DATA_ARGS=(--data "$STASH")
  log "data: $(ls "$STASH"/part-*.zip | wc -l) piece(s) in $STASH"
else
  log "data: ../shared/datasets/train"
fi
[ "$STASH_ONLY" = 1 ] && { log "stashed; no training in this call"; exit 0; }

if [ "$DEVICE" = cuda ]; then
  "$PY" -c "import torch; assert torch.cuda.is_available(), 'no CUDA device'; print(torch.cuda.get_device_name(0))" | tee -a "$OUT/round.log"
  TRAIN_DEVICE=(--device cuda --bf16 --batch 128 --threads 16)
else
  TRAIN_DEVICE=(--device cpu --threads 2 --batch 8 --val-images 8)
fi
cp training/checkpoints/latest.pt "$OUT/latest.pt"
# a checkpoint that fine-tunes encoder blocks keeps them beside it
if [ -f training/checkpoints/latest.encoder.pt ]; then cp training/checkpoints/latest.encoder.pt "$OUT/latest.encoder.pt"; fi
export COLORIZE_TRAINING_CACHE="$OUT/cache"
log "train: resume from training/checkpoints/latest.pt for $MINUTES min on $DEVICE"
"$PY" -u training/train.py --resume --ckpt "$OUT/latest.pt" --minutes "$MINUTES" --log-json "$OUT/train.jsonl" \
  --val-every 100000 --lr 3e-4 --warmup 50 --global-aug --small-per-epoch 10000 \
  "${DATA_ARGS[@]}" "${TRAIN_DEVICE[@]}" "${EXTRA[@]}" >> "$OUT/round.log" 2>&1
log "held-out slice over temperatures"
"$PY" training/tune_temperature.py --ckpt "$OUT/latest.pt" --device "$DEVICE" "${DATA_ARGS[@]}" \
  $( [ "$DEVICE" = cpu ] && echo --images 8 ) > "$OUT/heldout.md" 2>> "$OUT/round.log"
cat "$OUT/heldout.md" | tee -a "$OUT/round.log"
T="$(grep -o 'chosen T=[0-9.]*' "$OUT/heldout.md" | cut -d= -f2 || true)"
log "export (T=${T:-1.0})"
"$PY" training/export.py --ckpt "$OUT/latest.pt" --out "$OUT/model" --ref "$OUT/reference.json" --fp16-weights --T "${T:-1.0}" >> "$OUT/round.log" 2>&1
ls -la "$OUT/model" | tee -a "$OUT/round.log"
log "done"

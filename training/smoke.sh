#!/usr/bin/env bash
# CI smoke test for the training code: the MobileNetV2 implementation against
# mobilenet_v2_check.npz, 2 training steps (perceptual term on), resumes (fine-tuned encoder blocks included) on a few images of one shard (global
# features cached in the temp dir), ONNX export (fp16 weights, int8 CPU variant), and a load + run of
# the export with onnxruntime-node, including the hint input.
# Everything goes to a temporary directory; exits non-zero on any failure.
# Needs ../shared/datasets/train/train-*.zip and ../shared/pretrained/{mobilenet_v2_imagenet,mobilenet_v2_check,eccv16_partial}.npz.
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
"$PY" training/mobilenet.py
SHARD="$(basename "$(ls "$DATA"/train-*.zip | head -n 1)" .zip)"
COLORIZE_TRAINING_CACHE="$TMP/cache" "$PY" -u training/train.py --shards "$SHARD" --max-images 16 --val-images 8 --batch 8 \
  --steps 2 --warmup 1 --log-every 1 --val-every 2 --threads 2 --perceptual 0.1 --ckpt "$TMP/ckpt/latest.pt"
# A resume keeps the trained weights: with no step left to take, the checkpoint written back holds
# exactly the weights it started from (until 2026-12-01 a resume without --more-steps re-initialised
# the model and kept only the step count and the optimizer state).
same_weights() {  # $1 $2: two checkpoints of the same step holding the same trained weights (encoder blocks included)
  "$PY" - "$1" "$2" "$3" <<'PY'
import sys
sys.path.insert(0, 'training')
from train import load_model_from_ckpt
(a, ca), (b, cb) = (load_model_from_ckpt(p) for p in sys.argv[1:3])
sa, sb = a.trained_state(), b.trained_state()
assert ca['step'] == cb['step'] == int(sys.argv[3]), (ca['step'], cb['step'])
diff = max((sa[k].float() - sb[k].float()).abs().max().item() for k in sa)
assert sa.keys() == sb.keys() and diff == 0.0, f'resume changed the weights (max difference {diff})'
print(f'smoke: resume keeps the weights ({len(sa)} tensors, {sum(".encoder." in k for k in sa)} of them encoder blocks)')
PY
}
cp "$TMP/ckpt/latest.pt" "$TMP/before.pt"
COLORIZE_TRAINING_CACHE="$TMP/cache" "$PY" -u training/train.py --resume --shards "$SHARD" --max-images 16 --val-images 8 --batch 8 \
  --steps 2 --minutes 5 --threads 2 --ckpt "$TMP/ckpt/latest.pt"
same_weights "$TMP/before.pt" "$TMP/ckpt/latest.pt" 2
# Hue-balanced sampling: synthetic images with known hues get the weights they must.
(cd training && "$PY" - <<'PY'
import numpy as np
from data import hue_profile, hue_balance_weights
green, pink, gray = (np.full((40, 40, 3), c, np.uint8) for c in ((40, 160, 40), (230, 80, 200), (128, 128, 128)))
half = green.copy(); half[:, 20:] = pink[:, 20:]
prof = hue_profile([green] * 8 + [pink, gray, half])
assert prof[0].argmax() == 2 and abs(prof[0].sum() - 1) < 1e-6, prof[0]   # green: 120-180 degrees
assert prof[8].argmax() == 5 and abs(prof[8].sum() - 1) < 1e-6, prof[8]   # pink/magenta: 300-360
assert prof[9].sum() == 0 and abs(prof[10, 2] - 0.5) < 0.03 and abs(prof[10, 5] - 0.5) < 0.03, prof[9:]
w, before, after = hue_balance_weights(prof)
assert abs(w.mean() - 1) < 1e-6 and w[8] > w[10] > w[9] > w[0], w
assert after[5] > before[5] and after[2] < before[2], (before, after)
print('smoke: hue-balance weights', ' '.join(f'{x:.2f}' for x in w[[0, 8, 9, 10]]))
PY
)
# Data mix by source: an image of a source weighted 2.5 takes 2 or 3 slots of an epoch, the others 1.
(cd training && "$PY" - <<'PY'
import numpy as np
from data import Batcher, source_repeats
names = ['intel/sea/a.jpg', 'camvid/b.jpg', 'camvid/c.jpg', 'utkface/d.jpg']
repeats, summary = source_repeats(names, 'camvid=2.5,utkface=0')
assert repeats.tolist() == [1, 2.5, 2.5, 0] and summary == {'camvid': (2, 2.5), 'utkface': (1, 0.0)}, (repeats, summary)
b = Batcher([np.zeros((120, 120, 3), np.uint8)] * 4, None, crop=64, batch=2, repeats=repeats)
for _ in range(20):
    order = b._epoch_order().tolist()
    assert order.count(0) == 1 and order.count(3) == 0 and all(order.count(i) in (2, 3) for i in (1, 2)), order
for bad in ('camvid', 'camvid=-1', 'flowers=2'):
    try:
        source_repeats(names, bad)
        raise AssertionError(bad)
    except SystemExit as e:
        assert str(e).startswith('--source-weights: '), e
print('smoke: source weights', repeats.tolist())
PY
)
# Global-view augmentation (the frozen encoder on a random crop/flip of each image every step,
# in pieces of 4 images), each epoch all large images and a few small ones (80 % of the slots drawn
# by hue weight), the step cut at 96 px
# (--large-crop) from the images of at least 48 px, a snapshot per validation,
# and from here on the local encoder's blocks 14-17 fine-tuned (kept in latest.encoder.pt beside the checkpoint).
COLORIZE_TRAINING_CACHE="$TMP/cache" "$PY" -u training/train.py --resume --shards "$SHARD" --max-images 16 --val-images 8 --batch 8 \
  --more-steps 1 --threads 2 --global-aug --small-per-epoch 4 --large-crop 96 --large-prob 1 --snapshots "$TMP/snapshots" --finetune-from 14 \
  --hue-balance 0.8 --ckpt "$TMP/ckpt/latest.pt" > "$TMP/aug.log"
grep -q '^\[data\] hue balance 0.8: sector shares' "$TMP/aug.log"
test -s "$TMP/snapshots/step3.pt" && test -s "$TMP/snapshots/step3.encoder.pt" && test -s "$TMP/ckpt/latest.encoder.pt"
cp "$TMP/ckpt/latest.pt" "$TMP/before.pt" && cp "$TMP/ckpt/latest.encoder.pt" "$TMP/before.encoder.pt"
COLORIZE_TRAINING_CACHE="$TMP/cache" "$PY" -u training/train.py --resume --shards "$SHARD" --max-images 16 --val-images 8 --batch 8 \
  --steps 3 --minutes 5 --threads 2 --ckpt "$TMP/ckpt/latest.pt"
same_weights "$TMP/before.pt" "$TMP/ckpt/latest.pt" 3
# Weight averaging of snapshots: the average of two copies of the same weights is those weights.
"$PY" training/average_ckpts.py --out "$TMP/avg.pt" "$TMP/snapshots/step3.pt" "$TMP/ckpt/latest.pt"
same_weights "$TMP/avg.pt" "$TMP/ckpt/latest.pt" 3
# A run that holds more memory than --max-rss-gb checkpoints and stops instead of thrashing the machine.
COLORIZE_TRAINING_CACHE="$TMP/cache" "$PY" -u training/train.py --resume --shards "$SHARD" --max-images 16 --val-images 8 --batch 8 \
  --more-steps 3 --log-every 1 --max-rss-gb 0.01 --threads 2 --ckpt "$TMP/ckpt/latest.pt" > "$TMP/rss.log"
grep -q 'over the 0.0 GiB limit (--max-rss-gb); checkpointing and stopping at step 4' "$TMP/rss.log"
# The auxiliary classification loss on the global vector (Iizuka et al. 2016): the labels the shard
# folders give, the head kept in the checkpoint and resumed with it; with --global-shuffle.
(cd training && "$PY" - <<'PY'
import numpy as np
from data import class_labels
wnids = np.array(['background', 'n01440764', 'n01443537'])
names = ['tinyimagenet/n01443537/a.jpg', 'imagenet-sample/n01440764_tench.jpg', 'intel/sea/b.jpg', 'intel/unlabeled/c.jpg',
         'catsdogs/dog/d.jpg', 'utkface/e.jpg', 'tinyimagenet/n99999999/f.jpg']
labels, extra = class_labels(names, wnids)
assert labels.tolist() == [2, 1, 4, -1, 3, -1, -1] and extra == ['catsdogs/dog', 'intel/sea'], (labels, extra)
assert class_labels(['intel/sea/g.jpg'], wnids, extra)[0].tolist() == [4]
print('smoke: class labels', labels.tolist())
PY
)
COLORIZE_TRAINING_CACHE="$TMP/cache" "$PY" -u training/train.py --resume --shards "$SHARD" --max-images 16 --val-images 8 --batch 8 \
  --more-steps 1 --log-every 1 --threads 2 --global-aug --aux-class 0.1 --global-shuffle 0.5 --ckpt "$TMP/ckpt/latest.pt" > "$TMP/aux.log"
grep -q '^\[train\] auxiliary classification loss x0.1 on the global vector' "$TMP/aux.log" && grep -q '^\[train\] step 5 loss .* aux ' "$TMP/aux.log"
grep -q 'global_shuffle=0.5 ' "$TMP/aux.log"  # half of each batch colours its crops with another image's global vector
COLORIZE_TRAINING_CACHE="$TMP/cache" "$PY" -u training/train.py --resume --shards "$SHARD" --max-images 16 --val-images 8 --batch 8 \
  --more-steps 1 --threads 2 --global-aug --ckpt "$TMP/ckpt/latest.pt" > "$TMP/aux2.log"
grep -q 'images labelled, .* classes (head resumed)$' "$TMP/aux2.log"
# Fine-tuning extended to earlier blocks on a resume (14 -> 12), then resumed again with the optimizer
# state of every tuned block; stopping at a later block is refused.
COLORIZE_TRAINING_CACHE="$TMP/cache" "$PY" -u training/train.py --resume --shards "$SHARD" --max-images 16 --val-images 8 --batch 8 \
  --more-steps 1 --threads 2 --finetune-from 12 --source-weights intel=3,flowers=2 --ckpt "$TMP/ckpt/latest.pt" > "$TMP/extend.log"
grep -q '^\[train\] the local encoder is fine-tuned from block 12 now (was 14)$' "$TMP/extend.log"
grep -q '^\[data\] source weights: intel 3 images x3, flowers 2 images x2$' "$TMP/extend.log"
COLORIZE_TRAINING_CACHE="$TMP/cache" "$PY" -u training/train.py --resume --shards "$SHARD" --max-images 16 --val-images 8 --batch 8 \
  --more-steps 1 --threads 2 --ckpt "$TMP/ckpt/latest.pt" > "$TMP/extend2.log"
grep -q 'finetune_from=12 ' "$TMP/extend2.log"
! "$PY" -u training/train.py --resume --more-steps 1 --finetune-from 14 --ckpt "$TMP/ckpt/latest.pt" > "$TMP/later.log" 2>&1
grep -q 'can extend that to earlier blocks, not stop at block 14' "$TMP/later.log"
# The decision tool of the held-out slice: temperatures and the decoding-time prior correction,
# with the per-sector hue recall and where each true hue went.
COLORIZE_TRAINING_CACHE="$TMP/cache" "$PY" training/tune_temperature.py --ckpt "$TMP/ckpt/latest.pt" --images 24 --T 0.5,1.0 \
  --prior 0,0.3 > "$TMP/tune.txt"
grep -q '^| T=1.0 prior=0.3 |' "$TMP/tune.txt" && grep -q '^| 300-360 |' "$TMP/tune.txt"
# The paired bootstrap comparison of two checkpoints: a checkpoint against itself differs by exactly 0.
COLORIZE_TRAINING_CACHE="$TMP/cache" "$PY" training/compare_ckpts.py --a "$TMP/ckpt/latest.pt" --b "$TMP/ckpt/latest.pt" --images 24 \
  --min-side 0 --crop 64 --boot 50 > "$TMP/compare.txt"
grep -q '^| hue recall | .* | +0.000 | +0.000 .. +0.000 | 0% |$' "$TMP/compare.txt"
# With the int8 CPU variant (calibrated on held-out crops), checked in onnxruntime-node and on held-out crops.
COLORIZE_TRAINING_CACHE="$TMP/cache" "$PY" training/export.py --ckpt "$TMP/ckpt/latest.pt" --out "$TMP/model" --ref "$TMP/reference.json" \
  --fp16-weights --int8-cpu --calib-images 16
node training/verify_onnx.cjs "$TMP/model" "$TMP/reference.json" 0.5
COLORIZE_TRAINING_CACHE="$TMP/cache" "$PY" training/int8_heldout.py dump "$TMP/heldout" --ckpt "$TMP/ckpt/latest.pt" --skip 170
node training/int8_heldout.cjs "$TMP/model" "$TMP/heldout"
"$PY" training/int8_heldout.py score "$TMP/heldout"
# The GPU round's CPU dry run: resume the committed checkpoint, 2 more steps, held-out sweep, export.
COLORIZE_STASH="$TMP/stash" PYTHON="$PY" bash training/gpu_round.sh --device cpu --steps 2 --max-images 16 --out "$TMP/round" > "$TMP/round.out" 2>&1 \
  || { cat "$TMP/round/round.log" "$TMP/round.out" >&2; exit 1; }
grep -q '^chosen T=' "$TMP/round/heldout.md"
node training/verify_onnx.cjs "$TMP/round/model" "$TMP/round/reference.json" 0.5
echo "smoke: OK"

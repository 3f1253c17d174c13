"""Preliminary PyTorch-side quality check on the still-image eval sets. NOT the
product's evaluation (that runs the ONNX files through the TypeScript
inference path); this mirrors it: gray = L* of the truth, the local net at a
working short side of 224 (sides multiples of 8), the global net on the whole
frame squashed to S x S, a*b* upsampled bilinearly to full size, PSNR on 8-bit
RGB vs the truth, Hasler-Suesstrunk colorfulness.

  /usr/bin/python3 training/sanity.py --ckpt training/checkpoints/latest.pt --sets kodak24,cbsd68 --T 1.0
"""
import argparse
import glob
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from color import load_bins, rgb_to_lab  # noqa: E402
from data import load_images  # noqa: E402
from metrics import colorfulness_batch, psnr_batch  # noqa: E402
from model import LocalExport  # noqa: E402
from train import ECCV, HERE, load_model_from_ckpt  # noqa: E402

EVAL = os.path.normpath(os.path.join(HERE, '..', '..', 'shared', 'datasets', 'eval', 'images'))


def large_holdout_images(min_side):
    """The held-out TRAINING images with a short side >= min_side, full size, as [1,3,H,W] RGB in [0,1]."""
    imgs, _ = load_images(split='holdout', store_short=100000, log=lambda m: None)
    return [torch.from_numpy(a.astype(np.float32) / 255.0).permute(2, 0, 1)[None] for a in imgs if min(a.shape[:2]) >= min_side]


def product_inputs(rgb, working_short_side, S):
    """As the pipeline feeds the nets: normalised L at full size, at the working short side
    (sides multiples of 8) for the local net, and squashed to S x S for the global net."""
    L = (rgb_to_lab(rgb)[:, :1] - 50.0) / 100.0
    H, W = L.shape[2:]
    s = working_short_side / min(H, W)
    h, w = max(8, round(H * s / 8) * 8), max(8, round(W * s / 8) * 8)
    Lw = F.interpolate(L, size=(h, w), mode='bilinear', align_corners=False, antialias=s < 1)
    Lg = F.interpolate(L, size=(S, S), mode='bilinear', align_corners=False, antialias=True)
    return L, Lw, Lg


def main():
    p = argparse.ArgumentParser()
    p.add_argument('--ckpt', default=os.path.join(HERE, 'checkpoints', 'latest.pt'))
    p.add_argument('--sets', default='kodak24,cbsd68')
    p.add_argument('--T', default='1.0', help='comma-separated temperatures')
    p.add_argument('--gain', type=float, default=1.0)
    p.add_argument('--max-per-set', type=int, default=None)
    p.add_argument('--working-short-side', default='224', help='comma-separated values to compare')
    p.add_argument('--holdout-min-side', type=int, default=None,
                   help='instead of the eval sets, use the held-out TRAINING images whose short side is >= this')
    args = p.parse_args()
    torch.set_num_threads(2)
    model, ck = load_model_from_ckpt(args.ckpt, ECCV)
    model.eval()
    S = model.config['global_size']
    bins = load_bins(ECCV)
    Ts = [float(t) for t in args.T.split(',')] if model.config['head'] == 'class' else [1.0]
    print(f'checkpoint step {ck["step"]} head {model.config["head"]} S={S} gain {args.gain}')
    print('| set | working short side | T | PSNR (dB) | gray PSNR | colorfulness | truth colorfulness | images |')
    print('| --- | --- | --- | --- | --- | --- | --- | --- |')
    if args.holdout_min_side:
        groups = [(f'holdout>={args.holdout_min_side}px', large_holdout_images(args.holdout_min_side))]
    else:
        groups = []
        for name in args.sets.split(','):
            files = sorted(f for f in glob.glob(os.path.join(EVAL, name, '*')) if f.lower().endswith(('.png', '.jpg', '.jpeg', '.bmp', '.tif', '.tiff')))
            if not files:
                sys.exit(f'no images under {os.path.join(EVAL, name)}')
            files = files[:args.max_per_set] if args.max_per_set else files
            groups.append((name, [torch.from_numpy(np.asarray(Image.open(f).convert('RGB'), dtype=np.float32) / 255.0).permute(2, 0, 1)[None] for f in files]))
    for name, rgbs in groups:
        for wss in [int(v) for v in args.working_short_side.split(',')]:
            res = {T: [] for T in Ts}
            for rgb in rgbs:
                L, Lw, Lg = product_inputs(rgb, wss, S)
                with torch.no_grad():
                    g = model.glob(Lg)
                    for T in Ts:
                        ab = LocalExport(model.local, bins, T, args.gain)(Lw, g)
                        res[T].append((psnr_batch(L, ab, rgb).item(), psnr_batch(L, ab * 0, rgb).item(),
                                       colorfulness_batch(L, ab).item(), colorfulness_batch(None, None, rgb).item()))
            for T in Ts:
                m = np.array(res[T]).mean(axis=0)
                tl = T if model.config['head'] == 'class' else '-'
                print(f'| {name} | {wss} | {tl} | {m[0]:.2f} | {m[1]:.2f} | {m[2]:.1f} | {m[3]:.1f} | {len(rgbs)} |', flush=True)

if __name__ == '__main__':
    main()

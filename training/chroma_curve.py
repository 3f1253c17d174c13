"""Chroma calibration sweep on the held-out slice of the TRAINING data (never the eval sets).

A regression head predicts the conditional mean of a*b*, which shrinks uncertain colours toward
gray. This compares two post-hoc corrections on the same held-out predictions:
  uniform  ab * k
  boost    ab * (1 + k * min(1, |ab| / c))   (confident, already-saturated predictions gain most)
for PSNR (RGB, dB) against the gray baseline, and colorfulness against the truth.

  /usr/bin/python3 training/chroma_curve.py [--ckpt ...] [--holdout-min-side 128]
"""
import argparse
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from data import Batcher, load_images  # noqa: E402
from metrics import colorfulness_batch, psnr_batch  # noqa: E402
from sanity import large_holdout_images, product_inputs  # noqa: E402
from train import ECCV, HERE, holdout_predictions, load_model_from_ckpt  # noqa: E402


def boost(ab, k, c):
    if c is None:
        return ab * k
    mag = torch.sqrt((ab ** 2).sum(dim=1, keepdim=True))
    return ab * (1 + k * (mag / c).clamp(max=1))


def predictions(model, args):
    """(L, ab, rgb) triples for the held-out images, predicted as the product would."""
    if args.holdout_min_side:
        out = []
        for rgb in large_holdout_images(args.holdout_min_side):
            L, Lw, Lg = product_inputs(rgb, args.working_short_side, model.config['global_size'])
            out.append((L, model.local(Lw, model.glob(Lg)) * 100.0, rgb))
        return out
    imgs, _ = load_images(split='holdout', log=lambda m: None)
    Ls, outs, rgbs = holdout_predictions(model, Batcher(imgs, 64, model.config['global_size'], 32, augment=False))
    return [(L, o * 100.0, rgb) for L, o, rgb in zip(Ls, outs, rgbs)]


def main():
    p = argparse.ArgumentParser()
    p.add_argument('--ckpt', default=os.path.join(HERE, 'checkpoints', 'latest.pt'))
    p.add_argument('--holdout-min-side', type=int, default=None,
                   help='use the full-size held-out images with at least this short side, at --working-short-side')
    p.add_argument('--working-short-side', type=int, default=224)
    p.add_argument('--uniform', default='1.0,1.1,1.2,1.3,1.4')
    p.add_argument('--boost', default='0.2:10,0.3:10,0.4:10,0.3:20,0.5:20,0.7:20,0.5:40,1.0:40')
    args = p.parse_args()
    torch.set_num_threads(2)
    model, ck = load_model_from_ckpt(args.ckpt, ECCV)
    model.eval()
    with torch.no_grad():
        preds = predictions(model, args)
        settings = [(f'uniform {k}', float(k), None) for k in args.uniform.split(',')]
        settings += [(f'boost k={s.split(":")[0]} c={s.split(":")[1]}', float(s.split(':')[0]), float(s.split(':')[1]))
                     for s in args.boost.split(',') if s]
        n = sum(L.shape[0] for L, _, _ in preds)
        print(f'checkpoint step {ck["step"]}, {n} held-out training images'
              + (f' (short side >= {args.holdout_min_side}, working side {args.working_short_side})' if args.holdout_min_side else ' (64 px centre crops)'))
        print('| correction | PSNR (dB) | gray PSNR | colorfulness | truth colorfulness |')
        print('| --- | --- | --- | --- | --- |')
        for name, k, c in settings:
            r = [torch.cat(x).mean().item() for x in zip(*[
                (psnr_batch(L, boost(ab, k, c), rgb), psnr_batch(L, ab * 0, rgb),
                 colorfulness_batch(L, boost(ab, k, c)), colorfulness_batch(None, None, rgb)) for L, ab, rgb in preds])]
            print(f'| {name} | {r[0]:.2f} | {r[1]:.2f} | {r[2]:.1f} | {r[3]:.1f} |', flush=True)


if __name__ == '__main__':
    main()

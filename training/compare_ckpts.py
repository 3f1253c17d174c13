"""Paired comparison of two checkpoints on the held-out slice of the TRAINING data, with bootstrap
intervals over images: is a difference in PSNR or class-balanced hue recall larger than what the
choice of ~190 held-out images alone would make?

Both models colour the same centre crops; per image we keep PSNR and, per 60-degree sector of the
true hue, the chromatic pixels and the hits (metrics.HueRecall's definition). Resampling the images
with replacement (the same resample for both models) gives the spread of the differences. A rare
sector (pinks hold 3.6 % of the slice's chromatic pixels, nine tenths of them in a dozen images)
swings the class-balanced mean by itself, which this makes visible.

  /usr/bin/python3 training/compare_ckpts.py --a training/checkpoints/latest.pt --b .out/new.pt \
      --Ta 0.5 --Tb 0.5 --crop 224 --min-side 100
"""
import argparse
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from color import load_bins, rgb_to_lab  # noqa: E402
from data import DEFAULT_ROOT, Batcher, global_features, load_images  # noqa: E402
from metrics import HUE_SECTOR_NAMES, HueRecall, balanced_recall, psnr_batch  # noqa: E402
from model import decode  # noqa: E402
from train import ECCV, load_model_from_ckpt  # noqa: E402


@torch.no_grad()
def per_image(ckpt, T, imgs, names, crop, bins):
    """[n] PSNR, [n, 6] chromatic pixels and [n, 6] hits per sector of the true hue."""
    model, _ = load_model_from_ckpt(ckpt)
    model.eval()
    val = Batcher(imgs, global_features(imgs, names, model.config['global_size'], log=lambda *a: None), crop, 32, augment=False)
    psnr, pixels, hits = [], [], []
    for L, _, g, hints, rgb in val.all_batches():
        ab = decode(model(L, hints=hints, global_in=g).float(), model.config['head'], bins, T)
        psnr.append(psnr_batch(L, ab, rgb))
        up = F.interpolate(ab, size=L.shape[2:], mode='bilinear', align_corners=False)
        true = rgb_to_lab(rgb.clamp(0, 1))[:, 1:]
        for i in range(len(L)):
            one = HueRecall()
            one.add(up[i:i + 1], true[i:i + 1])
            pixels.append(one.pixels.numpy()), hits.append(one.hits.numpy())
    return torch.cat(psnr).numpy(), np.stack(pixels), np.stack(hits)


def main():
    p = argparse.ArgumentParser()
    p.add_argument('--a', required=True, help='checkpoint A (e.g. the shipped one)')
    p.add_argument('--b', required=True, help='checkpoint B (the candidate)')
    p.add_argument('--Ta', type=float, default=0.5)
    p.add_argument('--Tb', type=float, default=0.5)
    p.add_argument('--crop', type=int, default=224)
    p.add_argument('--min-side', type=int, default=100)
    p.add_argument('--images', type=int, default=None)
    p.add_argument('--boot', type=int, default=2000)
    p.add_argument('--data', default=DEFAULT_ROOT)
    p.add_argument('--seed', type=int, default=0)
    args = p.parse_args()
    torch.set_num_threads(2)
    bins = load_bins(ECCV)
    imgs, names = load_images(args.data, None, args.images, 'holdout', log=lambda *a: None, min_side=args.min_side)
    pa, xa, ha = per_image(args.a, args.Ta, imgs, names, args.crop, bins)
    pb, xb, hb = per_image(args.b, args.Tb, imgs, names, args.crop, bins)
    assert np.array_equal(xa, xb)
    n = len(pa)
    rng = np.random.default_rng(args.seed)
    idx = rng.integers(0, n, size=(args.boot, n))
    d_psnr = pb[idx].mean(axis=1) - pa[idx].mean(axis=1)
    d_hue = balanced_recall(xb[idx].sum(axis=1), hb[idx].sum(axis=1)) - balanced_recall(xa[idx].sum(axis=1), ha[idx].sum(axis=1))
    hue_a, hue_b = balanced_recall(xa.sum(0), ha.sum(0)), balanced_recall(xb.sum(0), hb.sum(0))
    print(f'{n} held-out images >= {args.min_side} px, centre crops {args.crop} px; A = {args.a} (T {args.Ta}), B = {args.b} (T {args.Tb})')
    print('| measure | A | B | B - A | 90 % interval of B - A (bootstrap over images) | resamples with B > A |')
    print('| --- | --- | --- | --- | --- | --- |')
    for name, va, vb, d in (('PSNR (dB)', pa.mean(), pb.mean(), d_psnr), ('hue recall', hue_a, hue_b, d_hue)):
        lo, hi = np.percentile(d, [5, 95])
        print(f'| {name} | {va:.3f} | {vb:.3f} | {vb - va:+.3f} | {lo:+.3f} .. {hi:+.3f} | {(d > 0).mean():.0%} |')
    print('\n| sector | ' + ' | '.join(HUE_SECTOR_NAMES) + ' |')
    print('| --- |' + ' --- |' * 6)
    px = xa.sum(0)
    print('| images holding half its pixels | ' + ' | '.join(str(int(np.searchsorted(np.cumsum(np.sort(xa[:, s])[::-1]), px[s] / 2) + 1)) for s in range(6)) + ' |')
    print('| recall A | ' + ' | '.join(f'{h / max(x, 1):.3f}' for h, x in zip(ha.sum(0), px)) + ' |')
    print('| recall B | ' + ' | '.join(f'{h / max(x, 1):.3f}' for h, x in zip(hb.sum(0), px)) + ' |')


if __name__ == '__main__':
    main()

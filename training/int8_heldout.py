"""Held-out check of the int8 CPU variant against the float network it was made from.

  /usr/bin/python3 training/int8_heldout.py dump DIR [--ckpt CKPT] [--skip 96]
  node training/int8_heldout.cjs MODEL_DIR DIR
  /usr/bin/python3 training/int8_heldout.py score DIR

`dump` writes 128 px centre crops of the held-out images that calibration did not see (the
first --skip are export.py's calibration crops), their global vectors and their truth; the
Node step runs both graphs of MODEL_DIR on them in onnxruntime-node (the product's runtime);
`score` prints PSNR, colourfulness and hue recall of each, as train.py's validation does.
"""
import argparse
import json
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from color import rgb_to_lab  # noqa: E402
from data import DEFAULT_ROOT, Batcher, held_out_slice  # noqa: E402
from metrics import HueRecall, colorfulness_batch, psnr_batch  # noqa: E402
from train import HERE, load_model_from_ckpt  # noqa: E402


def dump(args):
    model, _ = load_model_from_ckpt(args.ckpt)
    model.eval()
    imgs, feats = held_out_slice(args.data, model.config['global_size'], start=args.skip)
    crops = Batcher(imgs, feats, 128, 32, augment=False)
    Ls, gs, rgbs = [], [], []
    with torch.no_grad():
        for L, _, g, _, rgb in crops.all_batches():
            Ls.append(L), gs.append(model.glob.head(g.float())), rgbs.append(rgb)
    os.makedirs(args.dir, exist_ok=True)
    shapes = {}
    for name, parts in (('L', Ls), ('g', gs), ('rgb', rgbs)):
        a = torch.cat(parts).numpy().astype(np.float32)
        a.tofile(os.path.join(args.dir, name + '.bin'))
        shapes[name] = list(a.shape)
    with open(os.path.join(args.dir, 'shapes.json'), 'w') as f:
        json.dump(shapes, f)
    print(f'[int8] {shapes["L"][0]} held-out crops -> {args.dir}')


def score(args):
    with open(os.path.join(args.dir, 'shapes.json')) as f:
        shapes = json.load(f)
    load = lambda name, shape: torch.from_numpy(np.fromfile(os.path.join(args.dir, name + '.bin'), np.float32).reshape(shape))  # noqa: E731
    L, rgb = load('L', shapes['L']), load('rgb', shapes['rgb'])
    n, _, h, w = shapes['L']
    print('| graph | PSNR (dB) | gray PSNR | colorfulness | hue recall |')
    print('| --- | --- | --- | --- | --- |')
    for graph in ('float', 'int8'):
        ab = load('ab-' + graph, [n, 2, h // 4, w // 4])
        hue = HueRecall()
        hue.add(F.interpolate(ab, size=(h, w), mode='bilinear', align_corners=False), rgb_to_lab(rgb.clamp(0, 1))[:, 1:])
        print(f'| {graph} | {psnr_batch(L, ab, rgb).mean().item():.3f} | {psnr_batch(L, ab * 0, rgb).mean().item():.3f} | '
              f'{colorfulness_batch(L, ab).mean().item():.2f} | {hue.value():.4f} |')


def main():
    p = argparse.ArgumentParser()
    p.add_argument('mode', choices=['dump', 'score'])
    p.add_argument('dir')
    p.add_argument('--ckpt', default=os.path.join(HERE, 'checkpoints', 'latest.pt'))
    p.add_argument('--data', default=DEFAULT_ROOT)
    p.add_argument('--skip', type=int, default=96, help='held-out images export.py calibrated on (--calib-images)')
    args = p.parse_args()
    torch.set_num_threads(2)
    dump(args) if args.mode == 'dump' else score(args)


if __name__ == '__main__':
    main()

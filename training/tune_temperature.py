"""Pick the annealed-mean temperature on the held-out slice of the TRAINING
data (the ~1% of train-*.zip images whose path CRC32 % 100 == 0; never the
eval sets): PSNR vs truth, the gray baseline, and colorfulness per T.

  /usr/bin/python3 training/tune_temperature.py --ckpt training/checkpoints/latest.pt
"""
import argparse
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from color import load_bins  # noqa: E402
from data import DEFAULT_ROOT, Batcher, load_images  # noqa: E402
from train import ECCV, HERE, load_model_from_ckpt, validate  # noqa: E402


def main():
    p = argparse.ArgumentParser()
    p.add_argument('--ckpt', default=os.path.join(HERE, 'checkpoints', 'latest.pt'))
    p.add_argument('--data', default=DEFAULT_ROOT)
    p.add_argument('--T', default='0.3,0.38,0.5,0.6,0.7,0.8,0.9,1.0,1.2')
    p.add_argument('--gain', default='1.0', help='comma-separated a*b* gains to try (chroma scale)')
    p.add_argument('--images', type=int, default=None, help='holdout images to use (default: all)')
    p.add_argument('--crop', type=int, default=64)
    args = p.parse_args()
    torch.set_num_threads(2)
    model, ck = load_model_from_ckpt(args.ckpt, ECCV)
    imgs, _ = load_images(args.data, None, args.images, 'holdout')
    val = Batcher(imgs, args.crop, model.config['global_size'], 32, augment=False)
    res = validate(model, val, model.config['head'], load_bins(ECCV), [float(t) for t in args.T.split(',')],
                   [float(k) for k in args.gain.split(',')])
    print(f'checkpoint step {ck["step"]}, {len(imgs)} held-out training images, centre crops {args.crop}px')
    print('| setting | PSNR (dB) | gray PSNR | colorfulness | truth colorfulness |')
    print('| --- | --- | --- | --- | --- |')
    for k, r in res.items():
        print(f"| {k} | {r['psnr']:.2f} | {r['gray_psnr']:.2f} | {r['colorfulness']:.1f} | {r['truth_colorfulness']:.1f} |")


if __name__ == '__main__':
    main()

"""Compute (or complete) the cache of frozen global-view features for the training and held-out
images, ahead of training: `--first N` does the N images a `train.py --max-images N` run uses first.

  /usr/bin/python3 -u training/cache_globals.py --first 12000
  /usr/bin/python3 -u training/cache_globals.py --min-side 100   # every image >= 100 px, for train.py --min-side 100
"""
import argparse
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from data import DEFAULT_ROOT, global_features, load_images  # noqa: E402


def main():
    p = argparse.ArgumentParser()
    p.add_argument('--data', default=DEFAULT_ROOT)
    p.add_argument('--first', type=int, default=None)
    p.add_argument('--global-size', type=int, default=224)
    p.add_argument('--store-short', type=int, default=224)
    p.add_argument('--threads', type=int, default=2)
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--min-side', type=int, default=0, help='only images with at least this short side')
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    for split, limit in (('holdout', None), ('train', args.first), ('train', None)):
        images, names = load_images(args.data, None, limit, split, args.seed, store_short=args.store_short, min_side=args.min_side)
        global_features(images, names, args.global_size)
        del images


if __name__ == '__main__':
    main()

"""Training data: read every train-*.zip shard, decode a subset of the JPEGs
into RAM once (uint8 RGB, small), and serve augmented batches.

A batch is (L_local [B,1,C,C], ab_target [B,2,C/4,C/4], L_global [B,1,S,S]),
L normalised as (L - 50) / 100 and a*b* in Lab units.

A fixed ~1% of the images (by CRC32 of the path) is held out from training and
used for validation / the head and temperature decisions; eval/ sets are never
touched here.
"""
import glob
import io
import os
import random
import sys
import time
import zipfile
import zlib

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

from color import rgb_to_lab

DEFAULT_ROOT = os.path.normpath(os.path.join(os.path.dirname(__file__), '..', '..', 'shared', 'datasets', 'train'))
STORE_SHORT = 96  # images larger than this are stored with this short side


def is_holdout(path, percent=1):
    return zlib.crc32(path.encode()) % 100 < percent


def list_shards(root=DEFAULT_ROOT, shards=None):
    found = sorted(glob.glob(os.path.join(root, 'train-*.zip')))
    if not found:
        sys.exit(f'no training shards train-*.zip under {root} (see ../shared/datasets/README.md)')
    if shards:
        want = set(shards.split(','))
        found = [p for p in found if os.path.basename(p) in want or os.path.basename(p).split('.')[0] in want]
        if not found:
            sys.exit(f'none of the shards {shards} found under {root}')
    return found


def is_grayscale(arr, thresh=3.0):
    """True for (nearly) gray images: mean over pixels of max-min channel < thresh (8-bit).
    They carry no colour to learn and would dominate a mean PSNR (gray output == truth)."""
    a = arr.astype(np.int16)
    return float((a.max(axis=2) - a.min(axis=2)).mean()) < thresh


def _decode(data, store_short):
    im = Image.open(io.BytesIO(data))
    im.draft('RGB', (store_short, store_short))  # JPEG DCT scaling: cheap downscale
    im = im.convert('RGB')
    w, h = im.size
    s = min(w, h)
    if s > store_short:
        im = im.resize((max(1, round(w * store_short / s)), max(1, round(h * store_short / s))), Image.BILINEAR)
    return np.asarray(im, dtype=np.uint8).copy()


def load_images(root=DEFAULT_ROOT, shards=None, max_images=None, split='train', seed=0,
                store_short=STORE_SHORT, holdout_percent=1, log=print):
    """Decode images of the given split into a list of HxWx3 uint8 arrays."""
    t0 = time.time()
    entries = []
    for shard in list_shards(root, shards):
        with zipfile.ZipFile(shard) as z:
            for n in z.namelist():
                if not n.lower().endswith(('.jpg', '.jpeg', '.png')):
                    continue
                if is_holdout(n, holdout_percent) == (split == 'holdout'):
                    entries.append((shard, n))
    rng = random.Random(seed)
    rng.shuffle(entries)
    if max_images:
        entries = entries[:max_images]
    entries.sort()  # read each zip sequentially
    images, names = [], []
    n_gray = 0
    zf, zname = None, None
    for shard, n in entries:
        if shard != zname:
            zf, zname = zipfile.ZipFile(shard), shard
        arr = _decode(zf.read(n), store_short)
        if arr.shape[0] < 16 or arr.shape[1] < 16:
            continue
        if is_grayscale(arr):
            n_gray += 1
            continue
        images.append(arr)
        names.append(n)
    order = list(range(len(images)))
    rng.shuffle(order)
    images = [images[i] for i in order]
    names = [names[i] for i in order]
    mb = sum(a.nbytes for a in images) / 2**20
    log(f'[data] {split}: {len(images)} images from {len(list_shards(root, shards))} shard(s), '
        f'{mb:.0f} MiB in RAM, decoded in {time.time() - t0:.1f}s; {n_gray} grayscale images skipped')
    return images, names


def _to_tensor(arr):
    return torch.from_numpy(arr).permute(2, 0, 1).float().div_(255.0).unsqueeze(0)


class Batcher:
    """Random crop (random scale) + flip for the local view; the whole image,
    squashed to S x S, for the global view."""

    def __init__(self, images, crop=64, global_size=224, batch=32, seed=0, augment=True):
        self.images, self.crop, self.S, self.batch, self.augment = images, crop, global_size, batch, augment
        self.rng = np.random.default_rng(seed)
        self.pos = 0
        self.order = self.rng.permutation(len(images))
        self.epoch = 0

    def _next_index(self):
        if self.pos >= len(self.order):
            self.order = self.rng.permutation(len(self.images))
            self.pos = 0
            self.epoch += 1
        i = self.order[self.pos]
        self.pos += 1
        return i

    def sample(self, arr):
        rng, C = self.rng, self.crop
        x = _to_tensor(arr)
        h, w = arr.shape[:2]
        short = min(h, w)
        if self.augment:
            lo = min(short, C)
            c = int(rng.integers(lo, short + 1)) if short > lo else short
            y0, x0 = int(rng.integers(0, h - c + 1)), int(rng.integers(0, w - c + 1))
            flip = bool(rng.integers(0, 2))
        else:
            c = short
            y0, x0 = (h - c) // 2, (w - c) // 2
            flip = False
        loc = x[:, :, y0:y0 + c, x0:x0 + c]
        loc = F.interpolate(loc, size=(C, C), mode='bilinear', align_corners=False, antialias=c > C) if c != C else loc
        glo = F.interpolate(x, size=(self.S, self.S), mode='bilinear', align_corners=False,
                            antialias=max(h, w) > self.S)
        if flip:
            loc, glo = loc.flip(3), glo.flip(3)
        return loc, glo

    def batch_from(self, idx):
        locs, glos = zip(*(self.sample(self.images[i]) for i in idx))
        return make_batch(torch.cat(locs), torch.cat(glos))

    def next(self):
        return self.batch_from([self._next_index() for _ in range(self.batch)])


def make_batch(rgb_local, rgb_global):
    lab = rgb_to_lab(rgb_local.clamp(0, 1))
    L = (lab[:, :1] - 50.0) / 100.0
    ab = F.avg_pool2d(lab[:, 1:], 4)  # target on the 1/4 output grid
    Lg = (rgb_to_lab(rgb_global.clamp(0, 1))[:, :1] - 50.0) / 100.0
    return L, ab, Lg

"""Training data: read every train-*.zip shard, decode a subset of the JPEGs
into RAM once (uint8 RGB, small), and serve augmented batches.

A batch is (L_local [B,1,C,C], ab_target [B,2,C/4,C/4], global_in [B,2281],
hints [B,3,C/4,C/4]): L normalised as (L - 50) / 100, a*b* in Lab units, the
frozen ImageNet features of each image's global view (computed once per image and
cached under .data/), and colour hints sampled from the truth part of the time.

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
from metrics import TRUE_CHROMA_MIN, hue_sector

DEFAULT_ROOT = os.path.normpath(os.path.join(os.path.dirname(__file__), '..', '..', 'shared', 'datasets', 'train'))
STORE_SHORT = 224  # images larger than this are stored with this short side


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
                store_short=STORE_SHORT, holdout_percent=1, log=print, min_side=0):
    """Decode images of the given split into a list of HxWx3 uint8 arrays. `min_side`: skip images
    whose short side is below it (e.g. 100 leaves out the 64x64 Tiny-ImageNet crops)."""
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
        if arr.shape[0] < max(16, min_side) or arr.shape[1] < max(16, min_side):
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


def lightness(rgb):
    return (rgb_to_lab(rgb.clamp(0, 1))[:, :1] - 50.0) / 100.0


def global_view(arr, S, rng=None, min_keep=0.7):
    """The whole image squashed to S x S, as the pipeline does with a frame, as normalised L.
    With `rng` (training's global-view augmentation): a random crop keeping min_keep..1 of each
    side, randomly flipped, so the global branch never sees the same vector twice for an image."""
    x = _to_tensor(arr)
    if rng is not None:
        h, w = arr.shape[:2]
        ch, cw = (max(1, int(round(n * rng.uniform(min_keep, 1.0)))) for n in (h, w))
        y0, x0 = int(rng.integers(0, h - ch + 1)), int(rng.integers(0, w - cw + 1))
        x = x[:, :, y0:y0 + ch, x0:x0 + cw]
        if rng.integers(0, 2):
            x = x.flip(3)
    return lightness(F.interpolate(x, size=(S, S), mode='bilinear', align_corners=False,
                                   antialias=max(x.shape[2:]) > S))


CACHE = os.environ.get('COLORIZE_TRAINING_CACHE') or os.path.normpath(os.path.join(os.path.dirname(__file__), '..', '.data'))


def cached_names(S=224, cache_dir=CACHE):
    path = os.path.join(cache_dir, f'global_features_S{S}.npz')
    return set(np.load(path)['names'].tolist()) if os.path.exists(path) else set()


@torch.no_grad()
def global_features(images, names, S=224, cache_dir=CACHE, log=print, batch=64):
    """[len(images), 2281] float16 ImageNet features of each image's global view, computed with the
    frozen MobileNetV2 once and kept in cache_dir (keyed by zip path and S)."""
    from model import GlobalNet, imagenet_features
    path = os.path.join(cache_dir, f'global_features_S{S}.npz')
    known = {}
    if os.path.exists(path):
        z = np.load(path)
        known = dict(zip(z['names'].tolist(), z['feats']))
    missing = [i for i, n in enumerate(names) if n not in known]

    def save():
        os.makedirs(cache_dir, exist_ok=True)
        all_names = sorted(known)
        np.savez(path + '.tmp.npz', names=np.array(all_names), feats=np.stack([known[n] for n in all_names]))
        os.replace(path + '.tmp.npz', path)

    if missing:
        t0 = time.time()
        enc = GlobalNet().encoder.to(memory_format=torch.channels_last)
        for k in range(0, len(missing), batch):
            idx = missing[k:k + batch]
            views = torch.cat([global_view(images[i], S) for i in idx]).contiguous(memory_format=torch.channels_last)
            f = imagenet_features(enc, views)
            for i, row in zip(idx, f.half().numpy()):
                known[names[i]] = row
            if (k // batch) % 50 == 49:
                log(f'[data] global features {k + len(idx)}/{len(missing)} ({time.time() - t0:.0f}s)')
                save()
        save()
        log(f'[data] global features for {len(missing)} images in {time.time() - t0:.0f}s -> {path}')
    return torch.from_numpy(np.stack([known[n] for n in names]).astype(np.float32))


def sample_hints(ab, rng, prob=0.5, mean_points=6, max_patch=3):
    """Zhang et al. 2017: with probability `prob`, a few points / small patches of the true a*b*
    (patch means) with a mask; otherwise none. ab [B,2,h,w] -> hints [B,3,h,w]."""
    B, _, h, w = ab.shape
    hints = torch.zeros(B, 3, h, w)
    for i in range(B):
        if rng.random() >= prob:
            continue
        for _ in range(int(rng.geometric(1.0 / mean_points))):  # >= 1 point
            p = int(rng.integers(1, max_patch + 1))
            y, x = int(rng.integers(0, h - p + 1)), int(rng.integers(0, w - p + 1))
            hints[i, :2, y:y + p, x:x + p] = ab[i, :, y:y + p, x:x + p].mean(dim=(1, 2), keepdim=True)
            hints[i, 2, y:y + p, x:x + p] = 1.0
    return hints


def held_out_slice(root, S, start=0, stop=None, min_side=100):
    """Images start:stop of the held-out split with a short side >= min_side (the decision slice),
    in their fixed order, and their global features at S."""
    imgs, names = load_images(root, None, None, 'holdout', 0, min_side=min_side, log=lambda *a: None)
    imgs, names = imgs[start:stop], names[start:stop]
    return imgs, global_features(imgs, names, S, log=lambda *a: None)


class Batcher:
    """Random crop (random scale, upsampled at most 2x) + flip for the local view; the cached
    global features of the whole image, or with `global_size` set (global-view augmentation) an
    augmented global view [B,1,S,S] for the model's frozen encoder; hints sampled from the truth
    part of the time. `small_per_epoch`: each epoch takes every image with a short side >= 100
    and only this many random smaller ones (the 64 px Tiny-ImageNet crops are 63 % of the data).
    `hue_weights`/`hue_balance`: that share of each epoch's slots is drawn with those per-image
    weights (see hue_balance_weights) instead of uniformly.
    `repeats`: per-image epoch multiplicities (float, see source_repeats): an image counted 2.5 takes
    two slots of every epoch and a third half of the time; 1 everywhere is the plain epoch.
    `large_crop`/`large_prob`: that share of the batches is cut at `large_crop` px instead (the
    product's working size is 224) from the images whose short side is at least half of it, so
    no crop is blown up more than 2x; those batches do not advance the epoch."""

    def __init__(self, images, feats, crop=128, batch=32, seed=0, augment=True, hint_prob=0.5,
                 global_size=None, small_per_epoch=None, large_crop=None, large_prob=0.0,
                 hue_weights=None, hue_balance=0.0, repeats=None):
        self.images, self.feats, self.crop, self.batch, self.augment = images, feats, crop, batch, augment
        self.large_crop, self.large_prob = large_crop, large_prob if large_crop else 0.0
        self.large_pool = np.array([i for i, a in enumerate(images) if min(a.shape[:2]) * 2 >= (large_crop or 0)],
                                   dtype=np.int64)
        if self.large_prob > 0 and not len(self.large_pool):
            raise ValueError(f'no image is large enough for {large_crop} px crops')
        self.large_order, self.large_pos = np.zeros(0, dtype=np.int64), 0
        self.global_size = global_size
        self.hint_prob = hint_prob if augment else 0.0
        self.rng = np.random.default_rng(seed)
        self.pos = 0
        self.large = np.array([i for i, a in enumerate(images) if min(a.shape[:2]) >= 100], dtype=np.int64)
        self.small = np.array([i for i, a in enumerate(images) if min(a.shape[:2]) < 100], dtype=np.int64)
        self.small_per_epoch = small_per_epoch
        self.hue_weights, self.hue_balance = hue_weights, hue_balance if hue_weights is not None else 0.0
        self.repeats = repeats
        self.order = self._epoch_order()
        self.epoch = 0

    def _epoch_order(self):
        if self.small_per_epoch is None or self.small_per_epoch >= len(self.small):
            pool = np.arange(len(self.images))
        else:
            pool = np.concatenate([self.large, self.rng.choice(self.small, size=self.small_per_epoch, replace=False)])
        if self.repeats is not None:
            r = self.repeats[pool]
            pool = np.repeat(pool, np.floor(r).astype(np.int64) + (self.rng.random(len(pool)) < r % 1))
        if self.hue_balance > 0:
            # that share of the epoch's slots is drawn by hue weight (with replacement) from the same pool
            k = int(self.rng.binomial(len(pool), self.hue_balance))
            w = self.hue_weights[pool]
            drawn = self.rng.choice(pool, size=k, p=w / w.sum())
            pool = np.concatenate([self.rng.permutation(pool)[:len(pool) - k], drawn])
        return self.rng.permutation(pool)

    def epoch_size(self):
        return len(self.order)

    def _next_index(self):
        if self.pos >= len(self.order):
            self.order = self._epoch_order()
            self.pos = 0
            self.epoch += 1
        i = self.order[self.pos]
        self.pos += 1
        return i

    def _next_large_index(self):
        if self.large_pos >= len(self.large_order):
            self.large_order, self.large_pos = self.rng.permutation(self.large_pool), 0
        self.large_pos += 1
        return self.large_order[self.large_pos - 1]

    def sample(self, arr, C=None):
        rng, C = self.rng, C or self.crop
        x = _to_tensor(arr)
        h, w = arr.shape[:2]
        short = min(h, w)
        if self.augment:
            lo = min(short, (C + 1) // 2)
            c = int(rng.integers(lo, short + 1)) if short > lo else short
            y0, x0 = int(rng.integers(0, h - c + 1)), int(rng.integers(0, w - c + 1))
            flip = bool(rng.integers(0, 2))
        else:
            c = short
            y0, x0 = (h - c) // 2, (w - c) // 2
            flip = False
        loc = x[:, :, y0:y0 + c, x0:x0 + c]
        loc = F.interpolate(loc, size=(C, C), mode='bilinear', align_corners=False, antialias=c > C) if c != C else loc
        return loc.flip(3) if flip else loc

    def batch_from(self, idx, crop=None):
        self.last_indices = list(idx)  # whose crops the batch holds (the auxiliary loss reads their class labels)
        rgb = torch.cat([self.sample(self.images[i], crop) for i in idx])
        L, ab = make_batch(rgb)
        hints = sample_hints(ab, self.rng, self.hint_prob) if self.hint_prob > 0 else torch.zeros(len(idx), 3, *ab.shape[2:])
        if self.global_size:
            g = torch.cat([global_view(self.images[i], self.global_size, self.rng if self.augment else None) for i in idx])
        else:
            g = self.feats[list(idx)]
        return L, ab, g, hints, rgb

    def next(self):
        if self.large_prob > 0 and self.rng.random() < self.large_prob:
            return self.batch_from([self._next_large_index() for _ in range(self.batch)], self.large_crop)
        return self.batch_from([self._next_index() for _ in range(self.batch)])

    def all_batches(self):
        for k in range(0, len(self.images), self.batch):
            yield self.batch_from(range(k, min(k + self.batch, len(self.images))))


def hue_profile(images, side=32):
    """[len(images), 6]: each image's share of pixels with chroma >= TRUE_CHROMA_MIN in each 60-degree sector of
    hue (the hue-recall sectors), measured on a <= `side` px subsample of the stored image."""
    out = np.zeros((len(images), 6), dtype=np.float32)
    for i, arr in enumerate(images):
        step = max(1, min(arr.shape[:2]) // side)
        lab = rgb_to_lab(_to_tensor(arr[::step, ::step]))
        a, b = lab[0, 1].flatten(), lab[0, 2].flatten()
        sector = hue_sector(torch.atan2(b, a)[torch.sqrt(a * a + b * b) >= TRUE_CHROMA_MIN])
        out[i] = torch.bincount(sector, minlength=6).numpy() / a.numel()
    return out


def source_repeats(names, spec):
    """Per-image epoch multiplicities from 'SOURCE=W,...' (the first folder of an image's path in its
    zip, e.g. camvid=4): a data-mix lever towards sources the plain mix under-represents. Returns
    (repeats, {source: (its images, its weight)})."""
    weights = {}
    for part in filter(None, (p.strip() for p in spec.split(','))):
        source, _, w = part.partition('=')
        try:
            weights[source] = float(w)
        except ValueError:
            raise SystemExit(f'--source-weights: {part!r} is not SOURCE=WEIGHT') from None
        if weights[source] < 0:
            raise SystemExit(f'--source-weights: {source} has a negative weight')
    sources = [n.split('/')[0] for n in names]
    unknown = sorted(set(weights) - set(sources))
    if unknown:
        raise SystemExit(f'--source-weights: no training image comes from {", ".join(unknown)}')
    repeats = np.array([weights.get(src, 1.0) for src in sources], dtype=np.float64)
    summary = {src: (sources.count(src), w) for src, w in weights.items()}
    return repeats, summary


def hue_balance_weights(profile, max_boost=8.0):
    """Per-image sampling weights (mean 1) that raise the rare hue sectors' share of the sampled
    chromatic pixels: each image counts its pixels of sector s at (mean share / share of s), capped
    at `max_boost`, and its other pixels at 1 (what an average chromatic pixel counts).
    Returns (weights, sector shares of the chromatic pixels before, and as drawn by weight)."""
    mass = profile.sum(axis=0)
    share = mass / mass.sum()
    present = share > 0
    boost = np.where(present, np.minimum(share[present].mean() / np.maximum(share, 1e-12), max_boost), 0.0)
    w = profile @ boost + (1.0 - profile.sum(axis=1))
    w = w / w.mean()
    after = (profile * w[:, None]).sum(axis=0)
    return w.astype(np.float64), share, after / after.sum()


def make_batch(rgb):
    lab = rgb_to_lab(rgb.clamp(0, 1))
    L = (lab[:, :1] - 50.0) / 100.0
    ab = F.avg_pool2d(lab[:, 1:], 4)  # target on the 1/4 output grid
    return L, ab


def class_labels(names, wnids, extra=None):
    """Class index of each training image for the auxiliary classification loss on the global branch
    (Iizuka et al. 2016), or -1 where its source has none. ImageNet-derived images (Tiny-ImageNet's
    wnid folders, imagenet-sample's `WNID_name.jpg`) take the index of their wnid in `wnids` (the
    npz's 1001 classes); the class folders of the other labelled sources (intel scenes, flowers,
    cats and dogs) become extra classes after those, in sorted order, or as `extra` lists them (a
    resumed run keeps its checkpoint's). Returns (labels, extra)."""
    index = {str(w): i for i, w in enumerate(wnids)}
    if extra is None:
        extra = sorted({'/'.join(n.split('/')[:2]) for n in names
                        if n.split('/')[0] in ('intel', 'flowers', 'catsdogs') and n.count('/') == 2 and n.split('/')[1] != 'unlabeled'})
    extra_index = {key: len(wnids) + i for i, key in enumerate(extra)}
    labels = np.full(len(names), -1, dtype=np.int64)
    for k, n in enumerate(names):
        parts = n.split('/')
        if parts[0] == 'tinyimagenet' and len(parts) == 3:
            labels[k] = index.get(parts[1], -1)
        elif parts[0] == 'imagenet-sample':
            labels[k] = index.get(parts[-1].split('_')[0], -1)
        else:
            labels[k] = extra_index.get('/'.join(parts[:2]), -1)
    return labels, list(extra)

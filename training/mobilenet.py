"""ImageNet MobileNetV2 1.0 (TF-slim, BatchNorm folded) from
`../shared/pretrained/mobilenet_v2_imagenet.npz`, with TensorFlow SAME padding.

`MobileNetV2(npz).forward(x)` returns a dict of taps {2, 4, 8, 16, 32, 'last'}
(features.1, .3, .6, .13, .17, .18) and, on request, the 1001 ImageNet logits.
Input: RGB NCHW, x = (pixel - 128) / 128; for gray, the luma repeated 3 times.

SAME padding depends on the parity of each size. In eager mode it is computed
from the actual shape. The exported graphs are traced at sizes that are multiples
of 32, where every stride-2 conv sees an even size and pads (0 before, 1 after);
model.json's `multipleOf` = 32 keeps the pipeline on such sizes.
"""
import os

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
# ../shared/pretrained beside the project; COLORIZE_PRETRAINED points elsewhere (e.g. on a GPU host, .data/pretrained)
PRETRAINED = os.environ.get('COLORIZE_PRETRAINED') or os.path.normpath(os.path.join(HERE, '..', '..', 'shared', 'pretrained'))
NPZ = os.path.join(PRETRAINED, 'mobilenet_v2_imagenet.npz')

# (cin, cout, stride, expand) for features.1 .. features.17
BLOCKS = [(32, 16, 1, 1), (16, 24, 2, 6), (24, 24, 1, 6), (24, 32, 2, 6), (32, 32, 1, 6), (32, 32, 1, 6),
          (32, 64, 2, 6), (64, 64, 1, 6), (64, 64, 1, 6), (64, 64, 1, 6), (64, 96, 1, 6), (96, 96, 1, 6),
          (96, 96, 1, 6), (96, 160, 2, 6), (160, 160, 1, 6), (160, 160, 1, 6), (160, 320, 1, 6)]
TAPS = {1: 2, 3: 4, 6: 8, 13: 16, 17: 32}  # block index -> stride of its output


def same_pad(x, k, s):
    """TensorFlow SAME: out = ceil(n/s), total = max((out-1)*s + k - n, 0), total//2 before."""
    pads = []
    for n in (x.shape[-1], x.shape[-2]):  # F.pad order: last dim first
        n = int(n)
        out = -(-n // s)
        total = max((out - 1) * s + k - n, 0)
        pads += [total // 2, total - total // 2]
    return F.pad(x, pads) if any(pads) else x


class SameConv(nn.Conv2d):
    def __init__(self, cin, cout, k, stride=1, groups=1):
        super().__init__(cin, cout, k, stride=stride, padding=0, groups=groups, bias=True)

    def forward(self, x):
        if self.kernel_size[0] > 1:
            x = same_pad(x, self.kernel_size[0], self.stride[0])
        return super().forward(x)


class Block(nn.Module):
    def __init__(self, cin, cout, stride, expand):
        super().__init__()
        hid = cin * expand
        self.expand = SameConv(cin, hid, 1) if expand != 1 else None
        self.dw = SameConv(hid, hid, 3, stride, groups=hid)
        self.project = SameConv(hid, cout, 1)
        self.residual = stride == 1 and cin == cout

    def forward(self, x):
        y = F.relu6(self.expand(x)) if self.expand is not None else x
        y = self.project(F.relu6(self.dw(y)))
        return x + y if self.residual else y


class MobileNetV2(nn.Module):
    """Frozen ImageNet MobileNetV2. `upto` = last block needed (17, or 18 for the 1280-d features)."""

    def __init__(self, npz=NPZ, upto=18, classifier=False):
        super().__init__()
        self.upto = upto
        self.stem = SameConv(3, 32, 3, 2)
        self.blocks = nn.ModuleList(Block(*b) for b in BLOCKS[:min(upto, 17)])
        self.head = SameConv(320, 1280, 1) if upto >= 18 else None
        self.classifier = nn.Linear(1280, 1001) if classifier else None
        if npz:
            self.load(npz)
        for p in self.parameters():
            p.requires_grad_(False)
        self.trainable_from = None
        self.eval()

    def unfreeze_from(self, block):
        """Fine-tune blocks `block`..17 (features.N numbering); the stem and earlier blocks stay frozen."""
        if not 1 <= block <= len(self.blocks):
            raise SystemExit(f'cannot fine-tune from block {block}: blocks are 1..{len(self.blocks)}')
        self.trainable_from = block
        for i, b in enumerate(self.blocks, start=1):
            b.requires_grad_(i >= block)

    def train(self, mode=True):
        return super().train(False)  # BatchNorm is folded: nothing changes with mode; keep eval

    @torch.no_grad()
    def load(self, path):
        if not os.path.exists(path):
            raise SystemExit(f'missing {path} (see ../shared/pretrained/README.md)')
        w = np.load(path)

        def put(conv, key):
            conv.weight.copy_(torch.from_numpy(w[key + '.weight']))
            conv.bias.copy_(torch.from_numpy(w[key + '.bias']))

        put(self.stem, 'features.0.conv')
        for i, b in enumerate(self.blocks, start=1):
            if b.expand is not None:
                put(b.expand, f'features.{i}.expand')
            put(b.dw, f'features.{i}.dw')
            put(b.project, f'features.{i}.project')
        if self.head is not None:
            put(self.head, 'features.18.conv')
        if self.classifier is not None:
            self.classifier.weight.copy_(torch.from_numpy(w['classifier.weight']))
            self.classifier.bias.copy_(torch.from_numpy(w['classifier.bias']))

    def forward(self, x):
        return self.part(x, 0, None)

    def part(self, x, first, last):
        """Blocks first..last (0 = the stem; last None = through the head and classifier) -> taps;
        with a `last`, taps['out'] is the activation after that block."""
        taps = {}
        if first == 0:
            x = F.relu6(self.stem(x))
        for i, b in enumerate(self.blocks, start=1):
            if i < first or (last is not None and i > last):
                continue
            x = b(x)
            if i in TAPS:
                taps[TAPS[i]] = x
        if last is not None:
            taps['out'] = x
            return taps
        if self.head is not None:
            x = F.relu6(self.head(x))
            taps['last'] = x
            if self.classifier is not None:
                taps['logits'] = self.classifier(x.mean(dim=(2, 3)))
        return taps


def lightness_to_input(L):
    """Normalised L* ((L - 50) / 100, the pipeline's input) -> MobileNetV2 input:
    gamma-encoded sRGB gray (what a gray photo's pixels are), (v - 128) / 128, on 3 channels."""
    Lstar = L * 100.0 + 50.0
    fy = (Lstar + 16.0) / 116.0
    Y = torch.where(fy > 6.0 / 29.0, fy ** 3, 3.0 * (6.0 / 29.0) ** 2 * (fy - 4.0 / 29.0)).clamp(0, 1)
    v = torch.where(Y <= 0.0031308, Y * 12.92, 1.055 * Y.clamp(min=1e-12) ** (1 / 2.4) - 0.055)
    x = (v * 255.0 - 128.0) / 128.0
    return x.expand(-1, 3, -1, -1)


def check(path=None, npz=NPZ, tol=1e-3):
    """Compare against mobilenet_v2_check.npz; returns the worst absolute difference."""
    path = path or os.path.join(os.path.dirname(npz), 'mobilenet_v2_check.npz')
    c = np.load(path)
    net = MobileNetV2(npz, classifier=True)
    names = sorted({k.split('.')[0] for k in c.files})
    worst = 0.0
    with torch.no_grad():
        for name in names:
            taps = net(torch.from_numpy(c[f'{name}.input']))
            for s in (2, 4, 8, 16, 32, 'last'):
                t = taps[s]
                assert list(t.shape) == [int(v) for v in c[f'{name}.tap_{s}.shape']], (name, s, t.shape)
                d = np.abs(t.mean(dim=(2, 3)).numpy() - c[f'{name}.tap_{s}.channel_mean']).max()
                worst = max(worst, float(d))
            ref = c[f'{name}.logits']
            if np.abs(ref).sum() > 0:
                worst = max(worst, float(np.abs(taps['logits'].numpy() - ref).max()))
                assert int(taps['logits'].argmax()) == int(ref.argmax()), name
    if worst > tol:
        raise SystemExit(f'MobileNetV2 check failed: max difference {worst:.2e} > {tol}')
    return worst


if __name__ == '__main__':
    print(f'MobileNetV2 matches mobilenet_v2_check.npz: max difference {check():.2e}')

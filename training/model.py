"""Iizuka et al. 2016-style colorizer on a pretrained ImageNet encoder
(Baldassarre et al. 2017): the frozen MobileNetV2 of `mobilenet.py` serves both
networks.

- Global network (once per shot): MobileNetV2 on an S x S view -> pooled 1280-d
  features and the 1001 ImageNet logits (the paper's classification branch,
  pretrained) -> MLP -> G-d global vector.
- Local network (every frame): the same frozen MobileNetV2 on the frame, taps at
  1/4, 1/8, 1/16, 1/32 into a U-Net decoder (Olah & Yang); the global vector is
  fused at 1/32; optional colour hints (Zhang et al. 2017: a*, b*, mask on the
  1/4 grid) enter every decoder level; 313-bin logits (or a*b*) at 1/4.

The frozen encoders come from the npz at load time; checkpoints hold only the
trained parts. With `finetune_from` N the local network's encoder blocks N..17 are
trained too (the global network's encoder stays ImageNet's).
"""
import torch
import torch.nn as nn
import torch.nn.functional as F

from color import annealed_mean
from mobilenet import NPZ, MobileNetV2, lightness_to_input

Q = 313
G = 256
GLOBAL_IN = 1280 + 1001
HINT_SCALE = 100.0  # hint a*b* enter the decoder divided by this


def conv_bn(cin, cout, k=3):
    return nn.Sequential(nn.Conv2d(cin, cout, k, padding=k // 2, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True))


class GlobalHead(nn.Module):
    """The trained part of the global network: frozen ImageNet features -> G-d vector."""

    def __init__(self):
        super().__init__()
        self.mlp = nn.Sequential(nn.Linear(GLOBAL_IN, 512), nn.ReLU(inplace=True), nn.Linear(512, G))

    def forward(self, f):
        return self.mlp(f)


# Training only: the frozen encoders run on pieces of this many images. On the CPU a whole batch
# of 32 spills every activation out of cache: a piece of 4 runs the 224 px global view ~6x faster
# per image (36 -> 212 images/s in bf16 on 2 cores). None (export, eval): the whole batch at once.
ENCODER_CHUNK = None


def run_frozen(encoder, x):
    """encoder(x) (a dict of taps) without gradients, in pieces of ENCODER_CHUNK images."""
    with torch.no_grad():
        if not ENCODER_CHUNK or x.shape[0] <= ENCODER_CHUNK or torch.jit.is_tracing() or torch.onnx.is_in_onnx_export():
            return encoder(x)
        parts = [encoder(x[k:k + ENCODER_CHUNK]) for k in range(0, x.shape[0], ENCODER_CHUNK)]
        return {key: torch.cat([p[key] for p in parts]) for key in parts[0]}


def run_encoder(encoder, x):
    """The encoder's taps: the frozen part without gradients (in pieces), the fine-tuned blocks with them."""
    k = encoder.trainable_from
    if k is None:
        return run_frozen(encoder, x)
    taps = run_frozen(lambda y: encoder.part(y, 0, k - 1), x)
    return {**taps, **encoder.part(taps.pop('out'), k, None)}


def imagenet_features(encoder, L):
    """Normalised L [N,1,S,S] -> [N, 1280 + 1001]: pooled features and logits/10."""
    t = run_frozen(encoder, lightness_to_input(L))
    return torch.cat([t['last'].mean(dim=(2, 3)), t['logits'] * 0.1], dim=1)


class GlobalNet(nn.Module):
    def __init__(self, npz=NPZ):
        super().__init__()
        self.encoder = MobileNetV2(npz, upto=18, classifier=True)
        self.head = GlobalHead()

    def forward(self, L):
        return self.head(imagenet_features(self.encoder, L))


def pool_hints(h, k):
    return F.avg_pool2d(h, k) if k > 1 else h


class Decoder(nn.Module):
    """Encoder taps + global vector (+ hints) -> logits [N,Q,H/4,W/4] or ab/100 [N,2,...]."""

    def __init__(self, head='class', widths=(192, 128, 96, 48)):
        super().__init__()
        w32, w16, w8, w4 = widths
        self.proj32 = conv_bn(320, 128, 1)
        self.fuse = conv_bn(128 + G, w32, 1)
        self.c32 = conv_bn(w32, w32)
        self.proj16 = conv_bn(96, 96, 1)
        self.c16 = nn.Sequential(conv_bn(w32 + 96 + 3, w16), conv_bn(w16, w16))
        self.proj8 = conv_bn(32, 64, 1)
        self.c8 = nn.Sequential(conv_bn(w16 + 64 + 3, w8), conv_bn(w8, w8))
        self.proj4 = conv_bn(24, 32, 1)
        self.c4 = nn.Sequential(conv_bn(w8 + 32 + 3, w4), conv_bn(w4, w4))
        self.head_kind = head
        self.head = nn.Conv2d(w4, Q if head == 'class' else 2, 1)
        if head != 'class':
            nn.init.normal_(self.head.weight, std=1e-3)
            nn.init.zeros_(self.head.bias)

    def forward(self, taps, g, hints):
        up = lambda x: F.interpolate(x, scale_factor=2.0, mode='nearest')  # noqa: E731
        x = self.proj32(taps[32])
        gx = g[:, :, None, None].expand(-1, -1, x.shape[2], x.shape[3])
        x = self.c32(self.fuse(torch.cat([x, gx], dim=1)))
        x = self.c16(torch.cat([up(x), self.proj16(taps[16]), pool_hints(hints, 4)], dim=1))
        x = self.c8(torch.cat([up(x), self.proj8(taps[8]), pool_hints(hints, 2)], dim=1))
        x = self.c4(torch.cat([up(x), self.proj4(taps[4]), hints], dim=1))
        return self.head(x)


def normalise_hints(hints):
    """Hints as the pipeline gives them ([N,3,h,w]: a*, b* in Lab units, mask) -> decoder input."""
    return torch.cat([hints[:, :2] * (hints[:, 2:3] / HINT_SCALE), hints[:, 2:3]], dim=1)


class LocalNet(nn.Module):
    """L [N,1,H,W] (normalised, H and W multiples of 32) + global [N,G] + hints [N,3,H/4,W/4]."""

    def __init__(self, head='class', npz=NPZ):
        super().__init__()
        self.encoder = MobileNetV2(npz, upto=17)
        self.decoder = Decoder(head)
        self.head_kind = head

    def forward(self, L, g, hints=None):
        taps = run_encoder(self.encoder, lightness_to_input(L))
        if hints is None:
            hints = L.new_zeros(L.shape[0], 3, L.shape[2] // 4, L.shape[3] // 4)
        return self.decoder(taps, g, normalise_hints(hints))


class Colorizer(nn.Module):
    def __init__(self, head='class', global_size=224, npz=NPZ, finetune_from=None):
        super().__init__()
        self.glob = GlobalNet(npz)
        self.local = LocalNet(head, npz)
        self.config = dict(arch='mnv2-unet', head=head, global_size=global_size)
        if finetune_from:
            self.finetune_local_encoder(finetune_from)

    def finetune_local_encoder(self, block):
        """Train the local network's encoder from `block` on (the global network's stays ImageNet's)."""
        self.local.encoder.unfreeze_from(block)
        self.config['finetune_from'] = block

    def forward(self, L, Lg=None, hints=None, global_in=None):
        """global_in: precomputed imagenet_features of the global view (training caches them)."""
        f = global_in if global_in is not None else imagenet_features(self.glob.encoder, Lg)
        return self.local(L, self.glob.head(f), hints)

    def trained_state(self):
        """What a checkpoint keeps: everything but the ImageNet encoders, whose fine-tuned blocks excepted."""
        first = self.config.get('finetune_from')
        tuned = lambda name: bool(first) and name.startswith('local.encoder.blocks.') and int(name.split('.')[3]) + 1 >= first  # noqa: E731
        return {k: v for k, v in self.state_dict().items() if '.encoder.' not in k or tuned(k)}


def decode(out, head, bins, T):
    """Network output -> ab in Lab units."""
    return annealed_mean(out, bins, T) if head == 'class' else out * 100.0


class LocalExport(nn.Module):
    """What goes into colorizer.onnx: decoding included, output ab in Lab units."""

    def __init__(self, local, bins, T, gain=1.0):
        super().__init__()
        self.local = local
        self.head = local.head_kind
        self.T = float(T)
        self.gain = float(gain)
        # expectation over the bins as a fixed 1x1 conv: ab = sum_q p_q * bin_q
        self.register_buffer('bins_w', (bins.t() * self.gain).contiguous().view(2, -1, 1, 1))

    def forward(self, L, global_features, hints):
        out = self.local(L, global_features, hints)
        if self.head == 'class':
            return F.conv2d(F.softmax(out / self.T, dim=1), self.bins_w)
        return out * (100.0 * self.gain)


def count_macs(module, *inputs):
    """Multiply-accumulates of conv / linear layers, counted with forward hooks."""
    total = [0]

    def hook(m, inp, out):
        if isinstance(m, nn.Conv2d):
            total[0] += out.numel() * m.weight.shape[1] * m.weight.shape[2] * m.weight.shape[3]
        elif isinstance(m, nn.Linear):
            total[0] += out.numel() * m.in_features

    hs = [m.register_forward_hook(hook) for m in module.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
    with torch.no_grad():
        module(*inputs)
    for h in hs:
        h.remove()
    return total[0]


if __name__ == '__main__':
    import sys
    m = Colorizer(head=sys.argv[1] if len(sys.argv) > 1 else 'class').eval()
    h, w = 224, 416  # 224 x 400 rounded up to the multiple of 32 the pipeline uses
    local_macs = count_macs(m.local, torch.zeros(1, 1, h, w), torch.zeros(1, G))
    dec_macs = local_macs - count_macs(m.local.encoder, torch.zeros(1, 3, h, w))
    S = m.config['global_size']
    glob_macs = count_macs(m.glob, torch.zeros(1, 1, S, S))
    trained = sum(p.numel() for n, p in m.named_parameters() if '.encoder.' not in n)
    print(f'local {h}x{w}: {local_macs / 1e9:.2f} GMAC ({local_macs / (h * w):.0f} MAC/px; decoder {dec_macs / 1e9:.2f})')
    print(f'global {S}x{S}: {glob_macs / 1e9:.2f} GMAC; trained parameters {trained / 1e6:.2f} M')

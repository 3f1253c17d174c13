"""Iizuka et al. 2016-style colorizer: a global network (S x S view -> 256-d vector)
and a local network (L at any size, fused with the global vector) -> a*b* at 1/4.

Both networks start from ECCV16 (Zhang et al.) conv1-conv3 weights. The global
network keeps the full-width ECCV16 conv1-3 stack (frozen, it runs once per
shot); the local network uses a half-width slice of it (32/64/128 channels,
output channels with the largest filter norms kept, input channels and BN
statistics sliced consistently) so that it fits the per-frame budget.
"""
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from color import annealed_mean

Q = 313
G = 256


def conv(cin, cout, stride=1, dil=1, k=3):
    return nn.Conv2d(cin, cout, k, stride=stride, padding=dil * (k // 2), dilation=dil)


# ---------------------------------------------------------------- ECCV16 init helpers

ECCV_LOW = [  # (name, stride, bn after this conv)
    ('bw_conv1_1', 1, None), ('conv1_2', 2, 'conv1_2norm'),
    ('conv2_1', 1, None), ('conv2_2', 2, 'conv2_2norm'),
    ('conv3_1', 1, None), ('conv3_2', 1, None), ('conv3_3', 2, 'conv3_3norm'),
]


def _top(w, n):
    """Indices of the n output channels with the largest filter L2 norm (sorted)."""
    norms = w.reshape(w.shape[0], -1).norm(dim=1)
    return norms.topk(n).indices.sort().values


class LowLevel(nn.Module):
    """ECCV16 conv1_1..conv3_3 at `width` (64 = original), ReLU after each conv and
    BatchNorm after conv1_2, conv2_2, conv3_3 as in ECCV16. Output: 4*width ch at 1/8."""

    def __init__(self, width=64, affine=True):
        super().__init__()
        w1, w2, w3 = width, 2 * width, 4 * width
        chans = [(1, w1), (w1, w1), (w1, w2), (w2, w2), (w2, w3), (w3, w3), (w3, w3)]
        self.convs = nn.ModuleList()
        self.norms = nn.ModuleDict()
        for (name, stride, bn), (cin, cout) in zip(ECCV_LOW, chans):
            self.convs.append(conv(cin, cout, stride))
            if bn:
                self.norms[str(len(self.convs) - 1)] = nn.BatchNorm2d(cout, affine=affine)
        self.out_channels = w3

    def forward(self, x):
        for i, c in enumerate(self.convs):
            x = F.relu(c(x))
            if str(i) in self.norms:
                x = self.norms[str(i)](x)
        return x

    @torch.no_grad()
    def load_eccv(self, w):
        """Copy ECCV16 weights, keeping the strongest output channels when slimmer."""
        keep_in = torch.arange(1)
        for i, (name, _, bn) in enumerate(ECCV_LOW):
            W = torch.from_numpy(w[name + '.weight'])[:, keep_in]
            b = torch.from_numpy(w[name + '.bias'])
            c = self.convs[i]
            keep_out = _top(W, c.out_channels) if c.out_channels < W.shape[0] else torch.arange(W.shape[0])
            c.weight.copy_(W[keep_out])
            c.bias.copy_(b[keep_out])
            if bn:
                n = self.norms[str(i)]
                n.running_mean.copy_(torch.from_numpy(w[bn + '.running_mean'])[keep_out])
                n.running_var.copy_(torch.from_numpy(w[bn + '.running_var'])[keep_out])
            keep_in = keep_out


class GlobalNet(nn.Module):
    """S x S view of L -> G-d global feature vector."""

    def __init__(self, freeze_base=True):
        super().__init__()
        self.base = LowLevel(64, affine=False)  # full-width ECCV16 conv1-3, 1/8
        self.freeze_base = freeze_base
        self.conv4 = conv(256, 256, stride=2)  # 1/16
        self.bn4 = nn.BatchNorm2d(256)
        self.conv5 = conv(256, 256, stride=2)  # 1/32
        self.bn5 = nn.BatchNorm2d(256)
        self.fc1 = nn.Linear(256, 512)
        self.fc2 = nn.Linear(512, G)
        if freeze_base:
            for p in self.base.parameters():
                p.requires_grad_(False)

    def train(self, mode=True):
        super().train(mode)
        if self.freeze_base:
            self.base.eval()  # frozen: keep the ECCV16 BatchNorm statistics
        return self

    def forward(self, x):
        if self.freeze_base and torch.is_grad_enabled():
            with torch.no_grad():
                f = self.base(x)
        else:
            f = self.base(x)
        f = self.bn4(F.relu(self.conv4(f)))
        f = self.bn5(F.relu(self.conv5(f)))
        f = f.mean(dim=(2, 3))
        return self.fc2(F.relu(self.fc1(f)))


class LocalNet(nn.Module):
    """L [N,1,H,W] + global [N,G] -> logits [N,Q,H/4,W/4] (classification) or ab [N,2,H/4,W/4]."""

    def __init__(self, width=32, mid=192, dec=128, head='class'):
        super().__init__()
        self.low = LowLevel(width)
        c3 = self.low.out_channels
        self.mid1 = conv(c3, mid)                    # mid-level, 1/8
        self.mid2 = conv(mid, mid, dil=2)
        self.bn_mid = nn.BatchNorm2d(mid)
        self.fuse = nn.Conv2d(mid + G, mid, 1)       # fusion layer
        # stride-2 transposed conv with a 2x2 kernel to 1/4, written as its exact
        # equivalent 1x1 conv + depth-to-space (PixelShuffle): the same operator,
        # but PyTorch's CPU ConvTranspose2d is a slow non-MKLDNN path.
        self.up = nn.Sequential(nn.Conv2d(mid, 4 * dec, 1), nn.PixelShuffle(2))
        self.conv8_3 = conv(dec, dec)
        self.head_kind = head
        self.head = nn.Conv2d(dec, Q if head == 'class' else 2, 1)
        if head != 'class':
            nn.init.normal_(self.head.weight, std=1e-3)
            nn.init.zeros_(self.head.bias)

    def forward(self, L, g):
        x = self.low(L)
        x = F.relu(self.mid1(x))
        x = self.bn_mid(F.relu(self.mid2(x)))
        gx = g[:, :, None, None].expand(-1, -1, x.shape[2], x.shape[3])
        x = F.relu(self.fuse(torch.cat([x, gx], dim=1)))
        x = F.relu(self.up(x))
        x = F.relu(self.conv8_3(x))
        return self.head(x)

    @torch.no_grad()
    def load_eccv(self, w):
        self.low.load_eccv(w)
        W = torch.from_numpy(w['conv8_3.weight'])
        b = torch.from_numpy(w['conv8_3.bias'])
        n = self.conv8_3.out_channels
        keep_out = _top(W, n)
        keep_in = _top(W.transpose(0, 1), n)  # inputs come from a new layer: keep the strongest
        self.conv8_3.weight.copy_(W[keep_out][:, keep_in])
        self.conv8_3.bias.copy_(b[keep_out])
        if self.head_kind == 'class':
            self.head.weight.copy_(torch.from_numpy(w['conv8_313.weight'])[:, keep_out])
            self.head.bias.copy_(torch.from_numpy(w['conv8_313.bias']))


class Colorizer(nn.Module):
    def __init__(self, head='class', width=32, mid=192, dec=128, global_size=64):
        super().__init__()
        self.glob = GlobalNet()
        self.local = LocalNet(width, mid, dec, head)
        self.config = dict(head=head, width=width, mid=mid, dec=dec, global_size=global_size)

    def forward(self, L, Lg):
        return self.local(L, self.glob(Lg))

    def load_eccv(self, npz_path):
        w = np.load(npz_path)
        self.glob.base.load_eccv(w)
        self.local.load_eccv(w)


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
        self.gain = float(gain)  # chroma gain, folded into the graph
        # expectation over the bins as a fixed 1x1 conv: ab = sum_q p_q * bin_q
        self.register_buffer('bins_w', (bins.t() * self.gain).contiguous().view(2, -1, 1, 1))

    def forward(self, L, global_features):
        out = self.local(L, global_features)
        if self.head == 'class':
            p = F.softmax(out / self.T, dim=1)
            return F.conv2d(p, self.bins_w)
        return out * (100.0 * self.gain)


def count_macs(module, *inputs):
    """Multiply-accumulates of conv / linear layers, counted with forward hooks."""
    total = [0]

    def hook(m, inp, out):
        if isinstance(m, nn.Conv2d):
            k = m.weight.shape[1] * m.weight.shape[2] * m.weight.shape[3]
            total[0] += out.numel() * k
        elif isinstance(m, nn.ConvTranspose2d):
            total[0] += inp[0].numel() * m.weight.shape[1] * m.weight.shape[2] * m.weight.shape[3]
        elif isinstance(m, nn.Linear):
            total[0] += out.numel() * m.in_features

    hs = [m.register_forward_hook(hook) for m in module.modules()
          if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear))]
    with torch.no_grad():
        module(*inputs)
    for h in hs:
        h.remove()
    return total[0]


if __name__ == '__main__':
    import sys
    m = Colorizer(head=sys.argv[1] if len(sys.argv) > 1 else 'class').eval()
    h, w = 224, 400
    local_macs = count_macs(m.local, torch.zeros(1, 1, h, w), torch.zeros(1, G))
    S = m.config['global_size']
    glob_macs = count_macs(m.glob, torch.zeros(1, 1, S, S))
    np_local = sum(p.numel() for p in m.local.parameters())
    np_glob = sum(p.numel() for p in m.glob.parameters())
    print(f'local {h}x{w}: {local_macs / 1e9:.2f} GMAC ({local_macs / (h * w):.0f} MAC/px), {np_local / 1e6:.2f} M params')
    print(f'global {S}x{S}: {glob_macs / 1e9:.2f} GMAC, {np_glob / 1e6:.2f} M params')

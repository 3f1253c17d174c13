"""sRGB (D65) <-> CIE Lab in torch, and the 313-bin a*b* quantisation helpers.

All tensors are NCHW float32. RGB is in [0, 1]. L in [0, 100], a*/b* in Lab units.
The white point is computed from the sRGB->XYZ matrix itself, so any gray
(r == g == b) maps to a* = b* = 0 exactly (up to float rounding).
"""
import os

import numpy as np
import torch
import torch.nn.functional as F

_M = torch.tensor([[0.4124564, 0.3575761, 0.1804375],
                   [0.2126729, 0.7151522, 0.0721750],
                   [0.0193339, 0.1191920, 0.9503041]], dtype=torch.float32)
_M_INV = torch.linalg.inv(_M.double()).float()
_WHITE = _M.sum(dim=1)  # XYZ of RGB (1,1,1): D65 white as the matrix defines it
_EPS = (6.0 / 29.0) ** 3
_K = 3.0 * (6.0 / 29.0) ** 2


def _mix(m, x):
    """Apply a 3x3 matrix over the channel axis of an NCHW tensor."""
    return torch.einsum('ij,njhw->nihw', m.to(x.device, x.dtype), x)


def srgb_to_linear(c):
    return torch.where(c <= 0.04045, c / 12.92, ((c.clamp(min=0) + 0.055) / 1.055) ** 2.4)


def linear_to_srgb(c):
    c = c.clamp(0, 1)
    return torch.where(c <= 0.0031308, c * 12.92, 1.055 * c.clamp(min=1e-12) ** (1 / 2.4) - 0.055)


def rgb_to_lab(rgb):
    xyz = _mix(_M, srgb_to_linear(rgb)) / _WHITE.to(rgb.device).view(1, 3, 1, 1)
    f = torch.where(xyz > _EPS, xyz.clamp(min=1e-12) ** (1.0 / 3.0), xyz / _K + 4.0 / 29.0)
    L = 116.0 * f[:, 1:2] - 16.0
    a = 500.0 * (f[:, 0:1] - f[:, 1:2])
    b = 200.0 * (f[:, 1:2] - f[:, 2:3])
    return torch.cat([L, a, b], dim=1)


def lab_to_rgb(lab):
    L, a, b = lab[:, 0:1], lab[:, 1:2], lab[:, 2:3]
    fy = (L + 16.0) / 116.0
    fx = fy + a / 500.0
    fz = fy - b / 200.0
    f = torch.cat([fx, fy, fz], dim=1)
    xyz = torch.where(f > 6.0 / 29.0, f ** 3, _K * (f - 4.0 / 29.0))
    xyz = xyz * _WHITE.to(lab.device).view(1, 3, 1, 1)
    return linear_to_srgb(_mix(_M_INV, xyz))


# ---------------------------------------------------------------- 313 bins

def load_bins(path):
    """The 313 a*b* bin centres: `pts_in_hull` of the ECCV16 npz, or a .npy holding just that array."""
    if path.endswith('.npz') and not os.path.exists(path) and os.path.exists(path[:-4] + '_bins.npy'):
        path = path[:-4] + '_bins.npy'
    arr = np.load(path)
    arr = arr if isinstance(arr, np.ndarray) else arr['pts_in_hull']
    return torch.from_numpy(arr.astype(np.float32))  # [313, 2]


def bin_distances(ab, bins):
    """ab [N,2,h,w] -> squared distances to every bin [N*h*w, Q] (pixels in (n, y, x) order).
    As a matrix product: torch.cdist was 160 ms for a batch of 32 x 32 x 32 pixels on 2 cores."""
    flat = ab.permute(0, 2, 3, 1).reshape(-1, 2)
    bins = bins.to(ab.device, ab.dtype)
    return ((flat * flat).sum(1, keepdim=True) - 2.0 * flat @ bins.t() + (bins * bins).sum(1)).clamp_(min=0)


def soft_encode_sparse(ab, bins, k=5, sigma=5.0):
    """ab [N,2,h,w] -> (indices, weights), each [N,k,h,w]: Gaussian weights on the k nearest bins,
    nearest first (so indices[:, 0] is the nearest bin)."""
    n, _, h, w = ab.shape
    dk, ik = bin_distances(ab, bins).topk(k, dim=1, largest=False)  # sorted, nearest first
    wk = torch.exp(-dk / (2 * sigma * sigma))
    wk = wk / wk.sum(dim=1, keepdim=True)
    to_map = lambda x: x.view(n, h, w, k).permute(0, 3, 1, 2)  # noqa: E731
    return to_map(ik), to_map(wk)


def nearest_bin(ab, bins):
    return bin_distances(ab, bins).argmin(dim=1)


def rebalance_weights(counts, bins, lam=0.5, sigma=5.0):
    """ECCV16 class rebalancing: smooth the empirical bin distribution with a
    Gaussian (sigma in ab units), mix with uniform (lam), invert, normalise so
    that the expected weight under the empirical distribution is 1."""
    p = counts.double() / counts.sum()
    d2 = torch.cdist(bins.double(), bins.double()) ** 2
    g = torch.exp(-d2 / (2 * sigma * sigma))
    g = g / g.sum(dim=1, keepdim=True)
    ps = g @ p
    ps = ps / ps.sum()
    w = 1.0 / ((1 - lam) * ps + lam / bins.shape[0])
    w = w / (ps * w).sum()
    return w.float()


def annealed_mean(logits, bins, T):
    """logits [N,Q,h,w] -> ab [N,2,h,w]."""
    p = F.softmax(logits / T, dim=1)
    return torch.einsum('nqhw,qc->nchw', p, bins.to(logits.device))

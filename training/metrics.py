"""Image-quality measures used in validation and the PyTorch sanity check."""
import torch
import torch.nn.functional as F

from color import lab_to_rgb


def compose(L, ab):
    """Normalised L [N,1,H,W] + ab at any lower resolution -> RGB [N,3,H,W] in [0,1]."""
    ab = F.interpolate(ab, size=L.shape[2:], mode='bilinear', align_corners=False)
    return lab_to_rgb(torch.cat([L * 100.0 + 50.0, ab], dim=1)).clamp(0, 1)


def psnr_batch(L, ab, rgb_true):
    """Per-image PSNR (dB) on 8-bit RGB of compose(L, ab) vs the truth."""
    pred = torch.round(compose(L, ab) * 255.0)
    true = torch.round(rgb_true.clamp(0, 1) * 255.0)
    mse = ((pred - true) ** 2).flatten(1).mean(dim=1).clamp(min=1e-10)
    return 10.0 * torch.log10(255.0 ** 2 / mse)


def colorfulness_batch(L, ab, rgb=None):
    """Hasler & Suesstrunk (2003) colorfulness on 8-bit RGB, per image."""
    if rgb is None:
        rgb = compose(L, ab)
    x = rgb.clamp(0, 1) * 255.0
    r, g, b = x[:, 0].flatten(1), x[:, 1].flatten(1), x[:, 2].flatten(1)
    rg, yb = r - g, 0.5 * (r + g) - b
    std = torch.sqrt(rg.std(dim=1, unbiased=False) ** 2 + yb.std(dim=1, unbiased=False) ** 2)
    mean = torch.sqrt(rg.mean(dim=1) ** 2 + yb.mean(dim=1) ** 2)
    return std + 0.3 * mean

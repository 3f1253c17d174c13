"""Image-quality measures used in validation and the PyTorch sanity check."""
import numpy as np
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


HUE_SECTOR_NAMES = ['0-60', '60-120', '120-180', '180-240', '240-300', '300-360']
TRUE_CHROMA_MIN = 15  # pixels whose true chroma is below this are not scored
SECTOR_MIN_SHARE = 0.01  # sectors holding less of the scored pixels are left out of the mean


def balanced_recall(pixels, hits):
    """The class-balanced hue recall of per-sector counts [..., 6] (numpy): the mean of hits/pixels
    over the sectors holding >= SECTOR_MIN_SHARE of the pixels (NaN where none does)."""
    counted = pixels >= SECTOR_MIN_SHARE * pixels.sum(axis=-1, keepdims=True)
    counted &= pixels > 0
    recall = np.where(counted, hits / np.maximum(pixels, 1), 0.0)
    n = counted.sum(axis=-1)
    return np.where(n > 0, recall.sum(axis=-1) / np.maximum(n, 1), np.nan)


class HueRecall:
    """Class-balanced hue recall, pooled over a set: a pixel whose true chroma is >= 15 is a hit when
    the output's chroma is >= 5 and its hue is within 45 degrees of the true hue; hits and pixels are
    pooled per 60-degree sector of the true hue; the recall is the mean of hits/pixels over the sectors
    holding >= 1% of those pixels. Same definition as scripts/lib/hue-recall.ts."""

    def __init__(self):
        self.pixels = torch.zeros(6, dtype=torch.float64)
        self.hits = torch.zeros(6, dtype=torch.float64)
        # true sector x predicted sector (column 6: output chroma < 5, i.e. left gray)
        self.confusion = torch.zeros(6, 7, dtype=torch.float64)

    def add(self, ab_pred, ab_true):
        a, b = ab_true[:, 0].flatten(), ab_true[:, 1].flatten()
        pa, pb = ab_pred[:, 0].flatten(), ab_pred[:, 1].flatten()
        sel = torch.sqrt(a * a + b * b) >= TRUE_CHROMA_MIN
        hue = torch.atan2(b[sel], a[sel])
        phue = torch.atan2(pb[sel], pa[sel])
        pchroma = torch.sqrt(pa[sel] ** 2 + pb[sel] ** 2)
        diff = torch.remainder(phue - hue + torch.pi, 2 * torch.pi) - torch.pi
        hit = (pchroma >= 5) & (diff.abs() <= torch.pi / 4)
        sector = hue_sector(hue)
        self.pixels += torch.bincount(sector, minlength=6).double()
        self.hits += torch.bincount(sector, weights=hit.double(), minlength=6)
        psector = hue_sector(phue)
        psector[pchroma < 5] = 6
        self.confusion += torch.bincount(sector * 7 + psector, minlength=42).double().view(6, 7)

    def value(self):
        return float(balanced_recall(self.pixels.numpy(), self.hits.numpy()))

    def sectors(self):
        """Per 60-degree sector of the true hue (0-60, 60-120, ...): its share of the chromatic
        pixels, its recall (None for a sector below 1 %, which the mean leaves out) and where its
        pixels went (the output's sector, or column 6: left gray)."""
        total = float(self.pixels.sum())
        return [dict(share=float(n) / total if total else 0.0,
                     recall=float(h / n) if total and n >= SECTOR_MIN_SHARE * total else None,
                     predicted=[float(c / n) if n else 0.0 for c in row])
                for n, h, row in zip(self.pixels, self.hits, self.confusion)]


def hue_sector(angle):
    """60-degree sector (0..5) of hue angles in radians."""
    return (torch.remainder(angle, 2 * torch.pi) / (torch.pi / 3)).long().clamp(0, 5)

"""Pick the annealed-mean temperature on the held-out slice of the TRAINING data (the ~1% of
train-*.zip images whose path CRC32 % 100 == 0; never the eval sets): PSNR vs truth, the gray
baseline, colorfulness and the class-balanced hue recall per T, then the rule fixed before any
eval set is looked at: among the T whose PSNR is at least the gray baseline + 0.5 dB, the one with
the highest hue recall (if none reaches that margin, the T with the highest PSNR).

  /usr/bin/python3 training/tune_temperature.py --ckpt training/checkpoints/latest.pt
"""
import argparse
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from color import load_bins, rebalance_weights  # noqa: E402
from data import DEFAULT_ROOT, Batcher, global_features, load_images  # noqa: E402
from metrics import HUE_SECTOR_NAMES  # noqa: E402
from train import ECCV, HERE, load_model_from_ckpt, validate  # noqa: E402

PSNR_MARGIN = 0.5


def choose(res):
    ok = {k: r for k, r in res.items() if r['psnr'] >= r['gray_psnr'] + PSNR_MARGIN}
    if ok:
        return max(ok, key=lambda k: ok[k]['hue_recall'])
    return max(res, key=lambda k: res[k]['psnr'])


def main():
    p = argparse.ArgumentParser()
    p.add_argument('--ckpt', default=os.path.join(HERE, 'checkpoints', 'latest.pt'))
    p.add_argument('--data', default=DEFAULT_ROOT)
    p.add_argument('--bins', default=ECCV)
    p.add_argument('--T', default='0.25,0.3,0.38,0.45,0.5,0.6,0.7,0.85,1.0')
    p.add_argument('--gain', default='1.0', help='comma-separated a*b* gains to try (chroma scale)')
    p.add_argument('--prior', default='0', help='comma-separated strengths of a decoding-time prior correction '
                   '(logits + a * log of the class-rebalancing weights) to try')
    p.add_argument('--images', type=int, default=None, help='holdout images to use (default: all)')
    p.add_argument('--crop', type=int, default=128)
    p.add_argument('--min-side', type=int, default=0, help='only held-out images with at least this short side')
    p.add_argument('--device', default='cpu')
    args = p.parse_args()
    torch.set_num_threads(2)
    model, ck = load_model_from_ckpt(args.ckpt)
    model.to(args.device)
    imgs, names = load_images(args.data, None, args.images, 'holdout', log=lambda *a: None, min_side=args.min_side)
    val = Batcher(imgs, global_features(imgs, names, model.config['global_size'], log=lambda *a: None), args.crop, 32, augment=False)
    bins = load_bins(args.bins)
    log_weights = torch.log(rebalance_weights(ck['counts'], bins, ck['args'].get('lam') or 0.5))
    res = validate(model, val, model.config['head'], bins, [float(t) for t in args.T.split(',')],
                   [float(k) for k in args.gain.split(',')], dev=args.device,
                   priors=[float(a) for a in args.prior.split(',')], log_weights=log_weights)
    print(f'checkpoint step {ck["step"]}, {len(imgs)} held-out training images, centre crops {args.crop}px')
    print('| setting | PSNR (dB) | gray PSNR | colorfulness | truth colorfulness | hue recall |')
    print('| --- | --- | --- | --- | --- | --- |')
    for k, r in res.items():
        print(f"| {k} | {r['psnr']:.2f} | {r['gray_psnr']:.2f} | {r['colorfulness']:.1f} | {r['truth_colorfulness']:.1f} | {r['hue_recall']:.3f} |")
    best = choose(res)
    if best.startswith('T='):
        r = res[best]
        why = ('highest hue recall with PSNR >= gray + {} dB'.format(PSNR_MARGIN) if r['psnr'] >= r['gray_psnr'] + PSNR_MARGIN
               else 'no T reaches gray + {} dB: highest PSNR'.format(PSNR_MARGIN))
        print(f'chosen {best.split()[0]} ({why})')
    r = res[best]
    print(f'\nhue recall per sector of the true hue (a*b* angle, degrees), {best}:')
    print('| sector | ' + ' | '.join(HUE_SECTOR_NAMES) + ' |')
    print('| --- |' + ' --- |' * len(HUE_SECTOR_NAMES))
    print('| share of chromatic pixels | ' + ' | '.join(f"{q['share']:.1%}" for q in r['hue_sectors']) + ' |')
    print('| recall | ' + ' | '.join('-' if q['recall'] is None else f"{q['recall']:.3f}" for q in r['hue_sectors']) + ' |')
    print('\nwhere each true sector\'s pixels went (rows: true hue; columns: the output\'s hue sector, or gray = chroma < 5):')
    print('| true \\ output | ' + ' | '.join(HUE_SECTOR_NAMES) + ' | gray |')
    print('| --- |' + ' --- |' * (len(HUE_SECTOR_NAMES) + 1))
    for name, q in zip(HUE_SECTOR_NAMES, r['hue_sectors']):
        print(f'| {name} | ' + ' | '.join(f'{x:.0%}' for x in q['predicted']) + ' |')


if __name__ == '__main__':
    main()

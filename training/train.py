"""Train the colorizer. Checkpoints to --ckpt (one file, overwritten atomically).

  /usr/bin/python3 -u training/train.py --steps 20000 --device cpu
  /usr/bin/python3 -u training/train.py --resume --steps 40000       # continue
"""
import argparse
import json
import math
import os
import sys
import time

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from color import load_bins, rebalance_weights, soft_encode, nearest_bin  # noqa: E402
from data import DEFAULT_ROOT, Batcher, load_images, make_batch  # noqa: E402
from model import Colorizer, decode  # noqa: E402
from metrics import psnr_batch, colorfulness_batch  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
ECCV = os.path.normpath(os.path.join(HERE, '..', '..', 'shared', 'pretrained', 'eccv16_partial.npz'))


def parse():
    p = argparse.ArgumentParser()
    p.add_argument('--steps', type=int, default=10000, help='total optimizer steps (including resumed ones)')
    p.add_argument('--max-images', type=int, default=None)
    p.add_argument('--shards', default=None, help='comma-separated shard names, e.g. train-00 (default: all)')
    p.add_argument('--data', default=DEFAULT_ROOT)
    p.add_argument('--eccv', default=ECCV)
    p.add_argument('--device', default='cpu')
    p.add_argument('--threads', type=int, default=2)
    p.add_argument('--head', choices=['class', 'reg'], default='class')
    p.add_argument('--batch', type=int, default=32)
    p.add_argument('--crop', type=int, default=64)
    p.add_argument('--store-short', type=int, default=None,
                   help='decode training images with their short side capped at this (default: data.STORE_SHORT)')
    p.add_argument('--global-size', type=int, default=64)
    p.add_argument('--lr', type=float, default=5e-4)
    p.add_argument('--warmup', type=int, default=200)
    p.add_argument('--minutes', type=float, default=None,
                   help='wall-clock budget for this invocation: the cosine schedule follows elapsed time '
                        'instead of steps, and training stops (with a checkpoint) when it is spent')
    p.add_argument('--lam', type=float, default=0.5, help='class-rebalancing mix with uniform')
    p.add_argument('--reg-rebalance', type=float, default=None, metavar='LAM',
                   help='regression head: weight each output pixel\'s squared error by the ECCV16 '
                        'class-rebalancing weight of its nearest a*b* bin (mix LAM with uniform); '
                        'off by default')
    p.add_argument('--T', type=float, default=1.0, help='annealed-mean temperature for validation')
    p.add_argument('--ckpt', default=os.path.join(HERE, 'checkpoints', 'latest.pt'))
    p.add_argument('--resume', action='store_true')
    p.add_argument('--ckpt-minutes', type=float, default=5.0)
    p.add_argument('--log-every', type=int, default=25)
    p.add_argument('--val-every', type=int, default=500)
    p.add_argument('--val-images', type=int, default=256)
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--log-json', default=None, help='append one JSON line per log/val event here')
    return p.parse_args()


def lr_at(step, args, frac=None):
    if step < args.warmup:
        return args.lr * (step + 1) / args.warmup
    t = frac if frac is not None else (step - args.warmup) / max(1, args.steps - args.warmup)
    t = min(1.0, t)
    return args.lr * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * t)))


def bin_counts(batcher, bins, n_batches=20):
    counts = torch.zeros(bins.shape[0])
    for _ in range(n_batches):
        _, ab, _ = batcher.next()
        counts += torch.bincount(nearest_bin(ab, bins), minlength=bins.shape[0]).float()
    return counts


def loss_fn(out, ab, head, bins, weights, reg_rebalance=False):
    if head == 'class':
        t = soft_encode(ab, bins)
        w = weights.to(out.device)[t.argmax(dim=1)]  # [N,h,w]
        ce = -(t * F.log_softmax(out, dim=1)).sum(dim=1)
        return (w * ce).mean()
    if reg_rebalance:
        # rare (saturated) colours weigh more, so the conditional mean the
        # regression learns is pulled away from gray
        n, _, h, w_ = ab.shape
        w = weights.to(out.device)[nearest_bin(ab, bins).view(n, h, w_)]
        return (w.unsqueeze(1) * (out - ab / 100.0) ** 2).mean()
    return F.mse_loss(out, ab / 100.0)


@torch.no_grad()
def holdout_predictions(model, val):
    """Raw network outputs on the (non-augmented) holdout crops, in batches of 32: lists of L, output, RGB truth."""
    Ls, outs, rgbs = [], [], []
    for i in range(0, len(val.images), 32):
        locs, glos = zip(*(val.sample(val.images[j]) for j in range(i, min(i + 32, len(val.images)))))
        rgb = torch.cat(locs)
        L, _, Lg = make_batch(rgb, torch.cat(glos))
        outs.append(model(L, Lg))
        Ls.append(L)
        rgbs.append(rgb)
    return Ls, outs, rgbs


@torch.no_grad()
def validate(model, val, head, bins, Ts, gains=(1.0,)):
    """PSNR (RGB, dB) of the colorized holdout crops vs. truth, the gray
    baseline, and colorfulness; ab predicted at 1/4 and upsampled bilinearly."""
    model.eval()
    res = {}
    Ls, outs, rgbs = holdout_predictions(model, val)
    for T, gain in [(T, k) for T in (Ts if head == 'class' else [None]) for k in gains]:
        ps, gs, cs, ct = [], [], [], []
        for L, out, rgb in zip(Ls, outs, rgbs):
            ab = decode(out, head, bins, T) * gain
            p, g, c, c0 = psnr_batch(L, ab, rgb), psnr_batch(L, ab * 0, rgb), colorfulness_batch(L, ab), None
            ps.append(p), gs.append(g), cs.append(c), ct.append(colorfulness_batch(None, None, rgb))
        key = f'T={T}' if T is not None else 'reg'
        key += f' gain={gain}' if len(gains) > 1 else ''
        res[key] = dict(psnr=torch.cat(ps).mean().item(), gray_psnr=torch.cat(gs).mean().item(),
                        colorfulness=torch.cat(cs).mean().item(), truth_colorfulness=torch.cat(ct).mean().item())
    model.train()
    return res


def save_ckpt(path, model, opt, step, args, counts, history):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    # optimizer moments in bf16 (same range as fp32, half the bytes) keep the file small
    osd = opt.state_dict()
    osd = {'param_groups': osd['param_groups'],
           'state': {k: {n: (v.to(torch.bfloat16) if torch.is_tensor(v) and v.dim() > 0 else v) for n, v in s.items()}
                     for k, s in osd['state'].items()}}
    msd = {k: v for k, v in model.state_dict().items() if not k.startswith('glob.base.')}  # frozen: from the npz
    torch.save(dict(model=msd, opt=osd, step=step, config=model.config, counts=counts,
                    args=vars(args), history=history), path + '.tmp')
    os.replace(path + '.tmp', path)


def load_model_from_ckpt(path, eccv=ECCV):
    ck = torch.load(path, map_location='cpu')
    model = Colorizer(**ck['config'])
    model.load_eccv(eccv)
    missing, unexpected = model.load_state_dict(ck['model'], strict=False)
    assert not unexpected and all(k.startswith('glob.base.') for k in missing), (missing, unexpected)
    return model, ck


def main():
    args = parse()
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    dev = torch.device(args.device)
    bins = load_bins(args.eccv)

    def log(msg, **kv):
        print(msg, flush=True)
        if args.log_json and kv:
            with open(args.log_json, 'a') as f:
                f.write(json.dumps(kv) + '\n')

    store = {'store_short': args.store_short} if args.store_short else {}
    images, _ = load_images(args.data, args.shards, args.max_images, 'train', args.seed, log=log, **store)
    val_imgs, _ = load_images(args.data, args.shards, args.val_images, 'holdout', args.seed, log=log, **store)
    batcher = Batcher(images, args.crop, args.global_size, args.batch, args.seed)
    val = Batcher(val_imgs, args.crop, args.global_size, args.batch, args.seed, augment=False)

    step, history = 0, []
    if args.resume and os.path.exists(args.ckpt):
        model, ck = load_model_from_ckpt(args.ckpt, args.eccv)
        step, counts, history = ck['step'], ck['counts'], ck.get('history', [])
        args.head = model.config['head']
        args.global_size = model.config['global_size']
        batcher.S = val.S = args.global_size
        log(f'[train] resumed {args.ckpt} at step {step}')
    else:
        model = Colorizer(head=args.head, global_size=args.global_size)
        model.load_eccv(args.eccv)
        counts = bin_counts(batcher, bins) if args.head == 'class' else torch.ones(bins.shape[0])
        ck = None
    if args.head == 'reg' and args.reg_rebalance is not None:
        if bool((counts == 1).all()):  # regression checkpoints carry no bin statistics
            counts = bin_counts(batcher, bins)
        weights = rebalance_weights(counts, bins, args.reg_rebalance)
        log(f'[train] regression rebalanced, lam={args.reg_rebalance}, max weight {weights.max():.1f}')
    else:
        weights = rebalance_weights(counts, bins, args.lam)
    model.to(dev).train()
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=args.lr, weight_decay=1e-4)
    if ck is not None:
        osd = ck['opt']
        osd['state'] = {k: {n: (v.float() if torch.is_tensor(v) and v.dim() > 0 else v) for n, v in s.items()}
                        for k, s in osd['state'].items()}
        opt.load_state_dict(osd)
    log(f'[train] head={args.head} images={len(images)} holdout={len(val_imgs)} batch={args.batch} '
        f'crop={args.crop} S={args.global_size} steps {step}->{args.steps} threads={args.threads}')

    t_ck = t_start = time.time()
    t0, n0, run_loss = time.time(), 0, 0.0
    frac = None
    while step < args.steps:
        if args.minutes:
            frac = (time.time() - t_start) / (args.minutes * 60)
            if frac >= 1.0:
                args.steps = step  # time is up: final validation + checkpoint below
        for g in opt.param_groups:
            g['lr'] = lr_at(step, args, frac)
        if step >= args.steps:
            break
        L, ab, Lg = (t.to(dev) for t in batcher.next())
        out = model(L, Lg)
        loss = loss_fn(out, ab, args.head, bins, weights, args.reg_rebalance is not None)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        step += 1
        n0 += L.shape[0]
        run_loss += loss.item()
        if step % args.log_every == 0 or step == args.steps:
            dt = time.time() - t0
            k = args.log_every if step % args.log_every == 0 else step % args.log_every
            log(f'[train] step {step} loss {run_loss / k:.4f} lr {opt.param_groups[0]["lr"]:.2e} '
                f'{n0 / dt:.1f} img/s epoch {batcher.epoch}',
                kind='train', step=step, loss=run_loss / k, img_s=n0 / dt, t=time.time())
            t0, n0, run_loss = time.time(), 0, 0.0
        if step % args.val_every == 0 or step == args.steps:
            v = validate(model, val, args.head, bins, [0.38, 0.6, 1.0] if args.head == 'class' else None)
            history.append(dict(step=step, val=v))
            log(f'[val] step {step} ' + ' | '.join(
                f"{k}: psnr {r['psnr']:.2f} gray {r['gray_psnr']:.2f} cf {r['colorfulness']:.1f}/{r['truth_colorfulness']:.1f}"
                for k, r in v.items()), kind='val', step=step, val=v)
            t0, n0 = time.time(), 0
        if time.time() - t_ck > args.ckpt_minutes * 60 or step == args.steps:
            save_ckpt(args.ckpt, model, opt, step, args, counts, history)
            t_ck = time.time()
            log(f'[train] checkpoint step {step} -> {args.ckpt}')
    if args.minutes and step == args.steps:
        if not history or history[-1]['step'] != step:
            v = validate(model, val, args.head, bins, [0.38, 0.6, 1.0] if args.head == 'class' else None)
            history.append(dict(step=step, val=v))
            log(f'[val] step {step} ' + ' | '.join(f"{k}: psnr {r['psnr']:.2f} gray {r['gray_psnr']:.2f} "
                                                   f"cf {r['colorfulness']:.1f}/{r['truth_colorfulness']:.1f}"
                                                   for k, r in v.items()), kind='val', step=step, val=v)
        save_ckpt(args.ckpt, model, opt, step, args, counts, history)
        log(f'[train] time budget spent; checkpoint step {step} -> {args.ckpt}')

if __name__ == '__main__':
    main()

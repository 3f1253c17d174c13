"""Train the colorizer (model.py). Checkpoints to --ckpt (one file, overwritten atomically).

  /usr/bin/python3 -u training/train.py --minutes 60                     # fresh run, CPU
  /usr/bin/python3 -u training/train.py --resume --minutes 60           # continue the committed checkpoint
  python3 -u training/train.py --resume --device cuda --bf16 --minutes 8 --batch 128 --threads 16
"""
import argparse
import json
import math
import os
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from color import load_bins, nearest_bin, rebalance_weights, soft_encode_sparse, annealed_mean, lab_to_rgb, rgb_to_lab  # noqa: E402
from data import DEFAULT_ROOT, Batcher, cached_names, class_labels, global_features, hue_balance_weights, hue_profile, load_images, source_repeats  # noqa: E402
from metrics import HueRecall, colorfulness_batch, psnr_batch  # noqa: E402
import model as model_module  # noqa: E402
from model import G, Colorizer, decode, imagenet_features  # noqa: E402
from mobilenet import NPZ, PRETRAINED, MobileNetV2  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
ECCV = os.path.join(PRETRAINED, 'eccv16_partial.npz')  # only its 313 a*b* bin centres are used
VAL_T = (0.3, 0.38, 0.5, 0.7, 1.0)
RECIPE = {'lam': 0.5, 'huber': 0.0, 'hint_prob': 0.5, 'perceptual': 0.0, 'encoder_lr_scale': 0.3, 'aux_class': 0.0, 'global_shuffle': 0.0}  # defaults of the options a checkpoint carries over
JEMALLOC = '/usr/lib/x86_64-linux-gnu/libjemalloc.so.2'  # Debian's libjemalloc2 (a dependency of redis-server)


def with_retaining_allocator():
    """Re-run this process over jemalloc set never to hand memory back. glibc maps every block over
    32 MiB afresh (the [32,313,32,32] logits are 41 MiB) and returns it on free, so each step
    page-faults its big tensors in again: on a 2-core VM the loss and its backward took 1.1 s a
    step instead of 0.14 (the whole step 2.9 s instead of 0.6). COLORIZE_PLAIN_MALLOC=1 keeps glibc."""
    if os.environ.get('COLORIZE_PLAIN_MALLOC') or 'jemalloc' in os.environ.get('LD_PRELOAD', '') or not os.path.exists(JEMALLOC):
        return
    env = dict(os.environ, LD_PRELOAD=':'.join(filter(None, [JEMALLOC, os.environ.get('LD_PRELOAD')])),
               MALLOC_CONF='dirty_decay_ms:-1,muzzy_decay_ms:-1')
    os.execve(sys.executable, [sys.executable] + sys.argv, env)


def parse(argv=None):
    p = argparse.ArgumentParser()
    p.add_argument('--steps', type=int, default=10**9, help='total optimizer steps (including resumed ones)')
    p.add_argument('--more-steps', type=int, default=None, help='train this many steps beyond the resumed step')
    p.add_argument('--minutes', type=float, default=None,
                   help='wall-clock budget for this invocation; training stops (with a checkpoint) when it is spent')
    p.add_argument('--max-images', type=int, default=None)
    p.add_argument('--min-side', type=int, default=0,
                   help='train only on images with at least this short side (100 leaves out the 64 px Tiny-ImageNet crops)')
    p.add_argument('--val-min-side', type=int, default=0, help='the same for the held-out slice')
    p.add_argument('--cached-only', action='store_true',
                   help='train only on images whose global features are already cached (see cache_globals.py)')
    p.add_argument('--global-aug', action='store_true',
                   help='global-view augmentation: each step computes the global features of a random crop/flip of '
                        'the whole image with the frozen encoder, instead of the one cached vector per image')
    p.add_argument('--small-per-epoch', type=int, default=None,
                   help='each epoch: every image >= 100 px and only this many random smaller ones')
    p.add_argument('--shards', default=None, help='comma-separated shard names, e.g. train-00 (default: all)')
    p.add_argument('--data', default=DEFAULT_ROOT)
    p.add_argument('--eccv', default=ECCV, help='source of the 313 a*b* bin centres')
    p.add_argument('--device', default='cpu')
    p.add_argument('--bf16', action='store_true', help='bf16 autocast (GPU)')
    p.add_argument('--threads', type=int, default=2)
    p.add_argument('--encoder-chunk', type=int, default=None,
                   help='run the frozen encoders on pieces of this many images (default: 4 on the CPU, whole batches on a GPU)')
    p.add_argument('--head', choices=['class', 'reg'], default='class')
    p.add_argument('--batch', type=int, default=32)
    p.add_argument('--crop', type=int, default=128)
    p.add_argument('--large-crop', type=int, default=None,
                   help='cut --large-prob of the batches at this size (e.g. 224, the product\'s working size) from images '
                        'with a short side of at least half of it')
    p.add_argument('--large-prob', type=float, default=0.5)
    p.add_argument('--source-weights', default=None,
                   help='data mix: SOURCE=W,... takes each image of that source W times per epoch (e.g. camvid=4,bsds-train=4; '
                        'the source is the first folder of its path in the zip); not carried over by a resume')
    p.add_argument('--hue-balance', type=float, default=0.0,
                   help='share of each epoch drawn with per-image weights that favour the rare hue sectors (0: off)')
    p.add_argument('--hue-max-boost', type=float, default=8.0, help='cap on a hue sector\'s per-pixel boost')
    p.add_argument('--store-short', type=int, default=224)
    p.add_argument('--global-size', type=int, default=224)
    p.add_argument('--lr', type=float, default=1e-3)
    p.add_argument('--finetune-from', type=int, default=None,
                   help='also train the local network\'s MobileNetV2 from this block (features.N, 1..17; 7 = the '
                        '1/16 and 1/32 stages) on; kept by the checkpoint once set')
    p.add_argument('--lr-min', type=float, default=0.1, help='cosine floor, as a fraction of --lr')
    p.add_argument('--warmup', type=int, default=100)
    # The recipe: on --resume, taken from the checkpoint unless given.
    p.add_argument('--lam', type=float, default=None, help='class-rebalancing mix with uniform (default 0.5)')
    p.add_argument('--huber', type=float, default=None,
                   help='class head: weight of a Huber loss on the annealed mean (T=1) against the true a*b* (default 0)')
    p.add_argument('--perceptual', type=float, default=None,
                   help='weight of a perceptual term: frozen MobileNetV2 1/4 and 1/8 features of the colorized crop vs the truth (default 0)')
    p.add_argument('--aux-class', type=float, default=None,
                   help='weight of the auxiliary classification loss on the global vector (Iizuka et al. 2016; '
                        'class labels from the shards\' folders, see data.class_labels; default 0: off)')
    p.add_argument('--global-shuffle', type=float, default=None,
                   help='share of each batch whose crops get another image\'s global vector (the next one in the batch), so '
                        'the local network learns to rely on local evidence where the scene vector misleads (default 0)')
    p.add_argument('--aux-lr-scale', type=float, default=25.0, help='the auxiliary head\'s learning rate as a multiple of --lr')
    p.add_argument('--hint-prob', type=float, default=None, help='share of training crops given colour hints (default 0.5)')
    p.add_argument('--encoder-lr-scale', type=float, default=None,
                   help='the fine-tuned encoder blocks\' lr, as a fraction of --lr (default 0.3)')
    p.add_argument('--ckpt', default=os.path.join(HERE, 'checkpoints', 'latest.pt'))
    p.add_argument('--resume', action='store_true')
    p.add_argument('--ckpt-minutes', type=float, default=5.0)
    p.add_argument('--max-rss-gb', type=float, default=None,
                   help='checkpoint and stop when the process holds more memory than this (default: 70%% of the RAM)')
    p.add_argument('--log-every', type=int, default=25)
    p.add_argument('--val-every', type=int, default=500)
    p.add_argument('--val-images', type=int, default=512)
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--log-json', default=None, help='append one JSON line per log/val event here')
    p.add_argument('--snapshots', default=None,
                   help='also keep a copy of the checkpoint at every validation in this folder (step<N>.pt), '
                        'to choose among them on the held-out slice afterwards')
    return p.parse_args(argv)


def resident_bytes():
    """This process's resident memory (Linux), or 0 where /proc is missing."""
    try:
        with open('/proc/self/statm') as f:
            return int(f.read().split()[1]) * os.sysconf('SC_PAGE_SIZE')
    except (OSError, ValueError):
        return 0


def default_rss_limit():
    """70 % of the RAM: a run that grows past it would soon push the machine into thrashing."""
    try:
        return 0.7 * os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES')
    except (OSError, ValueError):
        return float('inf')


def lr_at(step, args, frac):
    if step < args.warmup:
        return args.lr * (step + 1) / args.warmup
    return args.lr * (args.lr_min + (1 - args.lr_min) * 0.5 * (1 + math.cos(math.pi * min(1.0, frac))))


def bin_counts(batcher, bins, n_batches=20):
    counts = torch.zeros(bins.shape[0])
    for _ in range(n_batches):
        ab = batcher.next()[1]
        counts += torch.bincount(nearest_bin(ab, bins), minlength=bins.shape[0]).float()
    return counts


class Perceptual(torch.nn.Module):
    """Mean squared distance between the frozen ImageNet MobileNetV2's 1/4 and 1/8 features of the
    colorized crop (a*b* decoded at T = 1, upsampled, the crop's own L*) and of the true crop."""

    def __init__(self):
        super().__init__()
        self.encoder = MobileNetV2(upto=6)  # blocks up to the 1/8 tap; frozen

    def features(self, rgb):
        return self.encoder((rgb * 255.0 - 128.0) / 128.0)

    def forward(self, L, ab, rgb):
        ab = F.interpolate(ab, size=L.shape[2:], mode='bilinear', align_corners=False)
        colorized = lab_to_rgb(torch.cat([L * 100.0 + 50.0, ab], dim=1)).clamp(0, 1)
        with torch.no_grad():
            truth = self.features(rgb)
        ours = self.features(colorized)
        return sum(F.mse_loss(ours[k], truth[k]) for k in (4, 8))


def loss_fn(out, ab, head, bins, weights, huber):
    out = out.float()
    if head == 'reg':
        return F.smooth_l1_loss(out * 10.0, ab / 10.0)
    # Cross-entropy against the soft encoding, read at its k non-zero bins only (the dense target
    # [N,313,h,w] cost more than the network's own forward pass on the CPU).
    ik, wk = soft_encode_sparse(ab, bins)
    w = weights.to(out.device)[ik[:, 0]]  # rebalancing weight of the nearest bin, [N,h,w]
    loss = (w * -(wk * F.log_softmax(out, dim=1).gather(1, ik)).sum(dim=1)).mean()
    if huber > 0:
        loss = loss + huber * F.smooth_l1_loss(annealed_mean(out, bins, 1.0) / 10.0, ab / 10.0)
    return loss


@torch.no_grad()
def validate(model, val, head, bins, Ts=VAL_T, gains=(1.0,), dev='cpu', priors=(0.0,), log_weights=None):
    """On the held-out crops (no hints): PSNR (8-bit RGB, dB), the gray baseline, colorfulness
    (mean per image) and the class-balanced hue recall (pooled) for each decoding setting.
    `priors`: strengths a of a decoding-time prior correction, logits + a * log_weights (the log of
    the class-rebalancing weights: rare colours up, common ones down)."""
    model.eval()
    settings = [(T, k, a) for T in (Ts if head == 'class' else [None]) for k in gains for a in (priors if head == 'class' else [0.0])]
    acc = {s: dict(psnr=[], gray=[], cf=[], cft=[], hue=HueRecall()) for s in settings}
    for L, _, g, hints, rgb in val.all_batches():
        out = model(L.to(dev), hints=hints.to(dev), global_in=g.to(dev)).float().cpu()
        true_ab = rgb_to_lab(rgb.clamp(0, 1))[:, 1:]
        for s in settings:
            shifted = out + s[2] * log_weights.view(1, -1, 1, 1) if s[2] else out
            ab = decode(shifted, head, bins, s[0]) * s[1]
            a = acc[s]
            a['psnr'].append(psnr_batch(L, ab, rgb)), a['gray'].append(psnr_batch(L, ab * 0, rgb))
            a['cf'].append(colorfulness_batch(L, ab)), a['cft'].append(colorfulness_batch(None, None, rgb))
            a['hue'].add(F.interpolate(ab, size=L.shape[2:], mode='bilinear', align_corners=False), true_ab)
    model.train()
    res = {}
    for (T, k, prior), a in acc.items():
        key = (f'T={T}' if T is not None else 'reg') + (f' gain={k}' if len(gains) > 1 else '') + (f' prior={prior}' if len(priors) > 1 else '')
        res[key] = dict(psnr=torch.cat(a['psnr']).mean().item(), gray_psnr=torch.cat(a['gray']).mean().item(),
                        colorfulness=torch.cat(a['cf']).mean().item(),
                        truth_colorfulness=torch.cat(a['cft']).mean().item(), hue_recall=a['hue'].value(),
                        hue_sectors=a['hue'].sectors())
    return res


def format_val(v):
    return ' | '.join(f"{k}: psnr {r['psnr']:.2f} gray {r['gray_psnr']:.2f} cf {r['colorfulness']:.1f}/"
                      f"{r['truth_colorfulness']:.1f} hue {r['hue_recall']:.3f}" for k, r in v.items())


def encoder_sidecar(path):
    """Where a checkpoint keeps its fine-tuned encoder blocks: a second file, so that each stays under 16 MiB."""
    return (path[:-3] if path.endswith('.pt') else path) + '.encoder.pt'


def save_ckpt(path, model, opt, step, args, counts, history, hours, aux=None):
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    # Each file must stay under 16 MiB: AdamW's second moment in bf16 (same range as fp32, half the
    # bytes); the first moment is not kept (with beta1 = 0.9 it rebuilds within tens of steps).
    osd = opt.state_dict()
    state = {k: {n: (v.to(torch.bfloat16) if torch.is_tensor(v) and v.dim() > 0 else v) for n, v in s.items() if n != 'exp_avg'}
             for k, s in osd['state'].items()}
    msd = {k: v.cpu() for k, v in model.trained_state().items()}
    groups = osd['param_groups']
    side = encoder_sidecar(path)
    if len(groups) > 1:  # group 1: the fine-tuned encoder blocks, with their weights, in the sidecar
        ids = set(groups[1]['params'])
        torch.save(dict(model={k: v for k, v in msd.items() if '.encoder.' in k}, group=groups[1],
                        state={k: s for k, s in state.items() if k in ids}, step=step), side + '.tmp')
        msd = {k: v for k, v in msd.items() if '.encoder.' not in k}
        state = {k: s for k, s in state.items() if k not in ids}
        groups = groups[:1]
    torch.save(dict(model=msd, opt={'param_groups': groups, 'state': state}, step=step, config=model.config, counts=counts,
                    args=vars(args), history=history, hours=hours, **({'aux': aux} if aux else {})), path + '.tmp')
    if os.path.exists(side + '.tmp'):
        os.replace(side + '.tmp', side)
    os.replace(path + '.tmp', path)


def extend_finetuning(model, opt, block):
    """Fine-tune the local encoder from an earlier `block` on: a new AdamW whose encoder group holds the
    blocks in the order a fresh resume builds it, each resumed parameter keeping its moments."""
    model.finetune_local_encoder(block)
    trained = [(n, p) for n, p in model.named_parameters() if p.requires_grad]
    groups = [dict(opt.param_groups[0], params=[p for n, p in trained if '.encoder.' not in n]),
              dict(opt.param_groups[1], params=[p for n, p in trained if '.encoder.' in n])]
    fresh = torch.optim.AdamW(groups)
    for p, s in opt.state.items():
        fresh.state[p] = s
    return fresh


def load_model_from_ckpt(path):
    ck = torch.load(path, map_location='cpu')
    cfg = ck['config']
    if cfg.get('arch') != 'mnv2-unet':
        raise SystemExit(f'{path} is a checkpoint of another architecture ({cfg.get("arch", "eccv16-small")})')
    if cfg.get('finetune_from'):
        side = encoder_sidecar(path)
        if not os.path.exists(side):
            raise SystemExit(f'{path} fine-tunes encoder blocks kept in {side}, which is missing')
        enc = torch.load(side, map_location='cpu')
        if enc['step'] != ck['step']:
            raise SystemExit(f'{side} is of step {enc["step"]}, {path} of step {ck["step"]}')
        ck['model'].update(enc['model'])
        ck['opt']['param_groups'].append(enc['group'])
        ck['opt']['state'].update(enc['state'])
    model = Colorizer(head=cfg['head'], global_size=cfg['global_size'], finetune_from=cfg.get('finetune_from'))
    missing, unexpected = model.load_state_dict(ck['model'], strict=False)
    trained = model.trained_state().keys()
    assert not unexpected and not any(k in trained for k in missing), (missing, unexpected)
    return model, ck


def main(argv=None):
    args = parse(argv)
    if argv is None:
        with_retaining_allocator()
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    dev = torch.device(args.device)
    model_module.ENCODER_CHUNK = args.encoder_chunk if args.encoder_chunk is not None else (4 if dev.type == 'cpu' else None)
    if hasattr(torch.backends, 'nnpack'):
        torch.backends.nnpack.set_flags(False)  # else one "Unsupported hardware" warning per conv on CPUs without it
    bins = load_bins(args.eccv)

    def log(msg, **kv):
        print(msg, flush=True)
        if args.log_json and kv:
            with open(args.log_json, 'a') as f:
                f.write(json.dumps(kv) + '\n')

    step, history, hours, ck = 0, [], {}, None
    if args.resume and os.path.exists(args.ckpt):
        model, ck = load_model_from_ckpt(args.ckpt)
        step, counts, history, hours = ck['step'], ck['counts'], ck.get('history', []), ck.get('hours', {})
        args.head, args.global_size = model.config['head'], model.config['global_size']
        for key in RECIPE:
            if getattr(args, key) is None:
                setattr(args, key, ck['args'].get(key))
        log(f'[train] resumed {args.ckpt} at step {step}')
    for key, value in RECIPE.items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    if args.more_steps is not None:
        args.steps = step + args.more_steps
    if ck is None:
        model = Colorizer(head=args.head, global_size=args.global_size)
    tuned_from = model.config.get('finetune_from')
    if args.finetune_from and tuned_from and args.finetune_from > tuned_from:
        raise SystemExit(f'the checkpoint fine-tunes from block {tuned_from}; a resume can extend that to earlier '
                         f'blocks, not stop at block {args.finetune_from}')
    new_group = bool(args.finetune_from) and not tuned_from
    # blocks args.finetune_from..tuned_from-1 join the fine-tuned ones after the optimizer state is loaded
    extend_to = args.finetune_from if args.finetune_from and tuned_from and args.finetune_from < tuned_from else None
    if new_group:
        model.finetune_local_encoder(args.finetune_from)
    images, names = load_images(args.data, args.shards, args.max_images, 'train', args.seed, store_short=args.store_short, log=log,
                                min_side=args.min_side)
    val_imgs, val_names = load_images(args.data, args.shards, args.val_images, 'holdout', args.seed,
                                      store_short=args.store_short, log=log, min_side=args.val_min_side)
    if args.cached_only:
        have = cached_names(args.global_size)
        keep = [i for i, n in enumerate(names) if n in have]
        images, names = [images[i] for i in keep], [names[i] for i in keep]
        log(f'[train] --cached-only: {len(images)} training images have cached global features')
    feats = None if args.global_aug else global_features(images, names, args.global_size, log=log)
    val_feats = global_features(val_imgs, val_names, args.global_size, log=log)
    hue_weights = None
    if args.hue_balance > 0:
        t0 = time.time()
        hue_weights, before, after = hue_balance_weights(hue_profile(images), args.hue_max_boost)
        log(f'[data] hue balance {args.hue_balance}: sector shares of chromatic pixels '
            f'{" ".join(f"{x:.3f}" for x in before)} -> {" ".join(f"{x:.3f}" for x in after)} '
            f'when drawn by weight ({time.time() - t0:.0f}s)')
    repeats = None
    if args.source_weights:
        repeats, summary = source_repeats(names, args.source_weights)
        log('[data] source weights: ' + ', '.join(f'{src} {n} images x{w:g}' for src, (n, w) in summary.items()))
    batcher = Batcher(images, feats, args.crop, args.batch, args.seed + step, hint_prob=args.hint_prob,
                      global_size=args.global_size if args.global_aug else None, small_per_epoch=args.small_per_epoch,
                      large_crop=args.large_crop, large_prob=args.large_prob,
                      hue_weights=hue_weights, hue_balance=args.hue_balance, repeats=repeats)
    val = Batcher(val_imgs, val_feats, args.crop, 32, args.seed, augment=False)
    aux = aux_opt = labels = None
    if args.aux_class > 0:
        saved = (ck or {}).get('aux')
        wnids = np.load(NPZ)['wnids']
        labels, extra = class_labels(names, wnids, saved['classes'] if saved else None)
        aux = torch.nn.Linear(G, len(wnids) + len(extra)).to(dev)
        if saved:
            aux.load_state_dict({k: v.float() for k, v in saved['model'].items()})
        # a fresh head at the fine-tuning rate of the rest would barely move within a sitting
        aux_opt = torch.optim.AdamW([dict(params=aux.parameters(), lr_scale=args.aux_lr_scale)], lr=args.lr, weight_decay=1e-4)
        log(f'[train] auxiliary classification loss x{args.aux_class} on the global vector: {int((labels >= 0).sum())} of '
            f'{len(labels)} images labelled, {len(wnids) + len(extra)} classes' + (' (head resumed)' if saved else ''))
    if ck is None:
        counts = bin_counts(batcher, bins)
    weights = rebalance_weights(counts, bins, args.lam)

    model.to(dev).train()
    perceptual = Perceptual().to(dev).eval() if args.perceptual > 0 else None
    if dev.type == 'cpu':
        model = model.to(memory_format=torch.channels_last)
    # Group 0: decoder and global MLP (the order checkpoints have always had); group 1: fine-tuned encoder blocks.
    trained = [(n, p) for n, p in model.named_parameters() if p.requires_grad]
    opt = torch.optim.AdamW([p for n, p in trained if '.encoder.' not in n], lr=args.lr, weight_decay=1e-4)
    encoder_group = dict(params=[p for n, p in trained if '.encoder.' in n], lr_scale=args.encoder_lr_scale)
    if encoder_group['params'] and not new_group:
        opt.add_param_group(encoder_group)
    if ck is not None:
        osd = ck['opt']
        osd['state'] = {k: {n: (v.float().to(dev) if torch.is_tensor(v) and v.dim() > 0 else v) for n, v in s.items()}
                        for k, s in osd['state'].items()}
        for s in osd['state'].values():
            s.setdefault('exp_avg', torch.zeros_like(s['exp_avg_sq']))
        opt.load_state_dict(osd)
    if new_group:
        opt.add_param_group(encoder_group)
    if extend_to:
        opt = extend_finetuning(model, opt, extend_to)
        log(f'[train] the local encoder is fine-tuned from block {extend_to} now (was {tuned_from})')
    for g in opt.param_groups[1:]:
        g['lr_scale'] = args.encoder_lr_scale
    log(f'[train] head={args.head} huber={args.huber} images={len(images)} holdout={len(val_imgs)} batch={args.batch} '
        f'crop={args.crop} large_crop={args.large_crop}x{args.large_prob if args.large_crop else 0} S={args.global_size} perceptual={args.perceptual} global_aug={args.global_aug} '
        f'global_shuffle={args.global_shuffle} '
        f'finetune_from={model.config.get("finetune_from")} '
        f'epoch of {batcher.epoch_size()} from step {step} threads={args.threads} device={dev}')

    kind = 'gpu' if dev.type == 'cuda' else 'cpu'
    rss_limit = args.max_rss_gb * 2**30 if args.max_rss_gb else default_rss_limit()
    t_ck = t_start = time.time()
    t0, n0, run_loss, run_aux, first = time.time(), 0, 0.0, 0.0, step
    frac = 0.0

    def aux_state():
        # weights in bf16 and no optimizer state: the checkpoint file must stay under 16 MiB
        return dict(model={k: v.detach().to(torch.bfloat16).cpu() for k, v in aux.state_dict().items()}, classes=extra) if aux else None

    def checkpoint():
        hours[kind] = hours.get(kind, 0.0) + (time.time() - checkpoint.t) / 3600
        checkpoint.t = time.time()
        save_ckpt(args.ckpt, model, opt, step, args, counts, history, hours, aux_state())
        log(f'[train] checkpoint step {step} -> {args.ckpt}')
    checkpoint.t = t_start

    def validation():
        v = validate(model, val, args.head, bins, dev=dev)
        history.append(dict(step=step, val=v))
        log(f'[val] step {step} ' + format_val(v), kind='val', step=step, val=v)
        if args.snapshots:
            os.makedirs(args.snapshots, exist_ok=True)
            save_ckpt(os.path.join(args.snapshots, f'step{step}.pt'), model, opt, step, args, counts, history, hours, aux_state())

    while step < args.steps:
        if args.minutes:
            frac = (time.time() - t_start) / (args.minutes * 60)
            if frac >= 1.0:
                break
        for g in opt.param_groups + (aux_opt.param_groups if aux_opt else []):
            g['lr'] = lr_at(step - first if first else step, args, frac) * g.get('lr_scale', 1.0)
        L, ab, g, hints, rgb = batcher.next()
        L = L.to(dev)
        if dev.type == 'cpu':
            L = L.contiguous(memory_format=torch.channels_last)
        with torch.autocast(dev.type, dtype=torch.bfloat16, enabled=args.bf16):
            if aux is not None or args.global_shuffle > 0:  # the same as model(...), with the global vector at hand
                f = imagenet_features(model.glob.encoder, g.to(dev).contiguous(memory_format=torch.channels_last)) if args.global_aug else g.to(dev)
                vector = model.glob.head(f)
                given = vector
                if args.global_shuffle > 0:
                    swap = torch.rand(vector.shape[0], device=dev) < args.global_shuffle
                    given = torch.where(swap[:, None], vector.roll(1, 0), vector)
                out = model.local(L, given, hints.to(dev))
            elif args.global_aug:  # g: augmented global views [B,1,S,S] for the frozen encoder
                out = model(L, Lg=g.to(dev).contiguous(memory_format=torch.channels_last), hints=hints.to(dev))
            else:
                out = model(L, hints=hints.to(dev), global_in=g.to(dev))
        loss = loss_fn(out, ab.to(dev), args.head, bins.to(dev), weights, args.huber)
        if aux is not None:
            y = torch.as_tensor(labels[batcher.last_indices], device=dev)
            known = y >= 0
            if bool(known.any()):
                aux_loss = F.cross_entropy(aux(vector.float()[known]), y[known])
                loss = loss + args.aux_class * aux_loss
                run_aux += aux_loss.item()
        if perceptual is not None:
            mean_ab = annealed_mean(out.float(), bins.to(dev), 1.0) if args.head == 'class' else out.float() * 100.0
            loss = loss + args.perceptual * perceptual(L.float(), mean_ab, rgb.to(dev))
        opt.zero_grad(set_to_none=True)
        if aux_opt:
            aux_opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        if aux_opt:
            aux_opt.step()
        step += 1
        n0 += L.shape[0]
        run_loss += loss.item()
        if step % args.log_every == 0:
            rss = resident_bytes()
            if rss > rss_limit:
                # Sitting 8 (--large-crop) grew to 24 GiB on a 24 GiB machine over 90 minutes and thrashed.
                log(f'[train] memory: {rss / 2**30:.1f} GiB resident, over the {rss_limit / 2**30:.1f} GiB limit '
                    f'(--max-rss-gb); checkpointing and stopping at step {step}', kind='memory', step=step, rss=rss)
                break
            dt = time.time() - t0
            aux_text = f' aux {run_aux / args.log_every:.3f}' if aux else ''
            log(f'[train] step {step} loss {run_loss / args.log_every:.4f}{aux_text} lr {opt.param_groups[0]["lr"]:.2e} '
                f'{n0 / dt:.1f} img/s epoch {batcher.epoch} rss {rss / 2**30:.1f} GiB',
                kind='train', step=step, loss=run_loss / args.log_every, img_s=n0 / dt, t=time.time(), rss=rss,
                **({'aux_loss': run_aux / args.log_every} if aux else {}))
            t0, n0, run_loss, run_aux = time.time(), 0, 0.0, 0.0
        if step % args.val_every == 0:
            validation()
            t0, n0 = time.time(), 0
        if time.time() - t_ck > args.ckpt_minutes * 60:
            checkpoint()
            t_ck = time.time()
    if not history or history[-1]['step'] != step:
        validation()
    checkpoint()
    log(f'[train] done at step {step}; hours trained {json.dumps({k: round(v, 3) for k, v in hours.items()})}')


if __name__ == '__main__':
    main()

"""Average the trained weights of several checkpoints of one run (Izmailov et al. 2018, "Averaging
Weights Leads to Wider Optima"): e.g. the --snapshots of a sitting's last stretch. Parameters and
BatchNorm statistics are averaged alike (the snapshots are close to each other); step, history,
optimizer state and the rest come from the last checkpoint given. Judge the result on the held-out
slice like any other checkpoint (tune_temperature.py).

  /usr/bin/python3 training/average_ckpts.py --out .out/avg.pt .out/snap/step8000.pt .out/snap/step9000.pt ...
"""
import argparse
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from train import load_model_from_ckpt, save_ckpt  # noqa: E402


class Saved:
    """What save_ckpt needs of the run it saves: the last checkpoint's arguments and optimizer state."""

    def __init__(self, ck):
        self.ck = ck

    def state_dict(self):
        return self.ck['opt']


def main():
    p = argparse.ArgumentParser()
    p.add_argument('--out', required=True)
    p.add_argument('ckpts', nargs='+')
    args = p.parse_args()
    if len(args.ckpts) < 2:
        raise SystemExit('average_ckpts: give at least two checkpoints')
    models = [load_model_from_ckpt(path) for path in args.ckpts]
    model, last = models[-1]
    configs = {str(sorted(m.config.items())) for m, _ in models}
    if len(configs) != 1:
        raise SystemExit(f'average_ckpts: the checkpoints differ in architecture: {configs}')
    states = [m.trained_state() for m, _ in models]
    mean = {}
    for key, value in states[-1].items():
        if value.is_floating_point():
            mean[key] = sum(s[key].float() for s in states) / len(states)
        else:
            mean[key] = value  # BatchNorm's num_batches_tracked
    model.load_state_dict(mean, strict=False)
    steps = [ck['step'] for _, ck in models]
    run_args = argparse.Namespace(**last['args'], averaged_from=steps)
    save_ckpt(args.out, model, Saved(last), last['step'], run_args, last['counts'], last.get('history', []), last.get('hours', {}))
    print(f'average_ckpts: {len(steps)} checkpoints (steps {", ".join(map(str, steps))}) -> {args.out}')


if __name__ == '__main__':
    main()

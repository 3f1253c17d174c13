"""Export a checkpoint to the pipeline's model directory (docs/contracts.md):
global.onnx, colorizer.onnx and model.json; checks both graphs with
onnx.checker and writes a reference (fixed inputs + PyTorch outputs) for
training/verify_onnx.cjs, which runs the files with onnxruntime-node.

  /usr/bin/python3 training/export.py --ckpt training/checkpoints/latest.pt --out models --fp16-weights
  node training/verify_onnx.cjs models training/runs/onnx_reference.json 0.5

--fp16-weights stores the weights as float16, each followed by a Cast to float32 (onnxruntime folds
the casts when it loads the graph, so the arithmetic stays float32): half the file size, for about
0.04 a*b* units of difference on the shipped model (models/README.md).
"""
import argparse
import hashlib
import inspect
import json
import math
import os
import sys

import numpy as np
import onnx
import torch
from onnx import TensorProto, helper, numpy_helper

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from color import load_bins  # noqa: E402
from model import G, LocalExport  # noqa: E402
from quantize import calibrate, quantize_decoder  # noqa: E402
from train import ECCV, HERE, load_model_from_ckpt  # noqa: E402
from data import DEFAULT_ROOT, Batcher, held_out_slice  # noqa: E402

MODEL_NAME = 'colorize-mnv2-unet'
MULTIPLE_OF = 32  # MobileNetV2's SAME padding is traced for even sizes at every stride-2 layer

MAX_BYTES = 16 * 2**20
# PyTorch >= 2.9 exports through dynamo by default, which needs onnxscript (not on the GPU hosts);
# the TorchScript exporter writes the graphs this project has always shipped.
TORCHSCRIPT_EXPORTER = {'dynamo': False} if 'dynamo' in inspect.signature(torch.onnx.export).parameters else {}


def parse():
    p = argparse.ArgumentParser()
    p.add_argument('--ckpt', default=os.path.join(HERE, 'checkpoints', 'latest.pt'))
    p.add_argument('--eccv', default=ECCV)
    p.add_argument('--out', default=os.path.join(HERE, '..', 'models'))
    p.add_argument('--T', type=float, default=1.0, help='annealed-mean temperature (class head)')
    p.add_argument('--gain', type=float, default=1.0, help='a*b* gain folded into the graph')
    p.add_argument('--opset', type=int, default=17)
    p.add_argument('--working-short-side', type=int, default=224)
    p.add_argument('--ref', default=os.path.join(HERE, 'runs', 'onnx_reference.json'))
    p.add_argument('--fp16-weights', action='store_true', help='store weights as float16 (computed in float32)')
    p.add_argument('--int8-cpu', action='store_true',
                   help='also write colorizer-int8.onnx (decoder in int8, calibrated on held-out crops) for the CPU provider')
    p.add_argument('--data', default=DEFAULT_ROOT, help='training shards, for the held-out calibration crops')
    p.add_argument('--calib-images', type=int, default=96)
    return p.parse_args()


def store_weights_fp16(path, min_elements=16, keep=()):
    """Rewrites an ONNX file so every float32 initializer of at least `min_elements` values (but those
    named in `keep`) is stored as float16 and cast back to float32 by a Cast node at the start of the graph."""
    m = onnx.load(path)
    graph = m.graph
    casts, initializers = [], []
    for init in graph.initializer:
        if init.data_type == TensorProto.FLOAT and int(np.prod(init.dims)) >= min_elements and init.name not in keep:
            half = numpy_helper.from_array(numpy_helper.to_array(init).astype(np.float16), init.name + '_fp16')
            initializers.append(half)
            casts.append(helper.make_node('Cast', [half.name], [init.name], to=TensorProto.FLOAT, name=init.name + '_to_fp32'))
        else:
            initializers.append(init)
    nodes = casts + list(graph.node)
    del graph.initializer[:]
    graph.initializer.extend(initializers)
    del graph.node[:]
    graph.node.extend(nodes)
    onnx.save(m, path)


def write_int8_variant(lpath, qpath, local, model, args):
    """colorizer.onnx (float32 weights, as just exported) -> colorizer-int8.onnx; returns the
    quantization constants' names (kept in float32 by store_weights_fp16)."""
    imgs, feats = held_out_slice(args.data, model.config['global_size'], stop=args.calib_images)
    # Centre crops without hints (the automatic mode) and random crops with hints, as in training.
    plain = Batcher(imgs, feats, 128, 32, augment=False).all_batches()
    hinted = Batcher(imgs, feats, 128, 32, seed=1, hint_prob=1.0)
    with torch.no_grad():
        batches = [(L, model.glob.head(g.float()), h) for L, _, g, h, _ in list(plain) + [hinted.next() for _ in range(3)]]
    m = onnx.load(lpath)
    ranges = calibrate(local, m.graph, batches)
    added = quantize_decoder(m, ranges)
    onnx.save(m, qpath)
    print(f'[export] {qpath}: {len(ranges)} activations calibrated on {len(imgs)} held-out crops')
    return added


def reference_inputs(S, h=64, w=96):
    """Deterministic, image-like inputs (normalised L in about [-0.5, 0.5]) and one hint patch."""
    def pattern(hh, ww, phase):
        y = torch.arange(hh, dtype=torch.float32).view(hh, 1)
        x = torch.arange(ww, dtype=torch.float32).view(1, ww)
        return 0.35 * torch.sin(x / 7.0 + phase) * torch.cos(y / 5.0) + 0.15 * torch.sin((x + y) / 13.0)
    Lg = torch.stack([pattern(S, S, 0.0), pattern(S, S, 1.0)]).unsqueeze(1)
    L = torch.stack([pattern(h, w, 0.5), pattern(h, w, 2.0)]).unsqueeze(1)
    hints = torch.zeros(2, 3, h // 4, w // 4)
    hints[1, 0, 4:7, 5:8], hints[1, 1, 4:7, 5:8], hints[1, 2, 4:7, 5:8] = 40.0, -30.0, 1.0
    return Lg, L, hints


def file_facts(path):
    with open(path, 'rb') as f:
        data = f.read()
    return {'bytes': len(data), 'sha256': hashlib.sha256(data).hexdigest()}


def main():
    args = parse()
    torch.set_num_threads(2)
    model, ck = load_model_from_ckpt(args.ckpt)
    model.eval()
    cfg = model.config
    S = cfg['global_size']
    T = args.T
    bins = load_bins(args.eccv)
    os.makedirs(args.out, exist_ok=True)
    gpath = os.path.join(args.out, 'global.onnx')
    lpath = os.path.join(args.out, 'colorizer.onnx')

    glob = model.glob.eval()
    local = LocalExport(model.local, bins, T, args.gain).eval()
    Lg, L, hints = reference_inputs(S)
    with torch.no_grad():
        g_ref = glob(Lg)
        ab_ref = local(L, g_ref, hints)

    torch.onnx.export(glob, (Lg,), gpath, input_names=['L_global'], output_names=['global_features'],
                      dynamic_axes={'L_global': {0: 'N'}, 'global_features': {0: 'N'}},
                      opset_version=args.opset, do_constant_folding=True, **TORCHSCRIPT_EXPORTER)
    torch.onnx.export(local, (L, g_ref, hints), lpath, input_names=['L', 'global_features', 'hints'], output_names=['ab'],
                      dynamic_axes={'L': {0: 'N', 2: 'H', 3: 'W'}, 'global_features': {0: 'N'},
                                    'hints': {0: 'N', 2: 'h', 3: 'w'}, 'ab': {0: 'N', 2: 'h', 3: 'w'}},
                      opset_version=args.opset, do_constant_folding=True, **TORCHSCRIPT_EXPORTER)
    qpath = os.path.join(args.out, 'colorizer-int8.onnx')
    quantized = set()
    if args.int8_cpu:
        quantized = write_int8_variant(lpath, qpath, local, model, args)
    elif os.path.exists(qpath):
        os.remove(qpath)  # a variant of an earlier model must not stay beside this one
    for p in (gpath, lpath) + ((qpath,) if args.int8_cpu else ()):
        if args.fp16_weights:
            store_weights_fp16(p, keep=quantized)
        onnx.checker.check_model(onnx.load(p), full_check=True)
        size = os.path.getsize(p)
        print(f'[export] {p}: {size / 2**20:.2f} MiB, onnx.checker ok')
        if size >= MAX_BYTES:
            sys.exit(f'{p} is {size} bytes, over the 16 MiB limit')

    meta = {
        'name': MODEL_NAME,
        'version': 2,
        'input': {'L': {'center': 50, 'scale': 100}},
        'global': {'file': 'global.onnx', 'input': 'L_global', 'output': 'global_features',
                   'size': S, 'features': G, **file_facts(gpath)},
        'local': {'file': 'colorizer.onnx', 'inputs': {'L': 'L', 'global': 'global_features', 'hints': 'hints'},
                  'output': 'ab', 'multipleOf': MULTIPLE_OF, 'outputStride': 4,
                  'workingShortSide': args.working_short_side, **file_facts(lpath),
                  **({'cpu': {'file': 'colorizer-int8.onnx', **file_facts(qpath)}} if args.int8_cpu else {})},
        'output': {'ab': {'scale': 1}},
    }
    with open(os.path.join(args.out, 'model.json'), 'w') as f:
        json.dump(meta, f, indent=2)
        f.write('\n')
    print(f'[export] {os.path.join(args.out, "model.json")}: head={cfg["head"]} T={T} gain={args.gain} S={S} '
          f'step={ck["step"]} weights={"fp16" if args.fp16_weights else "fp32"}')

    os.makedirs(os.path.dirname(os.path.abspath(args.ref)), exist_ok=True)
    tensor = lambda t: {'dims': list(t.shape), 'data': t.flatten().tolist()}  # noqa: E731
    ref = {'L_global': tensor(Lg), 'L': tensor(L), 'hints': tensor(hints), 'global_features': tensor(g_ref),
           'ab': tensor(ab_ref), 'ab_range': [ab_ref.min().item(), ab_ref.max().item()]}
    assert all(math.isfinite(v) for v in ref['ab']['data'])
    with open(args.ref, 'w') as f:
        json.dump(ref, f)
    print(f'[export] reference inputs/outputs -> {args.ref}')


if __name__ == '__main__':
    main()

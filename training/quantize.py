"""An int8 variant of colorizer.onnx for the CPU provider (export.py --int8-cpu).

The decoder's convolutions (all but the 313-bin head) are rewritten in QDQ form: uint8
activations with per-tensor scales calibrated on held-out crops, int8 weights with per-channel
scales, int32 biases. onnxruntime fuses each DequantizeLinear -> Conv -> Relu -> QuantizeLinear
group into one QLinearConv, which on CPUs with AVX-512 VNNI runs 3-4x faster than float32
(bench/int8-conv-probe.py). The MobileNetV2 encoder stays in float: its linear bottlenecks and
residual sums lose too much at per-tensor int8 (measured: mean a*b* error 1.7 units with it, 0.1
without), and the head's logits feed a softmax at temperature T, where rounding would show.
"""
import numpy as np
import torch
from onnx import helper, numpy_helper

DECODER = '/local/decoder/'
KEEP_FLOAT = {'/local/decoder/head/Conv'}


def decoder_convs(graph):
    return [n for n in graph.node if n.op_type == 'Conv' and n.name.startswith(DECODER) and n.name not in KEEP_FLOAT]


def module_name(node_name):
    """'/local/decoder/c4/c4.0/c4.0.0/Conv' -> 'local.decoder.c4.0.0' (the module the exporter traced it from)."""
    parts = node_name.strip('/').split('/')
    return f'{parts[0]}.{parts[1]}.{parts[-2]}'


def consumers_of(graph):
    out = {}
    for n in graph.node:
        for i in n.input:
            out.setdefault(i, []).append(n)
    return out


def activation_after(conv, consumers):
    """The Relu that follows a decoder convolution (conv_bn), or None."""
    following = consumers.get(conv.output[0], [])
    return following[0] if len(following) == 1 and following[0].op_type == 'Relu' else None


@torch.no_grad()
def calibrate(export_module, graph, batches):
    """Range (min, max) of every tensor to quantize, over `batches` of (L, global, hints) run through
    the PyTorch module the graph was exported from: each decoder convolution's input and its Relu's output."""
    modules = dict(export_module.named_modules())
    consumers = consumers_of(graph)
    ranges, hooks = {}, []

    def track(name):
        def update(t):
            lo, hi = t.min().item(), t.max().item()
            old = ranges.get(name, (lo, hi))
            ranges[name] = (min(old[0], lo), max(old[1], hi))
        return update

    for conv in decoder_convs(graph):
        relu = activation_after(conv, consumers)
        if relu is None:
            raise SystemExit(f'quantize: {conv.name} is not followed by a Relu')
        seen_in, seen_out = track(conv.input[0]), track(relu.output[0])
        hooks.append(modules[module_name(conv.name)].register_forward_pre_hook(lambda m, args, f=seen_in: f(args[0])))
        hooks.append(modules[module_name(relu.name)].register_forward_hook(lambda m, args, out, f=seen_out: f(out)))
    try:
        for L, g, hints in batches:
            export_module(L, g, hints)
    finally:
        for h in hooks:
            h.remove()
    return ranges


def quantize_decoder(model, ranges):
    """Rewrites the ONNX model (float32 weights) in place; returns the names of the initializers it added."""
    graph = model.graph
    consumers = consumers_of(graph)
    init = {i.name: i for i in graph.initializer}
    added, after, before = [], {}, {}

    def constant(array, name):
        graph.initializer.append(numpy_helper.from_array(array, name))
        added.append(name)
        return name

    act_scale = {}
    for tensor, (lo, hi) in ranges.items():
        lo, hi = min(0.0, lo), max(0.0, hi)
        scale = max(hi - lo, 1e-6) / 255.0
        zero = int(min(255, max(0, round(-lo / scale))))
        act_scale[tensor] = scale
        key = 'q8' + tensor.replace('/', '_')
        s, z = constant(np.array(scale, np.float32), key + '_scale'), constant(np.array(zero, np.uint8), key + '_zero')
        for c in consumers.get(tensor, []):
            for k, name in enumerate(c.input):
                if name == tensor:
                    c.input[k] = key + '_dq'
        after[tensor] = [helper.make_node('QuantizeLinear', [tensor, s, z], [key + '_q'], name=key + '_Q'),
                         helper.make_node('DequantizeLinear', [key + '_q', s, z], [key + '_dq'], name=key + '_DQ')]

    for conv in decoder_convs(graph):
        source = next(t for t in ranges if conv.input[0] == 'q8' + t.replace('/', '_') + '_dq')
        w = numpy_helper.to_array(init[conv.input[1]]).astype(np.float32)
        cout = w.shape[0]
        w_scale = np.maximum(np.abs(w).reshape(cout, -1).max(axis=1), 1e-8) / 127.0
        key = 'q8' + conv.name.replace('/', '_')
        nodes = [helper.make_node('DequantizeLinear', [
            constant(np.clip(np.round(w / w_scale[:, None, None, None]), -127, 127).astype(np.int8), key + '_w'),
            constant(w_scale.astype(np.float32), key + '_w_scale'),
            constant(np.zeros(cout, np.int8), key + '_w_zero')], [key + '_w_dq'], axis=0, name=key + '_WDQ')]
        conv.input[1] = key + '_w_dq'
        if len(conv.input) > 2 and conv.input[2]:
            b_scale = (act_scale[source] * w_scale).astype(np.float32)
            b = numpy_helper.to_array(init[conv.input[2]]).astype(np.float64)
            nodes.append(helper.make_node('DequantizeLinear', [
                constant(np.clip(np.round(b / b_scale), -2**31, 2**31 - 1).astype(np.int32), key + '_b'),
                constant(b_scale, key + '_b_scale'),
                constant(np.zeros(cout, np.int32), key + '_b_zero')], [key + '_b_dq'], axis=0, name=key + '_BDQ'))
            conv.input[2] = key + '_b_dq'
        before[conv.name] = nodes

    ordered = []
    for n in graph.node:
        ordered += before.get(n.name, [])
        ordered.append(n)
        for o in n.output:
            ordered += after.get(o, [])
    del graph.node[:]
    graph.node.extend(ordered)
    used = {i for n in graph.node for i in n.input}
    kept = [i for i in graph.initializer if i.name in used]
    del graph.initializer[:]
    graph.initializer.extend(kept)
    return set(added)

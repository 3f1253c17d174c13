"""Builds the two largest convolutions of the local network's decoder (3x3, at the 1/4 and 1/8
grids of a 224x384 working size) as ONNX graphs twice: float32, and int8 in QDQ form (per-tensor
uint8 activations, per-channel int8 weights) that onnxruntime fuses into QLinearConv. Timed by
bench/int8-conv-probe.mjs. Weights are random: this measures speed, not quality.

  /usr/bin/python3 bench/int8-conv-probe.py DIR && node bench/int8-conv-probe.mjs DIR
"""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

# (name, in channels, out channels, height, width): decoder c4[0] and c8[0] of training/model.py
LAYERS = [('c4', 131, 48, 56, 96), ('c8', 195, 96, 28, 48)]


def conv_graph(cin, cout, height, width, int8, rng):
    w = (rng.standard_normal((cout, cin, 3, 3)) * 0.05).astype(np.float32)
    inits = [numpy_helper.from_array(np.zeros(cout, np.float32), 'b')]
    nodes = []
    x = 'x'
    if int8:
        inits += [numpy_helper.from_array(np.array(0.05, np.float32), 'xs'), numpy_helper.from_array(np.array(128, np.uint8), 'xz')]
        nodes += [helper.make_node('QuantizeLinear', ['x', 'xs', 'xz'], ['xq']), helper.make_node('DequantizeLinear', ['xq', 'xs', 'xz'], ['xd'])]
        x = 'xd'
        scale = np.abs(w).reshape(cout, -1).max(1) / 127
        inits += [numpy_helper.from_array(np.round(w / scale[:, None, None, None]).astype(np.int8), 'wq'),
                  numpy_helper.from_array(scale.astype(np.float32), 'ws'), numpy_helper.from_array(np.zeros(cout, np.int8), 'wz')]
        nodes.append(helper.make_node('DequantizeLinear', ['wq', 'ws', 'wz'], ['w'], axis=0))
    else:
        inits.append(numpy_helper.from_array(w, 'w'))
    nodes += [helper.make_node('Conv', [x, 'w', 'b'], ['c'], pads=[1, 1, 1, 1]), helper.make_node('Relu', ['c'], ['r'])]
    if int8:
        inits += [numpy_helper.from_array(np.array(0.05, np.float32), 'ys'), numpy_helper.from_array(np.array(0, np.uint8), 'yz')]
        nodes += [helper.make_node('QuantizeLinear', ['r', 'ys', 'yz'], ['yq']), helper.make_node('DequantizeLinear', ['yq', 'ys', 'yz'], ['y'])]
    else:
        nodes.append(helper.make_node('Identity', ['r'], ['y']))
    graph = helper.make_graph(nodes, 'probe', [helper.make_tensor_value_info('x', TensorProto.FLOAT, [1, cin, height, width])],
                              [helper.make_tensor_value_info('y', TensorProto.FLOAT, [1, cout, height, width])], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid('', 17)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else '.out/int8-probe'
    os.makedirs(out, exist_ok=True)
    rng = np.random.default_rng(0)
    for name, cin, cout, height, width in LAYERS:
        for int8 in (False, True):
            onnx.save(conv_graph(cin, cout, height, width, int8, rng), os.path.join(out, f'{name}-{"int8" if int8 else "fp32"}.onnx'))
    print(f'wrote {2 * len(LAYERS)} graphs to {out}')


if __name__ == '__main__':
    main()

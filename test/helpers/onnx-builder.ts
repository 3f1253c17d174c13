/**
 * A minimal ONNX ModelProto writer (protobuf wire format by hand) so tests can build tiny graphs
 * with known outputs without Python. Only what the tests need: float tensors, int/float/ints attributes.
 */

type Bytes = number[];

function varint(value: number | bigint, out: Bytes): void {
  let v = BigInt(value);
  if (v < 0n) v += 1n << 64n;
  while (v >= 0x80n) {
    out.push(Number((v & 0x7fn) | 0x80n));
    v >>= 7n;
  }
  out.push(Number(v));
}

function key(field: number, wireType: number, out: Bytes): void {
  varint((field << 3) | wireType, out);
}

function lengthDelimited(field: number, payload: Bytes | Uint8Array, out: Bytes): void {
  key(field, 2, out);
  varint(payload.length, out);
  for (const b of payload) out.push(b);
}

function stringField(field: number, text: string, out: Bytes): void {
  lengthDelimited(field, Array.from(Buffer.from(text, 'utf8')), out);
}

function intField(field: number, value: number, out: Bytes): void {
  key(field, 0, out);
  varint(value, out);
}

export type AttributeValue = number | number[] | { float: number };

export interface NodeSpec {
  op: string;
  inputs: string[];
  outputs: string[];
  attributes?: Record<string, AttributeValue>;
}

export interface TensorSpec {
  name: string;
  dims: number[];
  values: number[] | Float32Array;
  /** Element type; float32 unless said otherwise. */
  dtype?: 'float' | 'int64';
}

export interface ValueSpec {
  name: string;
  /** Numbers are fixed sizes, strings are symbolic (dynamic) dimensions. */
  shape: Array<number | string>;
}

function attribute(name: string, value: AttributeValue): Bytes {
  const out: Bytes = [];
  stringField(1, name, out);
  if (typeof value === 'number') {
    intField(3, value, out);
    intField(20, 2, out); // INT
  } else if (Array.isArray(value)) {
    for (const v of value) intField(8, v, out);
    intField(20, 7, out); // INTS
  } else {
    key(2, 5, out);
    const f = Buffer.alloc(4);
    f.writeFloatLE(value.float);
    out.push(...f);
    intField(20, 1, out); // FLOAT
  }
  return out;
}

function node(spec: NodeSpec, index: number): Bytes {
  const out: Bytes = [];
  for (const i of spec.inputs) stringField(1, i, out);
  for (const o of spec.outputs) stringField(2, o, out);
  stringField(3, `n${index}`, out);
  stringField(4, spec.op, out);
  for (const [name, value] of Object.entries(spec.attributes ?? {})) lengthDelimited(5, attribute(name, value), out);
  return out;
}

function tensor(spec: TensorSpec): Bytes {
  const out: Bytes = [];
  for (const d of spec.dims) intField(1, d, out);
  intField(2, spec.dtype === 'int64' ? 7 : 1, out); // INT64 or FLOAT
  stringField(8, spec.name, out);
  const raw =
    spec.dtype === 'int64'
      ? Buffer.from(BigInt64Array.from(Array.from(spec.values, (v) => BigInt(v))).buffer)
      : Buffer.from(Float32Array.from(spec.values).buffer);
  lengthDelimited(9, raw, out);
  return out;
}

function valueInfo(spec: ValueSpec): Bytes {
  const shape: Bytes = [];
  for (const d of spec.shape) {
    const dim: Bytes = [];
    if (typeof d === 'number') intField(1, d, dim);
    else stringField(2, d, dim);
    lengthDelimited(1, dim, shape);
  }
  const tensorType: Bytes = [];
  intField(1, 1, tensorType); // FLOAT
  lengthDelimited(2, shape, tensorType);
  const type: Bytes = [];
  lengthDelimited(1, tensorType, type);
  const out: Bytes = [];
  stringField(1, spec.name, out);
  lengthDelimited(2, type, out);
  return out;
}

export interface GraphSpec {
  nodes: NodeSpec[];
  initializers?: TensorSpec[];
  inputs: ValueSpec[];
  outputs: ValueSpec[];
  opset?: number;
}

export function buildOnnxModel(spec: GraphSpec): Uint8Array {
  const graph: Bytes = [];
  spec.nodes.forEach((n, i) => lengthDelimited(1, node(n, i), graph));
  stringField(2, 'test-graph', graph);
  for (const t of spec.initializers ?? []) lengthDelimited(5, tensor(t), graph);
  for (const v of spec.inputs) lengthDelimited(11, valueInfo(v), graph);
  for (const v of spec.outputs) lengthDelimited(12, valueInfo(v), graph);
  const opset: Bytes = [];
  stringField(1, '', opset);
  intField(2, spec.opset ?? 17, opset);
  const model: Bytes = [];
  intField(1, 8, model); // ir_version
  stringField(2, 'colorize-video-tests', model);
  lengthDelimited(7, graph, model);
  lengthDelimited(8, opset, model);
  return Uint8Array.from(model);
}

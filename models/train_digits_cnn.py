#!/usr/bin/env python3
"""Trains digits-cnn.onnx, the convolutional digits model for both modes (issue #13, point 3), with PyTorch.

The one bundled model not trained by a TypeScript script: its training needs convolution gradients. CI never runs
this file; `models/digits-cnn.test.ts` checks the committed model (ops, test accuracy in onnxruntime against
digits-cnn.json, FHE accuracy). Needs torch and onnx from the machine's local wheel mirror:
    python3 -m venv /tmp/torchenv
    /tmp/torchenv/bin/pip install --index-url file:///opt/pypi/simple --extra-index-url file:///opt/pypi-more/simple \
        torch onnx numpy
    /tmp/torchenv/bin/python models/train_digits_cnn.py

Data: models/data/digits.csv with the split every Veil consumer uses (models/split-dataset.ts: stratified 80/20,
mulberry32 seeded with DIGITS_SPLIT.seed, Fisher–Yates per class in label order), reimplemented below bit for bit.

Network, chosen for CKKS: x[batch, 64] raw pixels → ·1/16 → Reshape [batch, 1, 8, 8] → Conv 1→8, 3×3, stride 2,
pad 1 → x² → Flatten (128) → Gemm → 10 logits. Everything but the square is linear, so the compiler folds the scale
into the Conv: depth 3 (Conv, square, Gemm), N = 8192, no calibration, and the FHE result equals the plaintext one up
to CKKS noise. The stride (instead of a stride-1 Conv and a 2×2 AvgPool after the square, same test accuracy) gives
128 squared features instead of 512: a quarter of the ciphertext products.
"""
import io
import json
import math
import os

import numpy as np
import onnx
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
SPLIT_SEED = 20_251_125
TEST_FRACTION = 0.2
CHANNELS = 8
EPOCHS = 60
SEED = 1


def mulberry32(seed):
    state = seed & 0xFFFFFFFF

    def imul(a, b):
        return (a * b) & 0xFFFFFFFF

    def nxt():
        nonlocal state
        state = (state + 0x6D2B79F5) & 0xFFFFFFFF
        t = state
        t = imul(t ^ (t >> 15), t | 1)
        t ^= (t + imul(t ^ (t >> 7), t | 61)) & 0xFFFFFFFF
        return ((t ^ (t >> 14)) & 0xFFFFFFFF) / 4294967296

    return nxt


def split(labels):
    nxt = mulberry32(SPLIT_SEED)
    is_test = np.zeros(len(labels), dtype=bool)
    for c in range(10):
        rows = [i for i, label in enumerate(labels) if label == c]
        count = math.floor(len(rows) * TEST_FRACTION + 0.5)  # JavaScript Math.round
        for i in range(len(rows) - 1, 0, -1):
            j = math.floor(nxt() * (i + 1))
            rows[i], rows[j] = rows[j], rows[i]
        is_test[rows[:count]] = True
    return ~is_test, is_test


class DigitsCnn(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = torch.nn.Conv2d(1, CHANNELS, 3, stride=2, padding=1)
        self.fc = torch.nn.Linear(CHANNELS * 16, 10)

    def forward(self, x):
        h = self.conv((x * (1.0 / 16)).reshape(-1, 1, 8, 8))
        return self.fc(torch.flatten(h * h, 1))


def main():
    data = np.loadtxt(os.path.join(HERE, 'data', 'digits.csv'), delimiter=',', dtype=np.float32)
    x, y = data[:, :64], data[:, 64].astype(np.int64)
    train, test = split(y)
    torch.manual_seed(SEED)
    torch.use_deterministic_algorithms(True)
    model = DigitsCnn()
    xt, yt = torch.from_numpy(x[train]), torch.from_numpy(y[train])
    opt = torch.optim.AdamW(model.parameters(), lr=0.005, weight_decay=0.05)
    steps = EPOCHS * math.ceil(len(xt) / 32)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, steps)
    g = torch.Generator().manual_seed(SEED)
    for _ in range(EPOCHS):
        model.train()
        for idx in torch.randperm(len(xt), generator=g).split(32):
            opt.zero_grad()
            torch.nn.functional.cross_entropy(model(xt[idx]), yt[idx]).backward()
            opt.step()
            sched.step()
    model.eval()
    with torch.no_grad():
        acc = lambda m: float((model(torch.from_numpy(x[m])).argmax(1).numpy() == y[m]).mean())
        train_acc, test_acc = acc(train), acc(test)
        logits = model(torch.from_numpy(x)).numpy()
        pre = model.conv((torch.from_numpy(x) / 16).reshape(-1, 1, 8, 8)).numpy()
    buf = io.BytesIO()
    torch.onnx.export(model, (torch.from_numpy(x[:2]),), buf, opset_version=17, input_names=['x'], output_names=['logits'],
                      dynamic_axes={'x': {0: 'batch'}, 'logits': {0: 'batch'}}, do_constant_folding=True, dynamo=False)
    onnx_model = onnx.load_from_string(buf.getvalue())
    onnx.checker.check_model(onnx_model)
    with open(os.path.join(HERE, 'digits-cnn.onnx'), 'wb') as f:
        f.write(buf.getvalue())
    meta = {
        'producer': f'{onnx_model.producer_name} {onnx_model.producer_version}',
        'torch': torch.__version__,
        'ops': [n.op_type for n in onnx_model.graph.node],
        'train': {'epochs': EPOCHS, 'batch': 32, 'optimizer': 'AdamW', 'lr': 0.005, 'weight_decay': 0.05, 'schedule': 'cosine', 'seed': SEED},
        'split': {'train': int(train.sum()), 'test': int(test.sum())},
        'accuracy': {'train': round(train_acc, 6), 'test': round(test_acc, 6)},
        'max_abs_preactivation': float(np.abs(pre).max()),
        'max_abs_logit': float(np.abs(logits).max()),
    }
    with open(os.path.join(HERE, 'digits-cnn.json'), 'w') as f:
        json.dump(meta, f, indent=1)
        f.write('\n')
    print(json.dumps(meta))


if __name__ == '__main__':
    main()

#!/usr/bin/env python3
"""Models for benchmarking the model gate (scoring throughput, latency), written to <outdir>.

Run with Debian's Python (torch 1.13, scikit-learn 1.2, onnx 1.12):
    /usr/bin/python3 bench/make-models.py bench/data/models

Writes (not committed; bench/data/ is git-ignored):
- trees-100.onnx  RandomForestClassifier(n_estimators=100, max_depth=6, random_state=0) fitted on
                  20,000 rows of make_classification(n_features=30, random_state=0), converted to a
                  binary TreeEnsembleClassifier in skl2onnx's layout, ZipMap off: input
                  `float_input` float [None, 30], outputs `label` int64 [None] and `probabilities`
                  float [None, 2];
- mlp.onnx        torch MLP 30→64→64→2 with random weights (torch.manual_seed(0)), exported at
                  opset 17: input `input` float [batch, 30], output `logits` float [batch, 2].

The graph builders are those of scripts/fixtures/make-model-fixtures.py (imported from there), and
the forest is checked the same way: a numpy run of the written graph must match sklearn's
predict_proba to 1e-5 with the same labels (on 2,000 of the training rows). Deterministic: the
same library versions write the same bytes. Prints each file with its size, inputs and outputs.
"""
import hashlib
import importlib.util
import os
import sys

import numpy as np
import onnx

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.join(HERE, '..', 'scripts', 'fixtures', 'make-model-fixtures.py')


def load_fixture_module():
    spec = importlib.util.spec_from_file_location('make_model_fixtures', FIXTURES)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main():
    if len(sys.argv) != 2 or sys.argv[1] in ('-h', '--help'):
        sys.exit(__doc__)
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    fixtures = load_fixture_module()

    from sklearn.datasets import make_classification
    from sklearn.ensemble import RandomForestClassifier

    n_features = 30
    x, y = make_classification(n_samples=20000, n_features=n_features, random_state=0)
    forest = RandomForestClassifier(n_estimators=100, max_depth=6, random_state=0)
    forest.fit(x, y)
    trees_path = os.path.join(out, 'trees-100.onnx')
    onnx.save_model(fixtures.forest_to_onnx(forest, n_features), trees_path)

    sample = x[:2000].astype(np.float32)
    outputs, _ = fixtures.run_graph(onnx.load(trees_path), {'float_input': sample})
    proba = forest.predict_proba(sample)
    diff = float(np.max(np.abs(outputs['probabilities'] - proba)))
    if diff > fixtures.TOLERANCE or not np.array_equal(outputs['label'], forest.predict(sample)):
        sys.exit(f'trees-100.onnx does not match scikit-learn: max abs difference {diff}')

    torch = fixtures.torch_setup(0)
    MLP, _ = fixtures.torch_modules()
    # identity standardisation: the weights are random anyway
    mlp = MLP(np.zeros(n_features, dtype=np.float32), np.ones(n_features, dtype=np.float32), [n_features, 64, 64, 2])
    mlp_path = os.path.join(out, 'mlp.onnx')
    fixtures.export_torch(mlp, n_features, 'logits', mlp_path)
    outputs, _ = fixtures.run_graph(onnx.load(mlp_path), {'input': sample})
    with torch.no_grad():
        logits = mlp(torch.from_numpy(sample)).numpy()
    mlp_diff = float(np.max(np.abs(outputs['logits'] - logits)))
    if mlp_diff > fixtures.TOLERANCE:
        sys.exit(f'mlp.onnx does not match torch: max abs difference {mlp_diff}')

    for path, note in [(trees_path, f'100 trees, {sum(e.tree_.node_count for e in forest.estimators_)} nodes; '
                                    f'numpy vs sklearn max abs diff {diff:.2g}'),
                       (mlp_path, f'numpy vs torch max abs diff {mlp_diff:.2g}')]:
        model = onnx.load(path)
        inputs, outputs = fixtures.io_of(model)
        with open(path, 'rb') as f:
            digest = hashlib.sha256(f.read()).hexdigest()[:16]
        print(f'{path}  {os.path.getsize(path)} bytes  sha256 {digest}  ({note})')
        for kind, values in (('input ', inputs), ('output', outputs)):
            for v in values:
                print(f'  {kind} {v["name"]}: {v["type"]} {v.get("shape", "")}')


if __name__ == '__main__':
    main()

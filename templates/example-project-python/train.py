"""Train the breast-cancer classifier and export it to ONNX for the mlops gates.

    python train.py [--data data/train.csv] [--out build/model.onnx] [--golden build/golden.json] [--c 1.0]

Writes the model (scikit-learn's StandardScaler + LogisticRegression, converted by skl2onnx) and a
golden file: a few rows with scikit-learn's own probabilities, which the model gate compares with what
ONNX Runtime computes from the exported model (`golden:` in mlops.yaml), so an export that changes the
model's answers fails the gate. The model's path defaults to $MODEL_PATH, which the mlops workflows set.
"""
import argparse
import json
import os
import sys

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

TARGET = 'target'
# Rows of the training data written to the golden file with scikit-learn's probabilities.
GOLDEN_ROWS = 20
# The ONNX opset: 17 loads in every ONNX Runtime of the last years, and skl2onnx converts this
# pipeline with it.
TARGET_OPSET = 17


def load(path):
    """The features as float32 (what the ONNX model takes), the labels, and the feature names in order."""
    table = pd.read_csv(path)
    if TARGET not in table.columns:
        sys.exit(f'train: {path} has no column "{TARGET}" (columns: {", ".join(table.columns)})')
    features = [column for column in table.columns if column != TARGET]
    missing = table[features].isna().any()
    if missing.any():
        sys.exit(f'train: {path} has missing values in {", ".join(missing[missing].index)}: this model needs complete rows')
    return table[features].to_numpy(dtype=np.float32), table[TARGET].to_numpy(), features


def train(x, y, c=1.0):
    """Standardization and an L2-regularized logistic regression, fitted on x, y."""
    pipeline = make_pipeline(StandardScaler(), LogisticRegression(C=c, max_iter=1000))
    pipeline.fit(x, y)
    return pipeline


def to_onnx(pipeline, n_features):
    """The pipeline as ONNX, converted by skl2onnx: one input `X` float [N, n_features], outputs `label`
    [N] and `probabilities` [N, 2]. zipmap off: the probabilities stay a plain tensor, which ONNX
    Runtime returns everywhere and a golden file can hold (with ZipMap they are a list of dicts)."""
    from skl2onnx import to_onnx as convert

    return convert(pipeline, np.zeros((1, n_features), dtype=np.float32), options={'zipmap': False},
                   target_opset=TARGET_OPSET)


def golden(pipeline, input_name, x):
    """The mlops golden file: inputs and scikit-learn's probabilities for them (format mlops-golden 1)."""
    rows = np.asarray(x[:GOLDEN_ROWS], dtype=np.float32)
    probabilities = pipeline.predict_proba(rows)
    return {
        'format': 'mlops-golden',
        'version': 1,
        'inputs': {input_name: {'shape': list(rows.shape), 'data': [float(v) for v in rows.ravel()]}},
        'outputs': {'probabilities': {'shape': list(probabilities.shape),
                                      'data': [float(v) for v in probabilities.ravel()]}},
    }


def write_atomic(path, data):
    """Writes through a temporary file and a rename: a reader never sees half a file."""
    folder = os.path.dirname(path)
    if folder:
        os.makedirs(folder, exist_ok=True)
    temporary = f'{path}.tmp'
    with open(temporary, 'wb') as f:
        f.write(data)
    os.replace(temporary, path)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--data', default='data/train.csv')
    parser.add_argument('--out', default=os.environ.get('MODEL_PATH') or 'build/model.onnx')
    parser.add_argument('--golden', default='build/golden.json')
    parser.add_argument('--c', type=float, default=1.0, help='inverse regularization strength (default 1.0)')
    args = parser.parse_args(argv)

    x, y, features = load(args.data)
    pipeline = train(x, y, args.c)
    model = to_onnx(pipeline, len(features))
    # The feature names travel with the model, for people reading it (the gate takes the columns in
    # the order of the data contract, which is this order).
    entry = model.metadata_props.add()
    entry.key, entry.value = 'features', json.dumps(features)
    write_atomic(args.out, model.SerializeToString())
    write_atomic(args.golden, (json.dumps(golden(pipeline, model.graph.input[0].name, x)) + '\n').encode())
    accuracy = pipeline.score(x, y)
    print(f'trained on {len(y)} rows x {len(features)} features: training accuracy {accuracy:.3f}, '
          f'C {args.c} -> {args.out} ({os.path.getsize(args.out)} bytes), golden file {args.golden}')


if __name__ == '__main__':
    main()

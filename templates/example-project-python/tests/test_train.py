"""Unit tests of train.py: reading the data, the fitted pipeline, the golden file and the export."""
import json
import os

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

import train

HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TRAIN = os.path.join(HERE, 'data', 'train.csv')
HOLDOUT = os.path.join(HERE, 'data', 'test.csv')


def test_load_reads_30_float32_features_and_the_label():
    x, y, features = train.load(TRAIN)
    assert x.shape == (455, 30) and x.dtype == np.float32
    assert set(np.unique(y)) == {0, 1}
    assert features[0] == 'mean radius' and 'target' not in features


def test_load_refuses_missing_values(tmp_path):
    broken = tmp_path / 'broken.csv'
    broken.write_text('a,b,target\n1,,0\n2,3,1\n')
    with pytest.raises(SystemExit, match='missing values in b'):
        train.load(str(broken))


def test_the_model_separates_the_classes_on_the_holdout():
    x, y, _ = train.load(TRAIN)
    pipeline = train.train(x, y)
    x_test, y_test, _ = train.load(HOLDOUT)
    assert roc_auc_score(y_test, pipeline.predict_proba(x_test)[:, 1]) > 0.97


def test_the_golden_file_holds_inputs_and_scikit_learns_probabilities():
    x, y, _ = train.load(TRAIN)
    pipeline = train.train(x, y)
    golden = json.loads(json.dumps(train.golden(pipeline, 'X', x)))
    assert golden['format'] == 'mlops-golden' and golden['version'] == 1
    assert golden['inputs']['X']['shape'] == [train.GOLDEN_ROWS, 30]
    assert len(golden['inputs']['X']['data']) == train.GOLDEN_ROWS * 30
    probabilities = np.array(golden['outputs']['probabilities']['data']).reshape(train.GOLDEN_ROWS, 2)
    assert np.allclose(probabilities.sum(axis=1), 1)
    assert np.allclose(probabilities, pipeline.predict_proba(x[:train.GOLDEN_ROWS]))


def test_the_export_takes_one_float_input_and_returns_plain_probabilities():
    pytest.importorskip('skl2onnx')
    x, y, features = train.load(TRAIN)
    model = train.to_onnx(train.train(x, y), len(features))
    assert [i.name for i in model.graph.input] == ['X']
    assert [o.name for o in model.graph.output] == ['label', 'probabilities']
    assert 'ZipMap' not in {node.op_type for node in model.graph.node}

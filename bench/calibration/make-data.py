#!/usr/bin/env python3
"""Data and models for the gate calibration benchmark (bench/calibration.js), written under <outdir>.

Run with Debian's Python (numpy, pandas, scikit-learn 1.2, statsmodels, torch 1.13, onnx):

    /usr/bin/python3 bench/calibration/make-data.py OUTDIR --part data   --datasets iris,fair --seeds 20
    /usr/bin/python3 bench/calibration/make-data.py OUTDIR --part models --datasets iris --retrains 8 --splits 2
    /usr/bin/python3 bench/calibration/make-data.py --list          # the datasets, as JSON

--part data, per dataset: OUTDIR/data/<dataset>/seed-<k>/train.csv and test.csv (a random 75/25 split,
header row, the features then `target`) and faults/<type>.csv, each fault injected into that clean
holdout; OUTDIR/data/<dataset>/manifest.json lists every case with its parameters (or why it was skipped).

--part models, per dataset: OUTDIR/models/<dataset>/split-<s>/data/{train,test}.csv (split seed s) and
good-<i>.onnx (equivalent retrains: the same MLP and budget, torch seed and bootstrap resample of the
train split of their own) and worse-<kind>.onnx (degraded candidates); OUTDIR/models/<dataset>/manifest.json.

Every model is Standardize(train mean/std) → Linear → ReLU → Linear → ReLU → Linear, exported with
torch.onnx.export (opset 17, dynamic batch): one float input `input` [batch, p] taking the CSV's feature
columns in file order; classification: `probabilities` [batch, K] (softmax, also for binary); regression:
`prediction` [batch, 1] (the target's standardization is undone inside the graph).

Deterministic: a case depends only on (dataset, seed, fault) or (dataset, split, retrain), never on how
many seeds or retrains were asked for, so asking for more only adds files.
"""
import argparse
import hashlib
import io
import json
import os
import sys
import zlib

HINT = "run with Debian's /usr/bin/python3; apt install python3-sklearn python3-torch python3-onnx python3-statsmodels"

try:
    import numpy as np
    import pandas as pd
except ImportError as error:  # pragma: no cover - depends on the interpreter
    sys.exit(f'make-data.py: cannot import numpy/pandas ({error}): {HINT}')

GENERATOR_VERSION = 1
FAULTS = ['type-error', 'out-of-range', 'missing-column', 'duplicate-rows', 'leaked-rows', 'shift-1sd',
          'covariate-shift']
WORSE = ['label-noise-30', 'label-noise-50', 'one-feature', 'two-features', 'few-steps']

# name: (source, tag, task); the task is the one the model part uses (the data part does not need it)
DATASETS = {
    'iris': ('sklearn', 'tune', 'multiclass'),
    'breast_cancer': ('sklearn', 'tune', 'binary'),
    'wine': ('sklearn', 'report', 'multiclass'),
    'diabetes': ('sklearn', 'report', 'regression'),
    'digits': ('sklearn', 'report', 'multiclass'),
    'fair': ('statsmodels', 'report', 'binary'),
    'anes96': ('statsmodels', 'report', 'binary'),
    'modechoice': ('statsmodels', 'report', 'binary'),
    'star98': ('statsmodels', 'report', 'regression'),
    'randhie': ('statsmodels', 'report', 'regression'),
    'macrodata': ('statsmodels', 'report', 'regression'),
    'grunfeld': ('statsmodels', 'report', 'regression'),
}
DESCRIPTIONS = {
    'iris': 'sklearn load_iris: 4 features, 3 classes',
    'breast_cancer': 'sklearn load_breast_cancer: 30 features, binary',
    'wine': 'sklearn load_wine: 13 features, 3 classes',
    'diabetes': 'sklearn load_diabetes (scaled features): 10 features, regression',
    'digits': 'sklearn load_digits: 64 pixel features (0-16), 10 classes',
    'fair': 'statsmodels fair: target affairs > 0 (binary), 8 features',
    'anes96': 'statsmodels anes96: target vote (binary), 10 features',
    'modechoice': 'statsmodels modechoice: target choice (binary), individual dropped, 7 features',
    'star98': 'statsmodels star98: target NABOVE/(NABOVE+NBELOW) (regression), counts dropped, 20 features',
    'randhie': 'statsmodels randhie: target mdvis (regression), 5000 rows drawn without replacement, 9 features',
    'macrodata': 'statsmodels macrodata: target realcons (regression), 13 features',
    'grunfeld': 'statsmodels grunfeld: target invest (regression), firm (text) dropped, 3 features',
}
MODEL_DATASETS = ['breast_cancer', 'iris', 'wine', 'diabetes', 'fair', 'anes96', 'star98', 'randhie']

# the missing-value tokens the toolkit reads by default: never used as an injected bad value
MISSING_TOKENS = {'', 'NA', 'N/A', 'NaN', 'nan', 'null', 'NULL', 'None', '#N/A'}

# Full-batch Adam; the weight decay (an L2 term in Adam) and the short budget keep these small nets from
# over-fitting the smaller datasets (with 300 steps and 1e-4 the regressions did worse than the mean).
HIDDEN, STEPS, FEW_STEPS, LEARNING_RATE, WEIGHT_DECAY = 16, 100, 3, 0.01, 1e-2


def rng_for(*parts):
    """A numpy Generator seeded by a stable hash of the parts (names and numbers)."""
    return np.random.default_rng([zlib.crc32(str(p).encode()) for p in parts])


def snake(name):
    out = ''.join(c if c.isalnum() else '_' for c in str(name).strip()).strip('_').lower()
    while '__' in out:
        out = out.replace('__', '_')
    return out


def integral_columns_to_int(frame):
    for column in frame.columns:
        values = frame[column].to_numpy(dtype=float)
        if np.all(np.isfinite(values)) and np.all(values == np.round(values)) and np.all(np.abs(values) < 2**53):
            frame[column] = values.astype(np.int64)
    return frame


def load_dataset(name):
    """The dataset as a DataFrame: numeric feature columns (snake_case) then `target`, no missing values."""
    source, _, task = DATASETS[name]
    if source == 'sklearn':
        try:
            from sklearn import datasets
        except ImportError as error:
            sys.exit(f'make-data.py: cannot import scikit-learn ({error}): {HINT}')
        bunch = getattr(datasets, f'load_{name}')()
        frame = pd.DataFrame(bunch.data, columns=[snake(c) for c in bunch.feature_names])
        frame['target'] = bunch.target
    else:
        try:
            import statsmodels.api as sm
        except ImportError as error:
            sys.exit(f'make-data.py: cannot import statsmodels ({error}): {HINT}')
        raw = getattr(sm.datasets, name).load_pandas().data
        raw = raw.select_dtypes(include=[np.number]).dropna().reset_index(drop=True)
        if name == 'fair':
            target = (raw.pop('affairs') > 0).astype(int)
        elif name == 'anes96':
            target = raw.pop('vote')
        elif name == 'modechoice':
            raw = raw.drop(columns=['individual'])
            target = raw.pop('choice')
        elif name == 'star98':
            above, below = raw.pop('NABOVE'), raw.pop('NBELOW')
            target = above / (above + below)
        elif name == 'randhie':
            keep = np.sort(rng_for('randhie', 'subsample').choice(len(raw), size=5000, replace=False))
            raw = raw.iloc[keep].reset_index(drop=True)
            target = raw.pop('mdvis')
        elif name == 'macrodata':
            target = raw.pop('realcons')
        elif name == 'grunfeld':
            target = raw.pop('invest')
        else:
            raise ValueError(name)
        frame = raw.copy()
        frame.columns = [snake(c) for c in frame.columns]
        frame['target'] = target.to_numpy()
    frame = integral_columns_to_int(frame.reset_index(drop=True))
    if task != 'regression':
        classes = np.unique(frame['target'])
        frame['target'] = np.searchsorted(classes, frame['target']).astype(np.int64)
    return frame


# --------------------------------------------------------------------------------------------
# CSV: shortest round-trip text for floats, plain integers, as the toolkit's readers expect
# --------------------------------------------------------------------------------------------

def cell_text(value):
    if isinstance(value, str):
        return value
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    return repr(float(value))  # shortest round-trip text; 3.0 stays 3.0 in a float column


def to_text(frame):
    return pd.DataFrame({c: [cell_text(v) for v in frame[c].tolist()] for c in frame.columns})


def write_csv(frame, path):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    text = frame if all(frame[c].dtype == object for c in frame.columns) else to_text(frame)
    tmp = f'{path}.tmp'
    text.to_csv(tmp, index=False, lineterminator='\n')
    os.replace(tmp, path)


def split(frame, *parts):
    order = rng_for(*parts).permutation(len(frame))
    n_train = int(round(0.75 * len(frame)))
    return frame.iloc[np.sort(order[:n_train])].reset_index(drop=True), \
        frame.iloc[np.sort(order[n_train:])].reset_index(drop=True)


def features_of(frame):
    return [c for c in frame.columns if c != 'target']


def distinct(series):
    return int(series.nunique())


def is_integer_column(series):
    return np.issubdtype(series.dtype, np.integer)


# --------------------------------------------------------------------------------------------
# faults, each into the clean holdout of one dataset x seed
# --------------------------------------------------------------------------------------------

def fault_type_error(train, test, rng):
    column = str(rng.choice(features_of(test)))
    n = min(len(test), max(3, int(np.ceil(0.05 * len(test)))))
    rows = np.sort(rng.choice(len(test), size=n, replace=False))
    text = to_text(test)
    values = []
    for k, r in enumerate(rows):
        value = f'n/a-x{k}'
        assert value not in MISSING_TOKENS
        text.iat[int(r), text.columns.get_loc(column)] = value
        values.append(value)
    return text, {'column': column, 'rows': rows.tolist(), 'values': values}


def fault_out_of_range(train, test, rng):
    candidates = [c for c in features_of(train) if distinct(train[c]) >= 10]
    if not candidates:
        return None, 'no feature with at least 10 distinct training values'
    column = str(rng.choice(candidates))
    lo, hi = float(train[column].min()), float(train[column].max())
    width = hi - lo
    n = min(len(test), max(3, int(np.ceil(0.05 * len(test)))))
    rows = np.sort(rng.choice(len(test), size=n, replace=False))
    side = 'upper' if lo >= 0 else str(rng.choice(['upper', 'lower']))
    factors = rng.uniform(1, 3, size=n)
    new = hi + width * factors if side == 'upper' else lo - width * factors
    out = test.copy()
    if is_integer_column(out[column]):
        new = np.where(new > hi, np.ceil(new), np.floor(new)).astype(np.int64)
    else:
        out[column] = out[column].astype(float)
    out.loc[rows, column] = new
    return out, {'column': column, 'rows': rows.tolist(), 'side': side, 'train_min': lo, 'train_max': hi,
                 'width': width, 'values': [cell_text(v) for v in new.tolist()]}


def fault_missing_column(train, test, rng):
    column = str(rng.choice(features_of(test)))
    return test.drop(columns=[column]), {'column': column}


def fault_duplicate_rows(train, test, rng):
    n = max(2, int(np.ceil(0.05 * len(test))))
    rows = np.sort(rng.choice(len(test), size=n, replace=len(test) < n))
    out = pd.concat([test, test.iloc[rows]], ignore_index=True)
    return out, {'copied_rows': rows.tolist(), 'appended': int(n)}


def fault_leaked_rows(train, test, rng):
    n = min(len(test), max(2, int(np.ceil(0.05 * len(test)))))
    rows = np.sort(rng.choice(len(test), size=n, replace=False))
    source = rng.choice(len(train), size=n, replace=False)
    out = test.copy()
    for column in out.columns:  # column by column, so integer columns stay integer
        values = out[column].to_numpy().copy()
        values[rows] = train[column].to_numpy()[source]
        out[column] = values
    return out, {'rows': rows.tolist(), 'train_rows': source.tolist()}


def continuous_columns(train):
    return [c for c in features_of(train) if distinct(train[c]) >= 10]


def fault_shift_1sd(train, test, rng):
    if len(test) < 100:
        return None, f'holdout has {len(test)} rows (< 100)'
    candidates = continuous_columns(train)
    if not candidates:
        return None, 'no continuous feature (>= 10 distinct training values)'
    column = str(rng.choice(candidates))
    std = float(train[column].std(ddof=1))
    out = test.copy()
    if is_integer_column(out[column]):
        # integer columns stay integer (a fractional shift would be caught as a type error instead)
        shift = int(round(std))
        out[column] = out[column] + shift
    else:
        shift = std
        out[column] = out[column].astype(float) + std
    return out, {'column': column, 'train_std': std, 'shift': shift}


def fault_covariate_shift(train, test, rng):
    candidates = continuous_columns(train)
    if not candidates:
        return None, 'no continuous feature (>= 10 distinct training values)'
    column = str(rng.choice(candidates))
    median = float(train[column].median())
    out = test[test[column] > median].reset_index(drop=True)
    if len(out) < 30:
        return None, f'{len(out)} holdout rows above the training median of {column} (< 30)'
    return out, {'column': column, 'train_median': median, 'rows': len(out), 'of': len(test)}


FAULT_FUNCTIONS = {
    'type-error': fault_type_error,
    'out-of-range': fault_out_of_range,
    'missing-column': fault_missing_column,
    'duplicate-rows': fault_duplicate_rows,
    'leaked-rows': fault_leaked_rows,
    'shift-1sd': fault_shift_1sd,
    'covariate-shift': fault_covariate_shift,
}


def make_data(outdir, name, seeds, generator):
    frame = load_dataset(name)
    source, tag, _ = DATASETS[name]
    base = os.path.join('data', name)
    cases = []
    for seed in range(seeds):
        train, test = split(frame, name, 'data-split', seed)
        folder = os.path.join(base, f'seed-{seed}')
        write_csv(train, os.path.join(outdir, folder, 'train.csv'))
        write_csv(test, os.path.join(outdir, folder, 'test.csv'))
        faults = []
        for fault in FAULTS:
            rng = rng_for(name, 'fault', seed, fault)
            data, params = FAULT_FUNCTIONS[fault](train, test, rng)
            if data is None:
                faults.append({'type': fault, 'skipped': params})
                continue
            path = os.path.join(folder, 'faults', f'{fault}.csv')
            write_csv(data, os.path.join(outdir, path))
            faults.append({'type': fault, 'path': path, 'rows': int(len(data)), 'params': params})
        cases.append({'dataset': name, 'tag': tag, 'seed': seed, 'train': os.path.join(folder, 'train.csv'),
                      'test': os.path.join(folder, 'test.csv'), 'train_rows': int(len(train)),
                      'test_rows': int(len(test)), 'faults': faults})
    manifest = {'kind': 'calibration-data', 'generator': generator, 'dataset': name, 'tag': tag, 'source': source,
                'description': DESCRIPTIONS[name], 'rows': int(len(frame)), 'features': features_of(frame),
                'target': 'target', 'seeds': seeds, 'cases': cases}
    write_json(os.path.join(outdir, base, 'manifest.json'), manifest)
    print(f'{name}: {len(frame)} rows, {len(features_of(frame))} features, {seeds} splits, '
          f'{sum(1 for c in cases for f in c["faults"] if "path" in f)} faulty holdouts', flush=True)


# --------------------------------------------------------------------------------------------
# models
# --------------------------------------------------------------------------------------------

def import_torch():
    try:
        import onnx  # noqa: F401
        import torch
    except ImportError as error:
        sys.exit(f'make-data.py: cannot import torch/onnx ({error}): {HINT}')
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    return torch


def build_model(torch, mean, std, p, k, task, mask=None, y_mean=0.0, y_std=1.0):
    from torch import nn

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.register_buffer('mean', torch.as_tensor(mean, dtype=torch.float32))
            self.register_buffer('std', torch.as_tensor(std, dtype=torch.float32))
            self.register_buffer('mask', torch.as_tensor(np.ones(p) if mask is None else mask, dtype=torch.float32))
            self.register_buffer('y_mean', torch.tensor(float(y_mean)))
            self.register_buffer('y_std', torch.tensor(float(y_std)))
            self.layers = nn.Sequential(nn.Linear(p, HIDDEN), nn.ReLU(), nn.Linear(HIDDEN, HIDDEN), nn.ReLU(),
                                        nn.Linear(HIDDEN, k if task != 'regression' else 1))

        def scores(self, x):
            """Logits (classification) or the standardized prediction (regression), for training."""
            return self.layers((x - self.mean) / self.std * self.mask)

        def forward(self, x):
            s = self.scores(x)
            if task == 'regression':
                return s * self.y_std + self.y_mean
            return torch.softmax(s, dim=1)

    return Net()


def train_model(torch, x, y, task, k, torch_seed, steps=STEPS, mask=None):
    torch.manual_seed(torch_seed)
    mean = x.mean(axis=0)
    std = x.std(axis=0)
    std[std == 0] = 1.0
    y_mean, y_std = (float(y.mean()), float(y.std()) or 1.0) if task == 'regression' else (0.0, 1.0)
    model = build_model(torch, mean, std, x.shape[1], k, task, mask, y_mean, y_std)
    xt = torch.from_numpy(x.astype(np.float32))
    if task == 'regression':
        yt = torch.from_numpy(((y - y_mean) / y_std).astype(np.float32)).reshape(-1, 1)
        loss_fn = torch.nn.functional.mse_loss
    else:
        yt = torch.from_numpy(y.astype(np.int64))
        loss_fn = torch.nn.functional.cross_entropy
    optimizer = torch.optim.Adam(model.parameters(), lr=LEARNING_RATE, weight_decay=WEIGHT_DECAY)
    model.train()
    loss = None
    for _ in range(steps):
        optimizer.zero_grad()
        loss = loss_fn(model.scores(xt), yt)
        loss.backward()
        optimizer.step()
    model.eval()
    return model, float(loss)


def export_model(torch, model, p, task, path):
    import onnx
    name = 'prediction' if task == 'regression' else 'probabilities'
    buffer = io.BytesIO()
    torch.onnx.export(model, torch.zeros(1, p), buffer, opset_version=17, input_names=['input'],
                      output_names=[name], do_constant_folding=True,
                      dynamic_axes={'input': {0: 'batch'}, name: {0: 'batch'}})
    data = buffer.getvalue()
    onnx.checker.check_model(onnx.load_from_string(data))
    tmp = f'{path}.tmp'
    with open(tmp, 'wb') as f:
        f.write(data)
    os.replace(tmp, path)
    return hashlib.sha256(data).hexdigest()[:16]


def holdout_score(torch, model, x, y, task):
    with torch.no_grad():
        out = model(torch.from_numpy(x.astype(np.float32))).numpy()
    if task == 'regression':
        return {'rmse': float(np.sqrt(np.mean((out[:, 0] - y) ** 2)))}
    return {'accuracy': float(np.mean(out.argmax(axis=1) == y))}


def noisy_labels(y, share, task, k, rng):
    y = y.copy()
    rows = rng.choice(len(y), size=int(round(share * len(y))), replace=False)
    if task == 'regression':
        y[rows] = rng.permutation(y[rows])  # the targets of those rows, shuffled among them
    else:
        y[rows] = rng.integers(0, k, size=len(rows))  # a uniformly random class (may be the same)
    return y, len(rows)


def weakest_features(x, y, count):
    """Indices of the `count` features least correlated with the target (ties by index)."""
    corr = []
    for j in range(x.shape[1]):
        column = x[:, j]
        c = 0.0 if column.std() == 0 else abs(float(np.corrcoef(column, y)[0, 1]))
        corr.append(0.0 if np.isnan(c) else c)
    return sorted(np.argsort(corr, kind='stable')[:count].tolist())


def make_models(outdir, name, retrains, splits, generator):
    torch = import_torch()
    frame = load_dataset(name)
    source, tag, task = DATASETS[name]
    features = features_of(frame)
    p = len(features)
    k = int(frame['target'].nunique()) if task != 'regression' else 1
    base = os.path.join('models', name)
    out_splits = []
    for split_seed in range(splits):
        train, test = split(frame, name, 'model-split', split_seed)
        folder = os.path.join(base, f'split-{split_seed}')
        write_csv(train, os.path.join(outdir, folder, 'data', 'train.csv'))
        write_csv(test, os.path.join(outdir, folder, 'data', 'test.csv'))
        x, y = train[features].to_numpy(dtype=float), train['target'].to_numpy()
        y = y.astype(float) if task == 'regression' else y.astype(np.int64)
        xh, yh = test[features].to_numpy(dtype=float), test['target'].to_numpy()
        good = []
        for i in range(retrains):
            rows = rng_for(name, 'bootstrap', split_seed, i).integers(0, len(x), size=len(x))
            torch_seed = 1000 * split_seed + i
            model, loss = train_model(torch, x[rows], y[rows], task, k, torch_seed)
            path = os.path.join(folder, f'good-{i}.onnx')
            digest = export_model(torch, model, p, task, os.path.join(outdir, path))
            good.append({'path': path, 'retrain': i, 'torch_seed': torch_seed, 'steps': STEPS,
                         'bootstrap': 'rows drawn with replacement, as many as the train split',
                         'train_loss': loss, 'holdout': holdout_score(torch, model, xh, yh, task), 'sha256': digest})
        worse = []
        for kind in WORSE:
            rng = rng_for(name, 'worse', split_seed, kind)
            torch_seed = 1000 * split_seed + 900 + WORSE.index(kind)
            params = {}
            if kind.startswith('label-noise-'):
                share = int(kind.rsplit('-', 1)[1]) / 100
                yy, changed = noisy_labels(y, share, task, k, rng)
                params = {'share': share, 'rows_changed': changed,
                          'how': 'targets shuffled among those rows' if task == 'regression'
                          else 'labels replaced by a uniformly random class'}
                model, loss = train_model(torch, x, yy, task, k, torch_seed)
            elif kind in ('one-feature', 'two-features'):
                keep = weakest_features(x, y.astype(float), 1 if kind == 'one-feature' else 2)
                mask = np.zeros(p)
                mask[keep] = 1
                params = {'features': [features[j] for j in keep],
                          'how': 'the features least correlated with the target; the others are zeroed in the graph'}
                model, loss = train_model(torch, x, y, task, k, torch_seed, mask=mask)
            elif kind == 'few-steps':
                params = {'steps': FEW_STEPS}
                model, loss = train_model(torch, x, y, task, k, torch_seed, steps=FEW_STEPS)
            else:
                raise ValueError(kind)
            path = os.path.join(folder, f'worse-{kind}.onnx')
            digest = export_model(torch, model, p, task, os.path.join(outdir, path))
            worse.append({'path': path, 'kind': kind, 'torch_seed': torch_seed, 'params': params, 'train_loss': loss,
                          'holdout': holdout_score(torch, model, xh, yh, task), 'sha256': digest})
        out_splits.append({'split_seed': split_seed, 'folder': folder, 'train': os.path.join(folder, 'data', 'train.csv'),
                           'test': os.path.join(folder, 'data', 'test.csv'), 'train_rows': int(len(train)),
                           'test_rows': int(len(test)), 'good': good, 'worse': worse})
        scores = [g['holdout'] for g in good]
        key = 'rmse' if task == 'regression' else 'accuracy'
        print(f'{name} split {split_seed}: {retrains} retrains, holdout {key} '
              f'{min(s[key] for s in scores):.3g}–{max(s[key] for s in scores):.3g}; worse: '
              + ', '.join(f'{w["kind"]} {w["holdout"][key]:.3g}' for w in worse), flush=True)
    manifest = {'kind': 'calibration-models', 'generator': generator, 'dataset': name, 'tag': tag, 'source': source,
                'description': DESCRIPTIONS[name], 'task': task, 'classes': k if task != 'regression' else None,
                'features': features, 'target': 'target',
                'model': {'layers': [p, HIDDEN, HIDDEN, k if task != 'regression' else 1], 'steps': STEPS,
                          'optimizer': f'Adam full batch, lr {LEARNING_RATE}, weight decay {WEIGHT_DECAY}',
                          'input': 'input float [batch, p], raw CSV features in file order',
                          'output': 'prediction [batch, 1]' if task == 'regression' else 'probabilities [batch, K]',
                          'opset': 17},
                'retrains': retrains, 'splits': out_splits}
    write_json(os.path.join(outdir, base, 'manifest.json'), manifest)


def write_json(path, value):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    tmp = f'{path}.tmp'
    with open(tmp, 'w') as f:
        json.dump(value, f, indent=1)
        f.write('\n')
    os.replace(tmp, path)


def generator_info(part):
    with open(os.path.abspath(__file__), 'rb') as f:
        digest = hashlib.sha256(f.read()).hexdigest()[:16]
    info = {'script': 'bench/calibration/make-data.py', 'version': GENERATOR_VERSION, 'sha256': digest,
            'python': sys.version.split()[0], 'numpy': np.__version__, 'pandas': pd.__version__}
    try:
        import sklearn
        info['sklearn'] = sklearn.__version__
        import statsmodels
        info['statsmodels'] = statsmodels.__version__
        if part == 'models':
            import onnx
            import torch
            info['torch'] = torch.__version__
            info['onnx'] = onnx.__version__
    except ImportError as error:
        sys.exit(f'make-data.py: cannot import a library ({error}): {HINT}')
    return info


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('outdir', nargs='?')
    parser.add_argument('--part', choices=['data', 'models'])
    parser.add_argument('--datasets', help='comma-separated (default: all of the part)')
    parser.add_argument('--seeds', type=int, default=20)
    parser.add_argument('--retrains', type=int, default=8)
    parser.add_argument('--splits', type=int, default=2)
    parser.add_argument('--list', action='store_true', help='print the datasets as JSON and exit')
    args = parser.parse_args()
    if args.list:
        print(json.dumps({'datasets': [{'name': n, 'source': s, 'tag': t, 'task': k, 'description': DESCRIPTIONS[n],
                                        'model': n in MODEL_DATASETS} for n, (s, t, k) in DATASETS.items()],
                          'faults': FAULTS, 'worse': WORSE, 'generator_version': GENERATOR_VERSION}))
        return
    if not args.outdir or not args.part:
        parser.error('OUTDIR and --part are required (or --list)')
    names = args.datasets.split(',') if args.datasets else (list(DATASETS) if args.part == 'data' else MODEL_DATASETS)
    unknown = [n for n in names if n not in DATASETS]
    if unknown:
        parser.error(f'unknown dataset(s) {", ".join(unknown)}; known: {", ".join(DATASETS)}')
    generator = generator_info(args.part)
    for name in names:
        if args.part == 'data':
            make_data(args.outdir, name, args.seeds, generator)
        else:
            make_models(args.outdir, name, args.retrains, args.splits, generator)


if __name__ == '__main__':
    main()

#!/usr/bin/env node
// Benchmark of the model gate (issue: "validate-model", section Speed). See bench/README.md.
//
//   npm run bench:model                          # 1,000,000 rows x 30 features, both models
//   npm run bench:model -- --rows 100000         # a smaller table (smoke test)
//
// Measures, in one process and one run, for a 100-tree ensemble and an MLP (30→64→64→2), both made
// by bench/make-models.py with Debian's python3-onnx / python3-torch / python3-sklearn:
//   T_read  our CSV reader over the holdout, with the number parsing the feeder needs;
//   T_ort   raw onnxruntime-node session.run at the same batch size on prebuilt tensors;
//   T_ours  the full validate-model (read, build tensors, infer, metrics), without bootstrap;
//   T_boot  the paired bootstrap's extra cost (1000 resamples) on the same outcomes.
// Target: T_ours <= 1.25 x (T_read + T_ort), and T_boot <= 2 s on 1M rows.
// Ratios are what count: the machines are shared and noisy, so compare within one run.

import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FEATURES, writeHoldout } from './holdout.js';

const benchDir = dirname(fileURLToPath(import.meta.url));
const dataDir = join(benchDir, 'data');
const PYTHON = '/usr/bin/python3';

const args = { rows: 1_000_000, batch: 4096, runs: 2, resamples: 1000 };
for (let i = 2; i < process.argv.length; i++) {
  const flag = process.argv[i];
  const value = Number(String(process.argv[++i]).replaceAll('_', ''));
  if (!Number.isInteger(value) || value < 1) throw new Error(`${flag} needs a positive integer`);
  if (flag === '--rows') args.rows = value;
  else if (flag === '--batch') args.batch = value;
  else if (flag === '--runs') args.runs = value;
  else if (flag === '--resamples') args.resamples = value;
  else throw new Error(`unknown flag ${flag} (known: --rows, --batch, --runs, --resamples)`);
}

const { openTable } = await import('../src/core/data/open-table.ts');
const { parseNumberColumn } = await import('../src/core/data/cells.ts');
const { validateModel } = await import('../src/core/model/validate-model.ts');
const { bootstrapMetricIntervals } = await import('../src/core/model/decide.ts');
const { createOnnxSession, loadOnnxRuntime } = await import('../src/core/model/onnx-session.ts');
const { inspectOnnxModel } = await import('../src/core/model/onnx-inspect.ts');
const { prepareOutcomes } = await import('../src/core/model/metrics.ts');
const { metricsOfTask } = await import('../src/core/model/metric-names.ts');

mkdirSync(dataDir, { recursive: true });
const csv = join(dataDir, `model-${args.rows}.csv`);
if (!existsSync(csv)) await writeHoldout(csv, args.rows);
const modelsDir = join(dataDir, 'models');
if (!existsSync(join(modelsDir, 'mlp.onnx')) || !existsSync(join(modelsDir, 'trees-100.onnx'))) {
  const made = spawnSync(PYTHON, [join(benchDir, 'make-models.py'), modelsDir], { stdio: 'inherit' });
  if (made.status !== 0)
    throw new Error(
      'bench/make-models.py failed (it needs Debian python3-onnx, python3-torch, python3-sklearn)',
    );
}

async function timeRead() {
  const started = performance.now();
  const reader = await openTable(csv, { batchRows: args.batch });
  for await (const batch of reader.batches()) {
    for (const column of batch.columns) if (column.kind === 'text') parseNumberColumn(column, batch.length);
  }
  return performance.now() - started;
}

async function timeOrt(model) {
  const ort = await loadOnnxRuntime();
  const info = await inspectOnnxModel(model);
  // Raw onnxruntime-node: a session with ONNX Runtime's own defaults (ours differ: no spinning).
  const session = await ort.InferenceSession.create(model);
  const input = info.inputs[0].name;
  const output = info.outputs.find((o) => o.type.kind === 'tensor' && o.type.elementType === 'float')?.name;
  const data = new Float32Array(args.batch * FEATURES).map(() => Math.random() * 2 - 1);
  const tensor = new ort.Tensor('float32', data, [args.batch, FEATURES]);
  const last = args.rows % args.batch;
  const lastTensor = last
    ? new ort.Tensor('float32', data.subarray(0, last * FEATURES), [last, FEATURES])
    : undefined;
  await session.run({ [input]: tensor }, [output]); // warm-up
  const started = performance.now();
  for (let done = 0; done + args.batch <= args.rows; done += args.batch)
    await session.run({ [input]: tensor }, [output]);
  if (lastTensor) await session.run({ [input]: lastTensor }, [output]);
  return performance.now() - started;
}

async function timeOurs(model) {
  const started = performance.now();
  const report = await validateModel(
    {
      model,
      data: csv,
      target: 'label',
      task: 'binary',
      gates: [
        {
          metric: 'accuracy',
          rule: 'min',
          threshold: 0,
          relative: false,
          confidence: 'point',
          source: 'bench',
        },
      ],
      bootstrap: false,
      latency: false,
      batchRows: args.batch,
    },
    { info() {}, warning() {}, debug() {} },
  );
  return { ms: performance.now() - started, report };
}

async function timeBootstrap(model) {
  // The outcomes of one evaluation, then the paired bootstrap alone (candidate vs itself as baseline).
  const { evaluateModels } = await import('../src/core/model/evaluate-model.ts');
  const { planModelIo } = await import('../src/core/model/model-io.ts');
  const info = await inspectOnnxModel(model);
  const reader = await openTable(csv, { batchRows: args.batch });
  const plan = planModelIo(info, reader.columns, { target: 'label', task: 'binary' });
  const session = await createOnnxSession(model);
  const evaluation = await evaluateModels(
    reader,
    {
      candidate: { role: 'candidate', path: model, session, plan },
      baseline: { role: 'baseline', path: model, session, plan },
    },
    { target: 'label', missing: 'error', threshold: 0.5 },
  );
  const a = prepareOutcomes(evaluation.outcomes.candidate);
  const b = prepareOutcomes(evaluation.outcomes.baseline);
  const started = performance.now();
  bootstrapMetricIntervals(metricsOfTask('binary'), a, b, {
    resamples: args.resamples,
    seed: 0,
    level: 0.95,
    strata: evaluation.outcomes.candidate.labels,
  });
  return performance.now() - started;
}

const best = async (fn) => {
  let min = Number.POSITIVE_INFINITY;
  for (let r = 0; r < args.runs; r++) min = Math.min(min, await fn());
  return min;
};

const results = { rows: args.rows, batch: args.batch, models: {} };
const tRead = await best(timeRead);
console.log(`T_read ${(tRead / 1000).toFixed(2)} s`);
for (const name of ['mlp', 'trees-100']) {
  const model = join(modelsDir, `${name}.onnx`);
  const tOrt = await best(() => timeOrt(model));
  const tOurs = await best(async () => (await timeOurs(model)).ms);
  const ratio = tOurs / (tRead + tOrt);
  results.models[name] = {
    tReadMs: Math.round(tRead),
    tOrtMs: Math.round(tOrt),
    tOursMs: Math.round(tOurs),
    ratio: Number(ratio.toFixed(3)),
    met: ratio <= 1.25,
  };
  console.log(
    `${name}: T_ort ${(tOrt / 1000).toFixed(2)} s, T_ours ${(tOurs / 1000).toFixed(2)} s, T_ours/(T_read+T_ort) = ${ratio.toFixed(2)} (target <= 1.25)`,
  );
}
const tBoot = await timeBootstrap(join(modelsDir, 'mlp.onnx'));
results.bootstrap = { resamples: args.resamples, ms: Math.round(tBoot), met: tBoot <= 2000 };
console.log(
  `paired bootstrap, ${args.resamples} resamples on ${args.rows} rows: ${(tBoot / 1000).toFixed(2)} s (target <= 2 s)`,
);
results.machine = {
  cpus: cpus().length,
  cpu: cpus()[0]?.model,
  memoryGiB: Math.round(totalmem() / 2 ** 30),
  node: process.version,
};
results.date = new Date().toISOString();
const file = join(benchDir, 'model-results.json');
const previous = existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : {};
writeFileSync(file, `${JSON.stringify({ ...previous, [String(args.rows)]: results }, null, 2)}\n`);
console.log(`wrote ${file}`);

#!/usr/bin/env node
// Benchmark of `mlops serve` (issue #15, "Speed"). See bench/README.md.
//
//   npm run bench:serve                       # 10 rounds x 500 requests per model
//   npm run bench:serve -- --rounds 3 --requests 200
//
// For each fixture model, packaged and served by the built CLI (`node dist/cli/index.js serve`, its own
// process, on 127.0.0.1), it measures side by side in one run, interleaved in rounds so both see the
// same machine load:
//   T_run    raw onnxruntime-node `session.run` in this process, on one row (a prebuilt tensor);
//   T_infer  one-row `POST /v2/models/<name>/infer` over loopback with a keep-alive connection, client
//            time included (request written to answer parsed), the same row.
// Target: median(T_infer) - median(T_run) <= 1 ms.

import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const benchDir = dirname(fileURLToPath(import.meta.url));
const root = join(benchDir, '..');
const args = { rounds: 10, requests: 500, warmup: 200 };
for (let i = 2; i < process.argv.length; i++) {
  const flag = process.argv[i];
  const value = Number(process.argv[++i]);
  if (!Number.isInteger(value) || value < 1) throw new Error(`${flag} needs a positive integer`);
  if (flag === '--rounds') args.rounds = value;
  else if (flag === '--requests') args.requests = value;
  else if (flag === '--warmup') args.warmup = value;
  else throw new Error(`unknown flag ${flag} (known: --rounds, --requests, --warmup)`);
}

const cli = join(root, 'dist/cli/index.js');
if (!existsSync(cli)) throw new Error('dist/cli/index.js is missing: run npm run build first');
const { buildPackage } = await import('../src/core/package/build-package.ts');
const { createOnnxSession, loadOnnxRuntime } = await import('../src/core/model/onnx-session.ts');
const { createProtocolClient } = await import('../src/core/serve/client.ts');

const MODELS = [
  { file: 'torch-mlp-logits.onnx', what: 'torch MLP 30→16→2', input: 'input' },
  {
    file: 'sklearn-forest.onnx',
    what: 'scikit-learn random forest, 10 trees (2 outputs)',
    input: 'float_input',
  },
];
// One real row of the breast-cancer holdout (30 features), as float32 data.
const [, firstRow] = readFileSync(join(root, 'templates/example/data/test.csv'), 'utf8').split('\n');
const row = firstRow.split(',').slice(0, 30).map(Number);

const median = (values) => {
  const sorted = Float64Array.from(values).sort();
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};
const quantile = (values, q) => {
  const sorted = Float64Array.from(values).sort();
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
};

const ort = await loadOnnxRuntime();
const work = mkdtempSync(join(tmpdir(), 'mlops-bench-serve-'));
const results = [];
try {
  for (const model of MODELS) {
    const name = model.file.replace(/\.onnx$/, '');
    const built = await buildPackage({
      model: join(root, 'test/fixtures/models', model.file),
      name,
      version: '1.0.0',
      out: join(work, name),
      lineage: { repository: null, commit: null, ref: null, runUrl: null, commitTime: null },
    });
    const server = await startServer(built.archive);
    const client = createProtocolClient(server.url);
    const session = await createOnnxSession(join(built.directory, 'model.onnx'));
    const tensor = new ort.Tensor('float32', Float32Array.from(row), [1, 30]);
    const body = JSON.stringify({
      inputs: [{ name: model.input, shape: [1, 30], datatype: 'FP32', data: row }],
    });
    const path = `/v2/models/${name}/infer`;
    // The served answer must be the raw run's, or the comparison is of two different things.
    const first = await client.request('POST', path, body);
    const raw = await session.run({ [model.input]: tensor });
    for (const output of first.json.outputs) {
      const expected = Array.from(raw[output.name].data, Number);
      if (output.data.some((v, i) => Math.abs(Number(v) - expected[i]) > 1e-6)) {
        throw new Error(`${name}: the served ${output.name} differs from session.run's`);
      }
    }
    for (let i = 0; i < args.warmup; i++) {
      await session.run({ [model.input]: tensor });
      await client.request('POST', path, body);
    }
    const runMs = [];
    const inferMs = [];
    for (let round = 0; round < args.rounds; round++) {
      for (let i = 0; i < args.requests; i++) {
        const started = performance.now();
        await session.run({ [model.input]: tensor });
        runMs.push(performance.now() - started);
      }
      for (let i = 0; i < args.requests; i++) {
        const answer = await client.request('POST', path, body);
        if (answer.status !== 200)
          throw new Error(`${name}: infer answered ${answer.status}: ${answer.text}`);
        inferMs.push(answer.ms);
      }
    }
    client.close();
    await session.release();
    await server.stop();
    const result = {
      model: model.file,
      what: model.what,
      requests: inferMs.length,
      runMedianMs: median(runMs),
      runP95Ms: quantile(runMs, 0.95),
      inferMedianMs: median(inferMs),
      inferP95Ms: quantile(inferMs, 0.95),
    };
    result.overheadMs = result.inferMedianMs - result.runMedianMs;
    result.met = result.overheadMs <= 1;
    results.push(result);
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}

const machine = {
  cpu: cpus()[0]?.model ?? 'unknown',
  cores: cpus().length,
  memoryGb: Math.round(totalmem() / 2 ** 30),
  node: process.version,
  onnxruntime: JSON.parse(readFileSync(join(root, 'node_modules/onnxruntime-node/package.json'), 'utf8'))
    .version,
};
const ms = (v) => `${v.toFixed(3)} ms`;
console.log(
  `\nmlops serve: one-row infer over loopback vs raw session.run (${machine.cores} × ${machine.cpu}, Node ${machine.node})\n`,
);
console.log('| model | session.run median | infer round trip median (p95) | difference | target ≤ 1 ms |');
console.log('| --- | --- | --- | --- | --- |');
for (const r of results) {
  console.log(
    `| ${r.what} | ${ms(r.runMedianMs)} | ${ms(r.inferMedianMs)} (${ms(r.inferP95Ms)}) | **${ms(r.overheadMs)}** | ${r.met ? 'met' : '**missed**'} |`,
  );
}
writeFileSync(
  join(benchDir, 'serve-results.json'),
  `${JSON.stringify({ date: new Date().toISOString(), machine, args, results }, null, 2)}\n`,
);
process.exitCode = results.every((r) => r.met) ? 0 : 1;

/** Starts `mlops serve` on a free loopback port; resolves once it listens. */
function startServer(archive) {
  const child = spawn(process.execPath, [cli, 'serve', '--package', archive, '--port', '0'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stderr.on('data', (chunk) => {
    err += chunk;
  });
  const exited = new Promise((resolve) => child.on('exit', resolve));
  return new Promise((resolve, reject) => {
    child.stdout.on('data', (chunk) => {
      out += chunk;
      const match = /at (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
      if (match) {
        resolve({
          url: match[1],
          stop: async () => {
            child.kill('SIGTERM');
            await exited;
          },
        });
      }
    });
    exited.then((code) => reject(new Error(`mlops serve exited ${code}: ${out}${err}`)));
  });
}

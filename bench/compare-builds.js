#!/usr/bin/env node
// Two builds of the CLI side by side: the same commands on the same files, interleaved, so a
// refactoring can show that it did not make anything slower (issue #14: "the figures in bench/
// stay within their noise, ±15 %, run before and after side by side on the same machine").
//
//   git worktree add /tmp/before <commit> && (cd /tmp/before && npm ci && npm run build)
//   npm run build
//   node bench/compare-builds.js --before /tmp/before/dist --after dist [--rows 300000] [--runs 5]
//
// Each round runs every command once with each build, alternating which build goes first, so
// both see the same machine load; the best (lowest) wall time of each is reported, with the
// ratio after/before. The machines are shared and noisy: read the ratios, not the seconds.
// Commands: `profile` and `validate-data` (contract check) on the data benchmark's CSV,
// `validate-model` (full evaluation with the 1,000-resample bootstrap) of the bench MLP on the
// model benchmark's holdout, and `package` of that model.

import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeHoldout } from './holdout.js';
import { measure, round } from './measure.js';

const benchDir = dirname(fileURLToPath(import.meta.url));
const dataDir = join(benchDir, 'data');
const PYTHON = '/usr/bin/python3';

const args = { before: '', after: '', rows: 300_000, runs: 5 };
for (let i = 2; i < process.argv.length; i++) {
  const flag = process.argv[i];
  const value = process.argv[++i];
  if (flag === '--before' || flag === '--after') args[flag.slice(2)] = resolve(String(value));
  else if (flag === '--rows' || flag === '--runs') {
    const n = Number(String(value).replaceAll('_', ''));
    if (!Number.isInteger(n) || n < 1) throw new Error(`${flag} needs a positive integer`);
    args[flag.slice(2)] = n;
  } else throw new Error(`unknown flag ${flag} (known: --before DIR, --after DIR, --rows N, --runs N)`);
}
for (const side of ['before', 'after']) {
  if (!args[side] || !existsSync(join(args[side], 'cli', 'index.js')))
    throw new Error(`--${side} must be a dist/ folder with cli/index.js (run npm run build there)`);
}

mkdirSync(dataDir, { recursive: true });
const table = join(dataDir, `bench-${args.rows}.csv`);
const contract = join(dataDir, `contract-${args.rows}.json`);
if (!existsSync(table) || !existsSync(contract)) {
  const made = spawnSync(
    process.execPath,
    [
      join(benchDir, 'generate.js'),
      '--rows',
      String(args.rows),
      '--format',
      'csv',
      '--out',
      table,
      '--contract',
      contract,
    ],
    { stdio: 'inherit' },
  );
  if (made.status !== 0) throw new Error('bench/generate.js failed');
}
const holdout = join(dataDir, `model-${args.rows}.csv`);
if (!existsSync(holdout)) await writeHoldout(holdout, args.rows);
const modelsDir = join(dataDir, 'models');
const model = join(modelsDir, 'mlp.onnx');
if (!existsSync(model)) {
  const made = spawnSync(PYTHON, [join(benchDir, 'make-models.py'), modelsDir], { stdio: 'inherit' });
  if (made.status !== 0)
    throw new Error(
      'bench/make-models.py failed (it needs Debian python3-onnx, python3-torch, python3-sklearn)',
    );
}

const work = mkdtempSync(join(tmpdir(), 'mlops-compare-'));
/** The commands, as functions of the build's CLI and a fresh output folder. Exit 1 (findings) is fine. */
const COMMANDS = {
  profile: (cli, out) => [cli, 'profile', '--data', table, '--out', join(out, 'profile.json')],
  'validate-data': (cli, out) => [
    cli,
    'validate-data',
    '--data',
    table,
    '--contract',
    contract,
    '--report',
    join(out, 'data.json'),
    '--fail-on',
    'never',
  ],
  'validate-model': (cli, out) => [
    cli,
    'validate-model',
    '--model',
    model,
    '--data',
    holdout,
    '--target',
    'label',
    '--gate',
    'accuracy >= 0',
    '--report',
    join(out, 'model.json'),
  ],
  package: (cli, out) => [
    cli,
    'package',
    '--model',
    model,
    '--name',
    'bench',
    '--version',
    '1.0.0',
    '--out',
    join(out, 'pkg'),
  ],
};

const times = Object.fromEntries(Object.keys(COMMANDS).map((name) => [name, { before: [], after: [] }]));
for (let round_ = 0; round_ < args.runs; round_++) {
  for (const [name, command] of Object.entries(COMMANDS)) {
    const order = round_ % 2 === 0 ? ['before', 'after'] : ['after', 'before'];
    for (const side of order) {
      const out = mkdtempSync(join(work, `${side}-`));
      // An empty environment but PATH and HOME: no GITHUB_* changes what the commands do.
      const env = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? work };
      const result = await measure(process.execPath, command(join(args[side], 'cli', 'index.js'), out), {
        env,
      });
      rmSync(out, { recursive: true, force: true });
      if (result.code !== 0 && result.code !== 1)
        throw new Error(`${side} ${name} exited ${result.code}:\n${result.stderr.slice(-2000)}`);
      times[name][side].push(result.wall_s);
    }
  }
  console.error(`round ${round_ + 1}/${args.runs} done`);
}
rmSync(work, { recursive: true, force: true });

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
console.log(`rows ${args.rows}, ${args.runs} rounds; before ${args.before}, after ${args.after}`);
console.log('command          before best  after best  after/before (best)  after/before (median)');
const results = {};
for (const [name, { before, after }] of Object.entries(times)) {
  const best = Math.min(...after) / Math.min(...before);
  const mid = median(after) / median(before);
  results[name] = {
    beforeBestS: round(Math.min(...before), 3),
    afterBestS: round(Math.min(...after), 3),
    ratioBest: round(best, 3),
    ratioMedian: round(mid, 3),
  };
  console.log(
    `${name.padEnd(16)} ${Math.min(...before)
      .toFixed(2)
      .padStart(9)} s ${Math.min(...after)
      .toFixed(2)
      .padStart(9)} s ${best.toFixed(2).padStart(20)} ${mid.toFixed(2).padStart(22)}`,
  );
}
console.log(
  JSON.stringify({
    results,
    machine: {
      cpus: cpus().length,
      cpu: cpus()[0]?.model,
      memoryGiB: Math.round(totalmem() / 2 ** 30),
      node: process.version,
    },
    date: new Date().toISOString(),
  }),
);

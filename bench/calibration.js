#!/usr/bin/env node
// Gate calibration benchmark (issue #11, part 6): how often the data gate and the model gate, with the
// defaults the toolkit writes (`mlops schema infer`, `mlops init`), fail on data and models that are fine
// (false alarms), and how often they catch faults and clearly worse models (detection).
//
//   npm run bench:calibration                          # everything (about 18 minutes on 2 cores)
//   npm run bench:calibration -- --quick               # smoke run: 3 seeds, 3 retrains (~3 min)
//   npm run bench:calibration -- --datasets iris,wine --parts data,faults --seeds 5
//
// Flags:
//   --quick           3 seeds, 3 retrains, 1 split
//   --seeds N         random 75/25 splits per dataset for the data gate (default 20)
//   --retrains N      equivalent retrains per model dataset and split (default 8)
//   --splits N        model splits (split seeds 0..N-1; default 2, --quick 1): each one about 4.5 minutes
//   --datasets LIST   datasets to run (default: all; `/usr/bin/python3 bench/calibration/make-data.py --list`)
//   --parts LIST      data (clean splits), faults, models (equivalent retrains), worse (degraded models)
//   --jobs N          child processes at a time (default 2)
//   --build           run `npm run build` first even when dist/ exists (it is built when missing)
//   --keep-reports    keep every gate report (default: only those of false alarms, misses and errors)
//   --no-save, --save do not write / write bench/calibration-results.json (default: write, except with --quick)
//
// Data and models are made by bench/calibration/make-data.py (Debian's /usr/bin/python3) under
// bench/data/calibration/ (git-ignored), once: a dataset is regenerated only when its manifest is missing,
// was written by another version of the script, or has fewer seeds / retrains / splits than asked for.
// Every gate runs as the CLI does for a user, never with thresholds of ours:
//   A  clean:  mlops schema infer --data train.csv --target target --out contract.json, then
//              mlops validate-data --data test.csv --reference train.csv --train train.csv --contract contract.json
//                --target target --report report.json --json          false alarm: exit 1
//   B  faults: the same command on a faulty copy of the holdout           caught: exit 1 (duplicate rows: a
//              duplicate-rows finding of severity warning or error)
//   C  models: mlops init --dir F --data data/train.csv --target target --name calib, then for each ordered pair
//              of equivalent retrains: mlops validate-model --config F/mlops.yaml --model cand.onnx
//                --baseline base.onnx --report r.json --json          false alarm: exit 1
//   D  worse:  a degraded candidate against each good retrain as the baseline; counted only when the paired
//              bootstrap interval of the difference of a gated change metric lies wholly beyond the gate's
//              margin ("clearly worse"); caught: exit 1
// Exit codes of 2 or more are harness errors: counted and shown apart, never as a pass or a fail.
// The CLI is run from a private copy of dist/ (a rebuild during the run changes nothing), on Node 24.

import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, release, totalmem } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';

const benchDir = dirname(fileURLToPath(import.meta.url));
const root = join(benchDir, '..');
const outDir = join(benchDir, 'data', 'calibration');
const generator = join(benchDir, 'calibration', 'make-data.py');
const resultsFile = join(benchDir, 'calibration-results.json');
const PYTHON = '/usr/bin/python3';
const ALL_PARTS = ['data', 'faults', 'models', 'worse'];
const COMMAND_TIMEOUT_MS = 180_000;
const started = Date.now();

// ---------------------------------------------------------------------------------------------
// Arguments

function parseArgs(argv) {
  const args = {
    quick: false,
    seeds: null,
    retrains: null,
    splits: null,
    datasets: null,
    parts: ALL_PARTS,
    jobs: 2,
    build: false,
    keepReports: false,
    save: null,
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    const count = () => {
      const n = Number(value());
      if (!Number.isInteger(n) || n < 1) throw new Error(`${a} needs a positive integer`);
      return n;
    };
    const list = () =>
      value()
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
    if (a === '--quick') args.quick = true;
    else if (a === '--seeds') args.seeds = count();
    else if (a === '--retrains') args.retrains = count();
    else if (a === '--splits') args.splits = count();
    else if (a === '--datasets') args.datasets = list();
    else if (a === '--parts') args.parts = list();
    else if (a === '--jobs') args.jobs = count();
    else if (a === '--build') args.build = true;
    else if (a === '--keep-reports') args.keepReports = true;
    else if (a === '--no-save') args.save = false;
    else if (a === '--save') args.save = true;
    else if (a === '--help' || a === '-h') args.help = true;
    else throw new Error(`unknown argument ${a} (see --help)`);
  }
  args.save ??= !args.quick;
  args.seeds ??= args.quick ? 3 : 20;
  args.retrains ??= args.quick ? 3 : 8;
  args.splits ??= args.quick ? 1 : 2;
  if (args.retrains < 2) throw new Error('--retrains needs at least 2 (pairs of retrains)');
  const unknown = args.parts.filter((p) => !ALL_PARTS.includes(p));
  if (unknown.length)
    throw new Error(`unknown part(s) ${unknown.join(', ')}; parts: ${ALL_PARTS.join(', ')}`);
  return args;
}

function printHelp() {
  const lines = readFileSync(fileURLToPath(import.meta.url), 'utf8')
    .split('\n')
    .slice(1);
  const end = lines.findIndex((l) => !l.startsWith('//'));
  console.log(
    lines
      .slice(0, end)
      .map((l) => l.replace(/^\/\/ ?/, ''))
      .join('\n'),
  );
}

// ---------------------------------------------------------------------------------------------
// Node 24 for the CLI: under `npm run` the `node` dev dependency is first on PATH.

function nodeBinary() {
  if (Number(process.versions.node.split('.')[0]) >= 24) return process.execPath;
  for (const candidate of [
    join(root, 'node_modules', 'node', 'bin', 'node'),
    join(root, 'node_modules', '.bin', 'node'),
  ])
    if (existsSync(candidate)) return realpathSync(candidate);
  console.warn(`warning: Node ${process.versions.node}, not 24; the CLI may refuse to run.`);
  return process.execPath;
}

// ---------------------------------------------------------------------------------------------
// Child processes: at most `jobs` at a time

let slotsFree = 2;
const waiting = [];
async function acquire() {
  if (slotsFree > 0) {
    slotsFree--;
    return;
  }
  await new Promise((resolve) => waiting.push(resolve));
}
function releaseSlot() {
  const next = waiting.shift();
  if (next) next();
  else slotsFree++;
}

/** Runs a command in a pool slot; resolves { code, stdout, stderr, wall_s } (code 124 on timeout). */
async function run(cmd, argv, { cwd = root, timeout = COMMAND_TIMEOUT_MS } = {}) {
  await acquire();
  try {
    return await new Promise((resolve) => {
      const t0 = Date.now();
      const child = spawn(cmd, argv, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
      const out = [];
      const err = [];
      let timedOut = false;
      const timer = setTimeout(() => {
        timedOut = true;
        child.kill('SIGKILL');
      }, timeout);
      child.stdout.on('data', (d) => out.push(d));
      child.stderr.on('data', (d) => err.push(d));
      child.on('error', (error) => {
        clearTimeout(timer);
        resolve({ code: 127, stdout: '', stderr: String(error), wall_s: (Date.now() - t0) / 1000 });
      });
      child.on('close', (code, signal) => {
        clearTimeout(timer);
        let stderr = Buffer.concat(err).toString('utf8');
        if (timedOut) stderr += `\n(killed after ${timeout / 1000} s)`;
        else if (signal) stderr += `\n(killed by ${signal})`;
        resolve({
          code: timedOut ? 124 : (code ?? 128),
          stdout: Buffer.concat(out).toString('utf8'),
          stderr,
          wall_s: (Date.now() - t0) / 1000,
        });
      });
    });
  } finally {
    releaseSlot();
  }
}

const progress = { done: 0, total: 0, label: '', last: 0, errors: 0 };
function tick(result) {
  progress.done++;
  if (result && result.code >= 2) progress.errors++;
  const now = Date.now();
  if (now - progress.last > 5000 || progress.done === progress.total) {
    progress.last = now;
    const errors = progress.errors ? `, ${progress.errors} harness errors` : '';
    process.stderr.write(
      `  [${progress.label}] ${progress.done}/${progress.total} commands, ${((now - started) / 1000).toFixed(0)} s${errors}\n`,
    );
  }
}

let NODE;
let CLI;
async function cli(argv, options) {
  const result = await run(NODE, [CLI, ...argv], options);
  tick(result);
  return result;
}

/** The CLI's error message for a harness error: its --json error object, else the end of stderr. */
function errorMessage(result) {
  try {
    const parsed = JSON.parse(result.stdout);
    const message = parsed.error?.message ?? parsed.message ?? parsed.error;
    if (message)
      return `exit ${result.code}: ${typeof message === 'string' ? message : JSON.stringify(message)}`;
  } catch {
    // not JSON
  }
  const tail = `${result.stderr}\n${result.stdout}`.trim().split('\n').slice(-4).join(' | ');
  return `exit ${result.code}: ${tail.slice(0, 600)}`;
}

function readJson(file) {
  try {
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    return null;
  }
}

// ---------------------------------------------------------------------------------------------
// Build, snapshot of dist/, provenance

function git(argv) {
  const r = spawnSync('git', argv, { cwd: root, encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : null;
}

let snapshotDir = null;
function prepareCli(args) {
  const distCli = join(root, 'dist', 'cli', 'index.js');
  if (args.build || !existsSync(distCli)) {
    process.stderr.write('building dist/ (npm run build)…\n');
    const built = spawnSync('npm', ['run', 'build'], { cwd: root, stdio: ['ignore', 'inherit', 'inherit'] });
    if (built.status !== 0) throw new Error('npm run build failed');
  }
  // dist/ may be in the middle of a rebuild (scripts/build.js swaps the new build in by two renames): wait.
  for (let i = 0; i < 40 && !existsSync(distCli); i++) spawnSync('sleep', ['0.5']);
  snapshotDir = join(outDir, `dist-snapshot-${process.pid}`);
  for (const part of ['cli', 'node_modules', 'build-info.json']) {
    const from = join(root, 'dist', part);
    if (existsSync(from)) cpSync(from, join(snapshotDir, part), { recursive: true });
  }
  CLI = join(snapshotDir, 'cli', 'index.js');
  if (!existsSync(CLI)) throw new Error('dist/cli/index.js is missing after the build');
  return createHash('sha256').update(readFileSync(CLI)).digest('hex').slice(0, 16);
}

function machineInfo(nodeVersion, pythonVersion) {
  let os = release();
  try {
    const osRelease = readFileSync('/etc/os-release', 'utf8');
    os = /PRETTY_NAME="([^"]+)"/.exec(osRelease)?.[1] ?? os;
  } catch {
    // not Linux
  }
  return {
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model ?? null,
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    os,
    kernel: release(),
    node: nodeVersion,
    python: pythonVersion,
  };
}

// ---------------------------------------------------------------------------------------------
// Data and models: bench/calibration/make-data.py, run for what is missing

function generatorDigest() {
  return createHash('sha256').update(readFileSync(generator)).digest('hex').slice(0, 16);
}

function listDatasets() {
  const r = spawnSync(PYTHON, [generator, '--list'], { cwd: root, encoding: 'utf8' });
  if (r.status !== 0)
    throw new Error(
      `${PYTHON} ${relative(root, generator)} --list failed (exit ${r.status}): ${(r.stderr || r.error || '').toString().trim()}`,
    );
  return JSON.parse(r.stdout);
}

async function generate(args, catalog) {
  const digest = generatorDigest();
  const jobs = [];
  const wantData = args.parts.includes('data') || args.parts.includes('faults');
  const wantModels = args.parts.includes('models') || args.parts.includes('worse');
  for (const d of catalog.selected) {
    if (wantData) {
      const m = readJson(join(outDir, 'data', d.name, 'manifest.json'));
      if (!m || m.generator?.sha256 !== digest || m.seeds < args.seeds)
        jobs.push({
          name: d.name,
          argv: ['--part', 'data', '--datasets', d.name, '--seeds', String(args.seeds)],
        });
    }
    if (wantModels && d.model) {
      const m = readJson(join(outDir, 'models', d.name, 'manifest.json'));
      if (!m || m.generator?.sha256 !== digest || m.retrains < args.retrains || m.splits.length < args.splits)
        jobs.push({
          name: `${d.name} models`,
          argv: [
            '--part',
            'models',
            '--datasets',
            d.name,
            '--retrains',
            String(args.retrains),
            '--splits',
            String(args.splits),
          ],
        });
    }
  }
  if (!jobs.length) {
    process.stderr.write(`data and models: up to date in ${relative(root, outDir)}/\n`);
    return;
  }
  process.stderr.write(`generating ${jobs.length} data/model sets with ${relative(root, generator)}…\n`);
  const results = await Promise.all(
    jobs.map(async (job) => {
      const r = await run(PYTHON, [generator, outDir, ...job.argv], { timeout: 1_800_000 });
      for (const line of r.stdout.trim().split('\n').filter(Boolean)) process.stderr.write(`  ${line}\n`);
      if (r.code !== 0)
        return `${job.name}: exit ${r.code}\n${r.stderr.trim().split('\n').slice(-8).join('\n')}`;
      return null;
    }),
  );
  const failed = results.filter(Boolean);
  if (failed.length) throw new Error(`make-data.py failed:\n${failed.join('\n')}`);
}

// ---------------------------------------------------------------------------------------------
// A and B: the data gate

const MAX_FINDINGS = 20;
/** Findings of a case worth keeping: errors and warnings (and info for misses: it may say why). */
function findingsOf(report, { info = false } = {}) {
  return (report?.findings ?? [])
    .filter((f) => f.severity === 'error' || f.severity === 'warning' || (info && f.severity === 'info'))
    .slice(0, MAX_FINDINGS)
    .map((f) => ({
      check: f.check,
      ...(f.rule ? { rule: f.rule } : {}),
      severity: f.severity,
      ...(f.column !== undefined ? { column: f.column } : {}),
      message: String(f.message ?? '').slice(0, 300),
    }));
}
/** The causes of a failure: each error finding as check (and contract rule), once per case. */
function errorCauses(report) {
  const causes = new Set();
  for (const f of report?.findings ?? [])
    if (f.severity === 'error')
      causes.add(f.rule && f.check === 'contract' ? `${f.check}/${f.rule}` : f.check);
  return [...causes].sort();
}

async function runDataSplit(args, manifest, c, work, records) {
  const dir = join(work, 'data', c.dataset, `seed-${c.seed}`);
  mkdirSync(dir, { recursive: true });
  const train = join(outDir, c.train);
  const contract = join(dir, 'contract.json');
  const cases = [];
  if (args.parts.includes('data')) cases.push({ kind: 'clean', name: 'clean', data: join(outDir, c.test) });
  if (args.parts.includes('faults'))
    for (const f of c.faults) {
      if (f.skipped) {
        records.skipped.push({ dataset: c.dataset, seed: c.seed, fault: f.type, reason: f.skipped });
        continue;
      }
      cases.push({ kind: 'fault', name: f.type, data: join(outDir, f.path), params: f.params });
    }
  const base = { dataset: c.dataset, tag: manifest.tag, seed: c.seed };
  const infer = await cli(
    ['schema', 'infer', '--data', train, '--target', 'target', '--out', contract, '--force', '--json'],
    { cwd: dir },
  );
  if (infer.code !== 0) {
    const message = `schema infer ${errorMessage(infer)}`;
    for (const k of cases) {
      tick(null);
      const record = {
        ...base,
        ...(k.kind === 'fault' ? { fault: k.name } : {}),
        exit: infer.code,
        outcome: 'error',
        message,
      };
      (k.kind === 'clean' ? records.clean : records.faults).push(record);
      records.errors.push({ part: k.kind, ...record });
    }
    return;
  }
  await Promise.all(
    cases.map(async (k) => {
      const report = join(dir, `${k.name}.report.json`);
      const r = await cli(
        [
          'validate-data',
          '--data',
          k.data,
          '--reference',
          train,
          '--train',
          train,
          '--contract',
          contract,
          '--target',
          'target',
          '--report',
          report,
          '--json',
        ],
        { cwd: dir },
      );
      const record = {
        ...base,
        ...(k.kind === 'fault' ? { fault: k.name, params: k.params } : {}),
        exit: r.code,
        wall_s: r.wall_s,
      };
      const parsed = r.code <= 1 ? readJson(report) : null;
      let keep = true;
      if (r.code >= 2 || !parsed) {
        record.outcome = 'error';
        record.message = r.code >= 2 ? errorMessage(r) : `exit ${r.code} but no report JSON at ${report}`;
        records.errors.push({ part: k.kind, ...record });
      } else if (k.kind === 'clean') {
        record.outcome = r.code === 1 ? 'failed' : 'passed';
        record.causes = errorCauses(parsed);
        record.duplicateFinding = parsed.findings.some((f) => f.check === 'duplicate-rows');
        record.warnings = parsed.findings.filter((f) => f.severity === 'warning').map((f) => f.check);
        if (r.code === 1) record.findings = findingsOf(parsed);
        else keep = false;
      } else {
        const caught =
          k.name === 'duplicate-rows'
            ? parsed.findings.some(
                (f) => f.check === 'duplicate-rows' && (f.severity === 'error' || f.severity === 'warning'),
              )
            : r.code === 1;
        record.outcome = caught ? 'caught' : 'missed';
        record.causes = errorCauses(parsed);
        if (!caught) record.findings = findingsOf(parsed, { info: true });
        else keep = false;
      }
      if (!keep && !args.keepReports) rmSync(report, { force: true });
      (k.kind === 'clean' ? records.clean : records.faults).push(record);
    }),
  );
}

// ---------------------------------------------------------------------------------------------
// C and D: the model gate

function isChangeGate(g) {
  return (
    g.rule === 'max-decrease' ||
    g.rule === 'max-increase' ||
    (!g.rule && /baseline/.test(g.expression ?? g.source ?? ''))
  );
}

/**
 * Whether a candidate is "clearly worse" under a change gate: the paired bootstrap interval of
 * candidate − baseline (relative to |baseline| for relative gates) lies wholly beyond the gate's margin.
 */
function clearlyWorse(report, gate) {
  if (!isChangeGate(gate) || gate.slice) return null;
  const numbers = (xs) => Array.isArray(xs) && xs.length === 2 && xs.every((x) => typeof x === 'number');
  // The gate's own interval is in the gate's unit (relative for relative gates); else from deltas.
  let interval = numbers(gate.interval) ? gate.interval : null;
  let source = 'gates[].interval';
  if (!interval) {
    interval = report.deltas?.[gate.metric]?.interval;
    source = 'deltas';
    if (!numbers(interval)) return null;
    if (gate.relative) {
      const base = report.baselineMetrics?.[gate.metric]?.value;
      if (typeof base !== 'number' || base === 0) return null;
      interval = interval.map((x) => x / Math.abs(base));
    }
  }
  const margin = Number(gate.threshold);
  if (!Number.isFinite(margin)) return null;
  const worse = gate.rule === 'max-increase' ? interval[0] > margin : interval[1] < -margin;
  return { expression: gate.expression, interval, source, margin, relative: !!gate.relative, worse };
}

function gateSummary(report) {
  return (report?.gates ?? []).map((g) => ({
    expression: g.expression ?? g.source,
    status: g.status ?? (g.passed ? 'passed' : 'failed'),
    reason: g.reason,
  }));
}

/** Why a model-gate run failed: each failed gate's expression, and min-rows. */
function modelCauses(report) {
  const causes = [];
  if (report?.minRows && report.minRows.passed === false) causes.push('min-rows');
  for (const g of report?.gates ?? []) {
    const status = g.status ?? (g.passed ? 'passed' : 'failed');
    if (status !== 'passed' && status !== 'skipped') causes.push(g.expression ?? g.source);
  }
  for (const b of report?.budgets ?? [])
    if (b.passed === false) causes.push(`budget ${b.name ?? b.metric ?? ''}`.trim());
  return causes;
}

async function runModelSplit(args, manifest, s, work, records, configs) {
  const folder = join(work, 'models', manifest.dataset, `split-${s.split_seed}`);
  mkdirSync(join(folder, 'data'), { recursive: true });
  cpSync(join(outDir, s.train), join(folder, 'data', 'train.csv'));
  cpSync(join(outDir, s.test), join(folder, 'data', 'test.csv'));
  const base = { dataset: manifest.dataset, tag: manifest.tag, split: s.split_seed };
  const goods = s.good.slice(0, args.retrains);
  const jobs = [];
  if (args.parts.includes('models'))
    for (const [i, cand] of goods.entries())
      for (const [j, baseModel] of goods.entries())
        if (i !== j)
          jobs.push({ kind: 'pair', candidate: cand, baseline: baseModel, label: `good-${i}-vs-good-${j}` });
  if (args.parts.includes('worse'))
    for (const w of s.worse)
      for (const [j, baseModel] of goods.entries())
        jobs.push({ kind: 'worse', candidate: w, baseline: baseModel, label: `${w.kind}-vs-good-${j}` });
  const init = await cli(
    ['init', '--dir', folder, '--data', 'data/train.csv', '--target', 'target', '--name', 'calib', '--json'],
    { cwd: folder },
  );
  const config = join(folder, 'mlops.yaml');
  if (init.code !== 0 || !existsSync(config)) {
    const message = `init ${errorMessage(init)}`;
    for (const job of jobs) {
      tick(null);
      const record = {
        ...base,
        candidate: job.candidate.path,
        baseline: job.baseline.path,
        exit: init.code,
        outcome: 'error',
        message,
      };
      (job.kind === 'pair' ? records.pairs : records.worse).push(record);
      records.errors.push({ part: job.kind, ...record });
    }
    return;
  }
  let model = null;
  try {
    model = parseYaml(readFileSync(config, 'utf8'))?.model ?? null;
  } catch (error) {
    model = { unreadable: String(error.message ?? error) };
  }
  configs.push({ ...base, task: manifest.task, init: readJsonText(init.stdout)?.data ?? null, model });
  await Promise.all(
    jobs.map(async (job) => {
      const report = join(folder, `${job.label}.report.json`);
      const r = await cli(
        [
          'validate-model',
          '--config',
          config,
          '--model',
          join(outDir, job.candidate.path),
          '--baseline',
          join(outDir, job.baseline.path),
          '--report',
          report,
          '--json',
        ],
        { cwd: folder },
      );
      const record = {
        ...base,
        candidate: job.kind === 'pair' ? job.candidate.retrain : job.candidate.kind,
        baseline: job.baseline.retrain,
        exit: r.code,
        wall_s: r.wall_s,
      };
      const parsed = r.code <= 1 ? readJson(report) : null;
      let keep = true;
      if (r.code >= 2 || !parsed) {
        record.outcome = 'error';
        record.message = r.code >= 2 ? errorMessage(r) : `exit ${r.code} but no report JSON at ${report}`;
        records.errors.push({ part: job.kind, ...record });
      } else {
        record.outcome = r.code === 1 ? 'blocked' : 'passed';
        record.causes = modelCauses(parsed);
        record.rows = parsed.data?.rows;
        if (parsed.data?.rows !== s.test_rows)
          record.note = `evaluated ${parsed.data?.rows} rows of ${parsed.data?.path}, not the ${s.test_rows}-row holdout`;
        if (job.kind === 'worse') {
          const checks = (parsed.gates ?? []).map((g) => clearlyWorse(parsed, g)).filter(Boolean);
          record.qualified = checks.some((c) => c.worse);
          record.changeGates = checks;
        }
        if (r.code === 1) record.gates = gateSummary(parsed);
        if (r.code === 0 || (job.kind === 'worse' && record.qualified)) keep = false;
      }
      if (!keep && !args.keepReports) rmSync(report, { force: true });
      (job.kind === 'pair' ? records.pairs : records.worse).push(record);
    }),
  );
}

function readJsonText(text) {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

// ---------------------------------------------------------------------------------------------
// Summary

const pct = (n, d) => (d ? `${((100 * n) / d).toFixed(d >= 100 ? 1 : 0)}%` : '–');
const cell = (n, d) => (d ? `${n}/${d} (${pct(n, d)})` : '–');

function summarize(catalog, records) {
  const faults = catalog.faults;
  const groupOf = (tag) => (tag === 'tune' ? 'tune' : 'report');
  const blank = () => ({
    clean: { failed: 0, total: 0, errors: 0, duplicateFinding: 0 },
    faults: Object.fromEntries(faults.map((f) => [f, { caught: 0, cases: 0, errors: 0 }])),
    pairs: { blocked: 0, total: 0, errors: 0, blockedByGates: 0 },
    worse: { qualified: 0, qualifiedBlocked: 0, total: 0, blocked: 0, errors: 0 },
  });
  const perDataset = Object.fromEntries(catalog.selected.map((d) => [d.name, { tag: d.tag, ...blank() }]));
  const perGroup = { tune: blank(), report: blank() };
  const add = (name, tag, fn) => {
    fn(perDataset[name]);
    fn(perGroup[groupOf(tag)]);
  };
  for (const r of records.clean)
    add(r.dataset, r.tag, (s) => {
      if (r.outcome === 'error') s.clean.errors++;
      else {
        s.clean.total++;
        if (r.outcome === 'failed') s.clean.failed++;
        if (r.duplicateFinding) s.clean.duplicateFinding++;
      }
    });
  for (const r of records.faults)
    add(r.dataset, r.tag, (s) => {
      const f = s.faults[r.fault];
      if (r.outcome === 'error') f.errors++;
      else {
        f.cases++;
        if (r.outcome === 'caught') f.caught++;
      }
    });
  for (const r of records.pairs)
    add(r.dataset, r.tag, (s) => {
      if (r.outcome === 'error') s.pairs.errors++;
      else {
        s.pairs.total++;
        if (r.outcome === 'blocked') s.pairs.blocked++;
        if (r.causes.some((c) => c !== 'min-rows')) s.pairs.blockedByGates++;
      }
    });
  for (const r of records.worse)
    add(r.dataset, r.tag, (s) => {
      if (r.outcome === 'error') s.worse.errors++;
      else {
        s.worse.total++;
        if (r.outcome === 'blocked') s.worse.blocked++;
        if (r.qualified) {
          s.worse.qualified++;
          if (r.outcome === 'blocked') s.worse.qualifiedBlocked++;
        }
      }
    });
  return { perDataset, perGroup };
}

function causesOf(records, outcome) {
  const byCause = new Map();
  let failures = 0;
  for (const r of records) {
    if (r.outcome !== outcome) continue;
    failures++;
    for (const cause of r.causes ?? []) {
      const entry = byCause.get(cause) ?? { cause, count: 0, datasets: {} };
      entry.count++;
      entry.datasets[r.dataset] = (entry.datasets[r.dataset] ?? 0) + 1;
      byCause.set(cause, entry);
    }
  }
  return { failures, causes: [...byCause.values()].sort((a, b) => b.count - a.count) };
}

/** Drift false alarms by column: which columns drift on clean splits most often. */
function driftColumns(records) {
  const counts = new Map();
  for (const r of records.clean)
    for (const f of r.findings ?? [])
      if (f.severity === 'error' && f.check === 'drift') {
        const key = `${r.dataset}.${f.column}`;
        counts.set(key, (counts.get(key) ?? 0) + 1);
      }
  return [...counts.entries()].sort((a, b) => b[1] - a[1]).map(([column, count]) => ({ column, count }));
}

function caughtBy(records) {
  const out = {};
  for (const r of records.faults) {
    if (r.outcome !== 'caught' && r.outcome !== 'missed') continue;
    out[r.fault] ??= {};
    const entry = out[r.fault];
    const key = r.outcome === 'missed' ? '(missed)' : r.causes.length ? r.causes.join('+') : '(warning only)';
    entry[key] = (entry[key] ?? 0) + 1;
  }
  return out;
}

function table(catalog, summary, args) {
  const faults = catalog.faults;
  const withModels = args.parts.includes('models') || args.parts.includes('worse');
  const header = [
    'dataset',
    'clean splits failed',
    ...faults.map((f) => `${f} caught`),
    ...(withModels ? ['equivalent pairs blocked', 'worse blocked / qualified'] : []),
  ];
  const row = (label, s, hasModels) => {
    const errs =
      s.clean.errors +
      Object.values(s.faults).reduce((a, f) => a + f.errors, 0) +
      s.pairs.errors +
      s.worse.errors;
    return [
      errs ? `${label} (${errs} harness errors)` : label,
      cell(s.clean.failed, s.clean.total),
      ...faults.map((f) => cell(s.faults[f].caught, s.faults[f].cases)),
      ...(withModels
        ? hasModels
          ? [
              cell(s.pairs.blocked, s.pairs.total),
              s.worse.total ? `${s.worse.qualifiedBlocked}/${s.worse.qualified} (of ${s.worse.total})` : '–',
            ]
          : ['–', '–']
        : []),
    ];
  };
  const lines = [`| ${header.join(' | ')} |`, `|${header.map(() => ' --- ').join('|')}|`];
  for (const group of ['tune', 'report']) {
    const names = catalog.selected.filter((d) => (d.tag === 'tune') === (group === 'tune'));
    if (!names.length) continue;
    for (const d of names) lines.push(`| ${row(d.name, summary.perDataset[d.name], d.model).join(' | ')} |`);
    const total = row(
      `**${group} total**`,
      summary.perGroup[group],
      names.some((d) => d.model),
    );
    lines.push(`| ${total.join(' | ')} |`);
  }
  return lines.join('\n');
}

function modelTable(catalog, summary) {
  const lines = [
    '| dataset | equivalent pairs blocked | … of which a gate failed (not only min-rows) | degraded candidates | clearly worse | clearly worse blocked | degraded blocked |',
    '| --- | --- | --- | --- | --- | --- | --- |',
  ];
  for (const group of ['tune', 'report']) {
    const names = catalog.selected.filter((d) => d.model && (d.tag === 'tune') === (group === 'tune'));
    if (!names.length) continue;
    const rowOf = (label, s) =>
      `| ${label} | ${cell(s.pairs.blocked, s.pairs.total)} | ${cell(s.pairs.blockedByGates, s.pairs.total)} | ${s.worse.total} | ${s.worse.qualified} | ${cell(s.worse.qualifiedBlocked, s.worse.qualified)} | ${cell(s.worse.blocked, s.worse.total)} |`;
    for (const d of names) lines.push(rowOf(d.name, summary.perDataset[d.name]));
    lines.push(rowOf(`**${group} total**`, summary.perGroup[group]));
  }
  return lines.join('\n');
}

/** The gates `mlops init` wrote, grouped by task and identical settings. */
function initGatesText(configs) {
  const groups = new Map();
  for (const c of configs) {
    const m = c.model ?? {};
    const gates = [
      ...(m.gates ?? []),
      ...(m.thresholds ?? []).map((t) => JSON.stringify(t)),
      ...(m['min-rows'] !== undefined ? [`min-rows ${m['min-rows']}`] : []),
    ];
    const key = `${m.task ?? c.task}: ${gates.map((g) => `\`${g}\``).join(', ')}`;
    const list = groups.get(key) ?? new Set();
    list.add(c.dataset);
    groups.set(key, list);
  }
  const lines = ['Model gates written by `mlops init` (used unchanged):'];
  for (const [key, datasets] of groups) lines.push(`- ${key} (${[...datasets].join(', ')})`);
  return lines.join('\n');
}

function causesText(title, { failures, causes }, total) {
  if (!failures) return `${title}: none.`;
  const lines = [`${title} (${failures} of ${total}):`];
  for (const c of causes.slice(0, 10)) {
    const where = Object.entries(c.datasets)
      .sort((a, b) => b[1] - a[1])
      .map(([d, n]) => `${d} ${n}`)
      .join(', ');
    lines.push(`- \`${c.cause}\`: ${c.count} (${where})`);
  }
  return lines.join('\n');
}

// ---------------------------------------------------------------------------------------------
// Main

async function main() {
  let args;
  try {
    args = parseArgs(process.argv.slice(2));
  } catch (error) {
    console.error(error.message);
    process.exit(2);
  }
  if (args.help) return printHelp();
  slotsFree = args.jobs;
  NODE = nodeBinary();
  const nodeVersion = spawnSync(NODE, ['--version'], { encoding: 'utf8' }).stdout.trim();
  const pythonVersion = spawnSync(PYTHON, ['--version'], { encoding: 'utf8' }).stdout.trim();

  const list = listDatasets();
  const unknown = (args.datasets ?? []).filter((n) => !list.datasets.some((d) => d.name === n));
  if (unknown.length) {
    console.error(
      `unknown dataset(s) ${unknown.join(', ')}; known: ${list.datasets.map((d) => d.name).join(', ')}`,
    );
    process.exit(2);
  }
  const catalog = {
    ...list,
    selected: list.datasets.filter((d) => !args.datasets || args.datasets.includes(d.name)),
  };
  // The commit and src/ state when dist/ is copied: what the measured build was made from, at best.
  const commit = git(['rev-parse', 'HEAD']);
  const srcDirty = (git(['status', '--porcelain', '--', 'src']) ?? '') !== '';
  const cliSha = prepareCli(args);
  const work = join(outDir, `work-${process.pid}`);
  rmSync(work, { recursive: true, force: true });
  const timings = {};
  const records = { clean: [], faults: [], skipped: [], pairs: [], worse: [], errors: [] };
  const configs = [];
  try {
    let t0 = Date.now();
    await generate(args, catalog);
    timings.generate_s = (Date.now() - t0) / 1000;

    const manifests = { data: [], models: [] };
    for (const d of catalog.selected) {
      if (args.parts.includes('data') || args.parts.includes('faults'))
        manifests.data.push(readJson(join(outDir, 'data', d.name, 'manifest.json')));
      if ((args.parts.includes('models') || args.parts.includes('worse')) && d.model)
        manifests.models.push(readJson(join(outDir, 'models', d.name, 'manifest.json')));
    }

    // A + B
    if (manifests.data.length) {
      t0 = Date.now();
      const splits = manifests.data.flatMap((m) => m.cases.slice(0, args.seeds).map((c) => ({ m, c })));
      progress.label = 'data gate';
      progress.done = 0;
      progress.total = splits.reduce(
        (a, { c }) =>
          a +
          1 +
          (args.parts.includes('data') ? 1 : 0) +
          (args.parts.includes('faults') ? c.faults.filter((f) => !f.skipped).length : 0),
        0,
      );
      process.stderr.write(
        `data gate: ${splits.length} splits, ${progress.total} commands, ${args.jobs} at a time\n`,
      );
      await Promise.all(splits.map(({ m, c }) => runDataSplit(args, m, c, work, records)));
      timings.data_s = (Date.now() - t0) / 1000;
    }

    // C + D
    if (manifests.models.length) {
      t0 = Date.now();
      const splits = manifests.models.flatMap((m) => m.splits.slice(0, args.splits).map((s) => ({ m, s })));
      const r = args.retrains;
      progress.label = 'model gate';
      progress.done = 0;
      progress.total = splits.reduce(
        (a, { s }) =>
          a +
          1 +
          (args.parts.includes('models') ? r * (r - 1) : 0) +
          (args.parts.includes('worse') ? s.worse.length * r : 0),
        0,
      );
      process.stderr.write(
        `model gate: ${splits.length} splits, ${progress.total} commands, ${args.jobs} at a time\n`,
      );
      await Promise.all(splits.map(({ m, s }) => runModelSplit(args, m, s, work, records, configs)));
      timings.models_s = (Date.now() - t0) / 1000;
    }
  } finally {
    if (snapshotDir) rmSync(snapshotDir, { recursive: true, force: true });
  }
  timings.total_s = (Date.now() - started) / 1000;
  timings.perCommand = {
    validateData: wallStats([...records.clean, ...records.faults]),
    validateModel: wallStats([...records.pairs, ...records.worse]),
  };

  // Keep the kept reports (false alarms, misses, errors) of this run as bench/data/calibration/last-run/.
  const lastRun = join(outDir, 'last-run');
  rmSync(lastRun, { recursive: true, force: true });
  if (existsSync(work)) cpSync(work, lastRun, { recursive: true });
  rmSync(work, { recursive: true, force: true });

  const summary = summarize(catalog, records);
  const dataCauses = causesOf(records.clean, 'failed');
  const modelCausesSummary = causesOf(records.pairs, 'blocked');
  const missCauses = {};
  for (const fault of catalog.faults) {
    const misses = records.faults.filter((r) => r.fault === fault && r.outcome === 'missed');
    if (misses.length) missCauses[fault] = misses.length;
  }

  const out = [];
  out.push(
    `## Gate calibration (${args.quick ? 'quick: ' : ''}${args.seeds} seeds, ${args.retrains} retrains × ${args.splits} split${args.splits > 1 ? 's' : ''}; parts ${args.parts.join(', ')})`,
  );
  out.push('');
  out.push(table(catalog, summary, args));
  out.push('');
  if (args.parts.includes('models') || args.parts.includes('worse')) {
    out.push(modelTable(catalog, summary));
    out.push('');
    out.push(initGatesText(configs));
    out.push('');
  }
  if (args.parts.includes('data')) {
    const cleanTotal = records.clean.filter((r) => r.outcome !== 'error').length;
    out.push(
      causesText('Data gate false alarms on clean splits, by finding (error)', dataCauses, cleanTotal),
    );
    const drift = driftColumns(records).slice(0, 8);
    if (drift.length) out.push(`- drift by column: ${drift.map((d) => `${d.column} ${d.count}`).join(', ')}`);
    const dups = Object.entries(summary.perDataset)
      .filter(([, s]) => s.clean.duplicateFinding)
      .map(([n, s]) => `${n} ${s.clean.duplicateFinding}/${s.clean.total}`);
    if (dups.length)
      out.push(`- clean holdouts that already have a duplicate-rows finding: ${dups.join(', ')}`);
    out.push('');
  }
  if (args.parts.includes('faults')) {
    const by = caughtBy(records);
    out.push('Faults, by the error findings of each case:');
    for (const [fault, counts] of Object.entries(by))
      out.push(
        `- ${fault}: ${Object.entries(counts)
          .sort((a, b) => b[1] - a[1])
          .map(([k, n]) => `${k} ${n}`)
          .join(', ')}`,
      );
    const skipped = {};
    for (const s of records.skipped) skipped[s.fault] = (skipped[s.fault] ?? 0) + 1;
    if (Object.keys(skipped).length)
      out.push(
        `- not applicable (skipped): ${Object.entries(skipped)
          .map(([f, n]) => `${f} ${n}`)
          .join(', ')}`,
      );
    out.push('');
  }
  if (args.parts.includes('models')) {
    const total = records.pairs.filter((r) => r.outcome !== 'error').length;
    out.push(
      causesText('Model gate false alarms on equivalent retrains, by failed gate', modelCausesSummary, total),
    );
    out.push('');
  }
  if (args.parts.includes('worse')) {
    const kinds = {};
    for (const k of worseByKind(records)) {
      kinds[k.kind] ??= { cases: 0, qualified: 0, blocked: 0 };
      for (const f of ['cases', 'qualified', 'blocked']) kinds[k.kind][f] += k[f];
    }
    out.push('Degraded candidates by kind (clearly worse / blocked / cases):');
    for (const [kind, k] of Object.entries(kinds))
      out.push(`- ${kind}: ${k.qualified} / ${k.blocked} / ${k.cases}`);
    out.push('');
  }
  if (records.errors.length) {
    out.push(`Harness errors (exit ≥ 2, or no report): ${records.errors.length}`);
    const byMessage = new Map();
    for (const e of records.errors) {
      const key = `${e.part}: ${e.message}`;
      byMessage.set(key, (byMessage.get(key) ?? 0) + 1);
    }
    for (const [message, n] of [...byMessage.entries()].sort((a, b) => b[1] - a[1]).slice(0, 10))
      out.push(`- ${n}× ${message}`);
    out.push('');
  }
  out.push(
    `Commit ${commit?.slice(0, 10)}${srcDirty ? ' + uncommitted src/ changes' : ''}, dist/cli/index.js sha256 ${cliSha}; ${timings.total_s.toFixed(0)} s (generate ${(timings.generate_s ?? 0).toFixed(0)} s, data gate ${(timings.data_s ?? 0).toFixed(0)} s, model gate ${(timings.models_s ?? 0).toFixed(0)} s), ${args.jobs} jobs.`,
  );
  console.log(out.join('\n'));

  if (args.save) {
    const results = {
      kind: 'gate-calibration',
      version: 1,
      date: new Date().toISOString(),
      commit,
      srcDirty,
      cli: { bundle: 'dist/cli/index.js', sha256: cliSha },
      machine: machineInfo(nodeVersion, pythonVersion),
      args: {
        quick: args.quick,
        seeds: args.seeds,
        retrains: args.retrains,
        splits: args.splits,
        datasets: catalog.selected.map((d) => d.name),
        parts: args.parts,
        jobs: args.jobs,
      },
      timings,
      generator: manifestGenerator(catalog),
      datasets: catalog.selected,
      summary,
      causes: {
        dataCleanFailures: dataCauses,
        driftColumns: driftColumns(records),
        faultsCaughtBy: caughtBy(records),
        faultMisses: missCauses,
        modelEquivalentBlocked: modelCausesSummary,
      },
      modelConfigs: configs,
      errors: records.errors,
      cases: keptCases(records),
      table: out.join('\n'),
    };
    writeFileSync(resultsFile, `${JSON.stringify(results, null, 1)}\n`);
    process.stderr.write(
      `results: ${relative(root, resultsFile)}; kept reports: ${relative(root, lastRun)}/\n`,
    );
  }
  if (records.errors.length) process.exitCode = 1;
}

/**
 * The cases the results file keeps: every false alarm, miss, blocked pair, degraded candidate and harness
 * error in full; passes only as counts (in `summary`) and wall times (in `timings.perCommand`).
 */
function keptCases(records) {
  const compactWorse = ({ changeGates, ...rest }) => ({
    ...rest,
    changeGates: changeGates?.map(({ expression, interval, worse }) => ({ expression, interval, worse })),
  });
  // Degraded candidates in full only where "clearly worse" and "blocked" disagree; the rest as counts.
  const worse = records.worse.filter((r) => r.outcome !== 'error');
  const skipped = {};
  for (const s of records.skipped) {
    const key = `${s.dataset} ${s.fault}`;
    skipped[key] ??= { dataset: s.dataset, fault: s.fault, count: 0, reason: s.reason };
    skipped[key].count++;
  }
  return {
    cleanFailed: records.clean.filter((r) => r.outcome === 'failed'),
    faultsMissed: records.faults.filter((r) => r.outcome === 'missed'),
    faultsSkipped: Object.values(skipped),
    pairsBlocked: records.pairs.filter((r) => r.outcome === 'blocked'),
    worseByKind: worseByKind(records),
    worseDisagreeing: worse.filter((r) => r.qualified !== (r.outcome === 'blocked')).map(compactWorse),
  };
}

/** Degraded candidates per dataset and kind: cases, clearly worse, blocked. */
function worseByKind(records) {
  const out = {};
  for (const r of records.worse) {
    if (r.outcome === 'error') continue;
    const key = `${r.dataset} ${r.candidate}`;
    out[key] ??= { dataset: r.dataset, kind: r.candidate, cases: 0, qualified: 0, blocked: 0 };
    out[key].cases++;
    if (r.qualified) out[key].qualified++;
    if (r.outcome === 'blocked') out[key].blocked++;
  }
  return Object.values(out);
}

function wallStats(list) {
  const walls = list.map((r) => r.wall_s).filter((x) => typeof x === 'number');
  if (!walls.length) return null;
  walls.sort((a, b) => a - b);
  const mean = walls.reduce((a, b) => a + b, 0) / walls.length;
  return {
    commands: walls.length,
    mean_s: Math.round(mean * 1000) / 1000,
    p95_s: walls[Math.floor(0.95 * (walls.length - 1))],
    max_s: walls.at(-1),
  };
}

function manifestGenerator(catalog) {
  for (const d of catalog.selected) {
    const m =
      readJson(join(outDir, 'data', d.name, 'manifest.json')) ??
      readJson(join(outDir, 'models', d.name, 'manifest.json'));
    if (m?.generator) return m.generator;
  }
  return null;
}

main().catch((error) => {
  console.error(error.stack ?? String(error));
  if (snapshotDir) rmSync(snapshotDir, { recursive: true, force: true });
  process.exit(3);
});

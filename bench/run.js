#!/usr/bin/env node
// Benchmarks of the data gate against its targets. See bench/README.md.
//
//   npm run bench                                   # everything (about 6 minutes on 2 cores)
//   npm run bench -- --only csv,jsonl,parquet,start,scale,pandas
//   npm run bench -- --runs 5 --rows 100000         # more repeats / a smaller table (smoke test)
//
// Flags:
//   --only LIST    parts to run (default: pandas,csv,jsonl,parquet,start,scale)
//   --runs N       repeats of each timed command; the best (lowest) wall time is reported (default 3)
//   --start-runs N repeats of the action start measurement; the median is reported (default 10)
//   --scale-runs N repeats of each 10x command (default 1: it is a memory measurement)
//   --rows N       rows of the base table (default 1000000); the scale part uses 10 * N
//   --build        run `npm run build` first even when dist/ exists (it is built when missing)
//   --keep         keep the 10x file (deleted by default: it is about 2.4 GB)
//   --no-save      do not update bench/results.json
//   --poll         measure peak RSS by polling /proc even when GNU time is there
//   --cli FILE, --action FILE   other CLI / action bundles (default dist/cli/index.js, dist/validate-data/index.js)
//
// Every command is a child process; wall time is measured around it and peak RSS is the child's
// max resident set size from `/usr/bin/time -f %M` (GNU time: the kernel's ru_maxrss from wait4),
// or, without GNU time, from polling /proc/<pid>/status (VmHWM) every 10 ms.
// Results merge into bench/results.json (parts not run keep their previous entries).

import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  cpSync,
  existsSync,
  mkdtempSync,
  readFileSync,
  realpathSync,
  renameSync,
  rmSync,
  statfsSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { cpus, freemem, tmpdir, totalmem } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { measure, peakRss, round } from './measure.js';

const benchDir = dirname(fileURLToPath(import.meta.url));
const root = join(benchDir, '..');
const dataDir = join(benchDir, 'data');
const PYTHON = '/usr/bin/python3';
const ALL_PARTS = ['pandas', 'csv', 'jsonl', 'parquet', 'start', 'scale'];

// ---------------------------------------------------------------------------------------------
// Arguments

function parseArgs(argv) {
  const args = {
    only: ALL_PARTS,
    runs: 3,
    startRuns: 10,
    scaleRuns: 1,
    rows: 1_000_000,
    build: false,
    keep: false,
    save: true,
    poll: false,
    cli: null,
    action: null,
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    const count = () => {
      const n = Number(value().replaceAll('_', ''));
      if (!Number.isInteger(n) || n < 1) throw new Error(`${a} needs a positive integer`);
      return n;
    };
    if (a === '--only')
      args.only = value()
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
    else if (a === '--runs') args.runs = count();
    else if (a === '--start-runs') args.startRuns = count();
    else if (a === '--scale-runs') args.scaleRuns = count();
    else if (a === '--rows') args.rows = count();
    else if (a === '--build') args.build = true;
    else if (a === '--keep') args.keep = true;
    else if (a === '--no-save') args.save = false;
    else if (a === '--poll') args.poll = true;
    else if (a === '--cli') args.cli = value();
    else if (a === '--action') args.action = value();
    else if (a === '--help' || a === '-h') args.help = true;
    else throw new Error(`unknown argument ${a}`);
  }
  const unknown = args.only.filter((p) => !ALL_PARTS.includes(p));
  if (unknown.length)
    throw new Error(`unknown part(s) ${unknown.join(', ')}; parts: ${ALL_PARTS.join(', ')}`);
  return args;
}

// ---------------------------------------------------------------------------------------------
// Node 24: the actions' runtime. Under `npm run` the `node` dev dependency is first on PATH.

function nodeBinary() {
  if (Number(process.versions.node.split('.')[0]) >= 24) return process.execPath;
  const local = join(root, 'node_modules', '.bin', 'node');
  if (existsSync(local)) {
    console.warn(
      `run.js runs on Node ${process.versions.node}; children use ${relative(root, local)} (Node 24). Prefer \`npm run bench\`.`,
    );
    return realpathSync(local);
  }
  console.warn(`warning: Node ${process.versions.node}, not 24 (the actions' runtime); figures may differ.`);
  return process.execPath;
}
const NODE = nodeBinary();
const nodeVersion = spawnSync(NODE, ['--version'], { encoding: 'utf8' }).stdout.trim();

// ---------------------------------------------------------------------------------------------
// Measuring one child process

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

const mb = (bytes) => round(bytes / 2 ** 20, 1);

function shownCommand(cmd, args) {
  const show = (a) => {
    // The snapshot of dist/ (see snapshotBundles) is shown as the dist/ file it copies.
    if (snapshotDir && a.startsWith(snapshotDir))
      return relative(root, join(root, 'dist', relative(snapshotDir, a)));
    return a.startsWith(root) ? relative(root, a) : a;
  };
  return [cmd === NODE ? 'node' : cmd, ...args.map(show)].join(' ');
}

/**
 * Runs each spec `runs` times, round-robin (A B C A B C ...), so that the commands compared
 * with each other see the same machine load. A spec: { name, label, cmd, args, okCodes = [0],
 * env, aggregate: 'best' | 'median', before() }. A spec whose run fails is not run again and
 * its entry gets `error`. Returns one entry per spec.
 */
async function repeatGroup(specs, runs) {
  const state = specs.map((spec) => ({
    spec,
    shown: shownCommand(spec.cmd, spec.args),
    results: [],
    error: null,
  }));
  for (const st of state) process.stderr.write(`  ${st.spec.name}: ${st.shown}\n`);
  for (let i = 0; i < runs; i++) {
    for (const st of state) {
      if (st.error) continue;
      const { spec } = st;
      if (spec.before) spec.before();
      const r = await measure(spec.cmd, spec.args, { env: spec.env, cwd: root });
      const bad = !(spec.okCodes ?? [0]).includes(r.code) ? `exit ${r.code}` : (spec.check?.(r) ?? null);
      if (bad) {
        const tail = `${bad}\n${r.stderr}\n${r.stdout}`.trim().split('\n').slice(-15).join('\n');
        process.stderr.write(
          `    ${spec.name} run ${i + 1}: FAILED (exit ${r.code})\n${tail.replace(/^/gm, '      ')}\n`,
        );
        st.error = `${bad}: ${tail.split('\n').slice(-3).join(' | ')}`;
        continue;
      }
      process.stderr.write(
        `    ${spec.name} run ${i + 1}: ${r.wall_s.toFixed(3)} s, peak ${r.peak_rss_mb} MB, exit ${r.code}\n`,
      );
      st.results.push(r);
    }
  }
  return state.map(({ spec, shown, results, error }) => {
    const runsOut = results.map(({ wall_s, peak_rss_mb, code }) => ({ wall_s, peak_rss_mb, exit: code }));
    if (error) return { name: spec.name, label: spec.label, command: shown, error, runs: runsOut };
    const walls = results.map((r) => r.wall_s);
    const aggregate = spec.aggregate ?? 'best';
    const entry = {
      name: spec.name,
      label: spec.label,
      command: shown,
      runs: runsOut,
      best_s: Math.min(...walls),
      median_s: round(median(walls), 3),
      // Peak memory: the highest of all runs (the conservative figure).
      peak_rss_mb: Math.max(...results.map((r) => r.peak_rss_mb)),
      exit: results.at(-1).code,
      last_stdout: results.at(-1).stdout,
      aggregate,
    };
    entry.wall_s = aggregate === 'median' ? entry.median_s : entry.best_s;
    return entry;
  });
}

// ---------------------------------------------------------------------------------------------
// Data

function rowsLabel(rows) {
  if (rows % 1_000_000 === 0) return `${rows / 1_000_000}m`;
  if (rows % 1000 === 0) return `${rows / 1000}k`;
  return String(rows);
}

function dataFile(rows, ext) {
  return join(dataDir, `bench-${rowsLabel(rows)}.${ext}`);
}

const contractFile = join(dataDir, 'contract.json');

/** Generates `file` (rows, format) unless present; writes to a .partial name first. */
function ensureData(file, rows, format) {
  if (existsSync(file) && existsSync(contractFile)) return;
  const partial = `${file}.partial`;
  process.stderr.write(`generating ${relative(root, file)} (${rows} rows, ${format}) ...\n`);
  const r = spawnSync(
    NODE,
    [
      join(benchDir, 'generate.js'),
      '--rows',
      String(rows),
      '--format',
      format,
      '--out',
      partial,
      '--contract',
      contractFile,
    ],
    {
      cwd: root,
      stdio: ['ignore', 'inherit', 'inherit'],
    },
  );
  if (r.status !== 0) {
    rmSync(partial, { force: true });
    throw new Error(`generate.js failed for ${file}`);
  }
  renameSync(partial, file);
}

function freeDiskBytes(path) {
  const s = statfsSync(path);
  return s.bavail * s.bsize;
}

// ---------------------------------------------------------------------------------------------
// The CLI

let CLI = join(root, 'dist', 'cli', 'index.js');
let ACTION = join(root, 'dist', 'validate-data', 'index.js');

function npmBuild() {
  process.stderr.write('npm run build ...\n');
  const r = spawnSync('npm', ['run', 'build'], { cwd: root, stdio: ['ignore', 'inherit', 'inherit'] });
  return r.status === 0;
}

/** Which CLI commands exist: { profile, 'validate-data' } as booleans, plus a reason when not. */
function cliStatus(args) {
  if (args.build || (!existsSync(CLI) && CLI === join(root, 'dist', 'cli', 'index.js'))) {
    if (!npmBuild()) {
      return { ready: false, reason: 'npm run build failed (is src/cli/index.ts there yet?)', commands: {} };
    }
  }
  snapshotBundles(args);
  if (!existsSync(CLI))
    return { ready: false, reason: 'dist/cli/index.js is missing after npm run build', commands: {} };
  const help = spawnSync(NODE, [CLI, '--help'], { cwd: root, encoding: 'utf8' });
  const text = `${help.stdout}\n${help.stderr}`;
  const commands = {};
  for (const c of ['profile', 'validate-data'])
    commands[c] = new RegExp(`(^|\\s)${c}(\\s|$)`, 'm').test(text);
  const missing = Object.keys(commands).filter((c) => !commands[c]);
  return {
    ready: missing.length === 0,
    reason: missing.length
      ? `\`node ${relative(root, CLI)} --help\` (exit ${help.status}) lists no ${missing.join(', ')}${
          help.status ? `: ${text.trim().split('\n').slice(-3).join(' | ')}` : ''
        }`
      : '',
    commands,
  };
}

/**
 * Copies the bundles under bench/data/ (so node_modules still resolves) and runs the copies:
 * a rebuild of dist/ by someone else during the run then neither breaks it nor mixes builds.
 */
let snapshotDir = null;
const bundleHashes = {};
function snapshotBundles(args) {
  snapshotDir = join(dataDir, `dist-snapshot-${process.pid}`);
  const copy = (file) => {
    // dist/ may be in the middle of a rebuild (scripts/build.js swaps the new build in by two renames): wait a little.
    for (let i = 0; i < 20 && !existsSync(file); i++) spawnSync('sleep', ['0.5']);
    if (!existsSync(file)) return file;
    const target = join(snapshotDir, relative(join(root, 'dist'), file));
    // The whole bundle folder: index.js loads its chunks (chunks/*.js) lazily.
    cpSync(dirname(file), dirname(target), { recursive: true });
    bundleHashes[relative(root, file)] = createHash('sha256')
      .update(readFileSync(target))
      .digest('hex')
      .slice(0, 16);
    return target;
  };
  if (!args.cli) CLI = copy(CLI);
  if (!args.action) ACTION = copy(ACTION);
}

function wroteJson(file, what) {
  try {
    JSON.parse(readFileSync(file, 'utf8'));
    return null;
  } catch (error) {
    return `no ${what} JSON written (${error.code ?? error.message})`;
  }
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
  if (args.help) {
    const header = readFileSync(fileURLToPath(import.meta.url), 'utf8')
      .split('\n')
      .slice(1);
    const end = header.findIndex((l) => !l.startsWith('//'));
    console.log(
      header
        .slice(0, end)
        .map((l) => l.replace(/^\/\/ ?/, ''))
        .join('\n'),
    );
    return;
  }
  const parts = new Set(args.only);
  if (args.poll) peakRss.gnuTime = false;
  if (args.cli) CLI = realpathSync(args.cli);
  if (args.action) ACTION = realpathSync(args.action);
  const work = mkdtempSync(join(tmpdir(), 'mlops-bench-'));
  const results = [];
  const pending = [];
  const base = {
    csv: dataFile(args.rows, 'csv'),
    jsonl: dataFile(args.rows, 'jsonl'),
    parquet: dataFile(args.rows, 'parquet'),
  };
  const tiny = join(dataDir, 'tiny.csv');
  const profileOut = join(work, 'profile.json');
  const reportOut = join(work, 'report.json');
  const profileArgs = (file) => [CLI, 'profile', '--data', file, '--out', profileOut];
  const validateArgs = (file) => [
    CLI,
    'validate-data',
    '--data',
    file,
    '--contract',
    contractFile,
    '--report',
    reportOut,
  ];
  // validate-data exits 1 on findings; only >= 2 is a failure.
  const validateOk = [0, 1];

  try {
    // Data first (not timed).
    if (parts.has('pandas') || parts.has('csv')) ensureData(base.csv, args.rows, 'csv');
    if (parts.has('jsonl')) ensureData(base.jsonl, args.rows, 'jsonl');
    if (parts.has('parquet')) {
      ensureData(base.csv, args.rows, 'csv');
      ensureData(base.parquet, args.rows, 'parquet');
    }
    if (parts.has('start')) ensureData(tiny, 100, 'csv');

    const needsCli = ['csv', 'jsonl', 'parquet', 'scale'].some((p) => parts.has(p));
    const needsAction = parts.has('start');
    let cli = { ready: false, reason: 'not needed', commands: {} };
    if (needsCli || needsAction) cli = cliStatus(args);
    if (needsCli && !cli.ready)
      process.stderr.write(`\nCLI not ready: ${cli.reason}. Its rows are marked pending.\n\n`);
    const has = (c) => cli.commands[c] === true;
    const skip = (name, label, why) => {
      pending.push({ name, label, pending: why });
      process.stderr.write(`  ${name}: pending (${why})\n`);
    };

    const N = rowsLabel(args.rows);
    const spec = {
      pandas: () => ({
        name: 'pandas.csv',
        label: `pandas read_csv+describe+quantile+nunique, ${N} rows CSV`,
        cmd: PYTHON,
        args: [join(benchDir, 'pandas_baseline.py'), base.csv],
      }),
      profile: (name, file, what) => ({
        name,
        label: `mlops profile, ${what}`,
        cmd: NODE,
        args: profileArgs(file),
        before: () => rmSync(profileOut, { force: true }),
        check: () => wroteJson(profileOut, 'profile'),
      }),
      validate: (name, file, what) => ({
        name,
        label: `mlops validate-data (profile + contract), ${what}`,
        cmd: NODE,
        args: validateArgs(file),
        okCodes: validateOk,
        before: () => rmSync(reportOut, { force: true }),
        check: () => wroteJson(reportOut, 'report'),
      }),
    };
    const run = async (specs, runs) => {
      const entries = await repeatGroup(specs, runs);
      results.push(...entries);
      return entries;
    };

    // 1. CSV against pandas, interleaved.
    if (parts.has('pandas') || parts.has('csv')) {
      const specs = [];
      if (parts.has('pandas')) specs.push(spec.pandas());
      if (parts.has('csv')) {
        if (has('profile')) specs.push(spec.profile('ours.profile.csv', base.csv, `${N} rows CSV`));
        else skip('ours.profile.csv', `mlops profile, ${N} rows CSV`, 'CLI not ready');
        if (has('validate-data')) specs.push(spec.validate('ours.validate.csv', base.csv, `${N} rows CSV`));
        else skip('ours.validate.csv', `mlops validate-data, ${N} rows CSV`, 'CLI not ready');
      }
      const entries = await run(specs, args.runs);
      const pandas = entries.find((e) => e.name === 'pandas.csv' && !e.error);
      if (pandas) {
        try {
          pandas.pandas = JSON.parse(pandas.last_stdout.trim().split('\n').at(-1));
        } catch {}
      }
    }
    // 2. JSONL.
    if (parts.has('jsonl')) {
      const specs = [];
      if (has('validate-data'))
        specs.push(spec.validate('ours.validate.jsonl', base.jsonl, `${N} rows JSONL`));
      else skip('ours.validate.jsonl', `mlops validate-data, ${N} rows JSONL`, 'CLI not ready');
      if (has('profile')) specs.push(spec.profile('ours.profile.jsonl', base.jsonl, `${N} rows JSONL`));
      else skip('ours.profile.jsonl', `mlops profile, ${N} rows JSONL`, 'CLI not ready');
      await run(specs, args.runs);
    }
    // 3. Parquet against CSV (the same rows), interleaved.
    if (parts.has('parquet')) {
      const specs = [];
      if (has('profile')) {
        specs.push(spec.profile('ours.profile.parquet', base.parquet, `${N} rows Parquet`));
        specs.push(spec.profile('ours.profile.csv.pair', base.csv, `${N} rows CSV (paired with Parquet)`));
      } else skip('ours.profile.parquet', `mlops profile, ${N} rows Parquet`, 'CLI not ready');
      if (has('validate-data'))
        specs.push(spec.validate('ours.validate.parquet', base.parquet, `${N} rows Parquet`));
      else skip('ours.validate.parquet', `mlops validate-data, ${N} rows Parquet`, 'CLI not ready');
      await run(specs, args.runs);
    }
    // 4. Action start.
    if (parts.has('start')) {
      if (existsSync(ACTION)) {
        const outFile = join(work, 'github_output');
        const summaryFile = join(work, 'step_summary');
        const env = {
          PATH: process.env.PATH,
          HOME: process.env.HOME ?? work,
          GITHUB_ACTIONS: 'true',
          GITHUB_WORKSPACE: root,
          RUNNER_TEMP: work,
          GITHUB_OUTPUT: outFile,
          GITHUB_STEP_SUMMARY: summaryFile,
          INPUT_DATA: tiny,
          INPUT_CONTRACT: contractFile,
          'INPUT_REPORT-PATH': join(work, 'action-report.json'),
          'INPUT_FAIL-ON': 'error',
        };
        const before = () => {
          writeFileSync(outFile, '');
          writeFileSync(summaryFile, '');
        };
        const outputsWritten = (r) =>
          /passed/.test(readFileSync(outFile, 'utf8'))
            ? null
            : `no 'passed' output in GITHUB_OUTPUT (exit ${r.code})`;
        await run(
          [
            {
              name: 'action.start',
              label: 'validate-data action start, 100-row CSV + contract',
              cmd: NODE,
              args: [ACTION],
              okCodes: [0, 1],
              env,
              aggregate: 'median',
              before,
              check: outputsWritten,
            },
          ],
          args.startRuns,
        );
      } else skip('action.start', 'validate-data action start', `${relative(root, ACTION)} missing`);
    }
    // 5. Memory at 10x rows (the file is generated for this, then deleted).
    if (parts.has('scale')) {
      const rows = args.rows * 10;
      const big = dataFile(rows, 'csv');
      const M = rowsLabel(rows);
      if (!has('profile') && !has('validate-data'))
        skip('ours.profile.csv.10x', `mlops profile, ${M} rows CSV`, 'CLI not ready');
      else {
        const needed = existsSync(big) ? 0 : Math.ceil(rows * 240 * 1.05);
        const free = freeDiskBytes(root);
        if (free - needed < 2 * 2 ** 30) {
          skip(
            'ours.profile.csv.10x',
            `mlops profile, ${M} rows CSV`,
            `not enough disk: ${mb(free)} MB free, ${mb(needed)} MB needed + 2 GB margin`,
          );
        } else {
          ensureData(big, rows, 'csv');
          const size = statSync(big).size;
          try {
            const specs = [];
            if (has('profile'))
              specs.push(spec.profile('ours.profile.csv.10x', big, `${M} rows CSV (${mb(size)} MB)`));
            if (has('validate-data'))
              specs.push(spec.validate('ours.validate.csv.10x', big, `${M} rows CSV (${mb(size)} MB)`));
            await run(specs, args.scaleRuns);
          } finally {
            if (!args.keep) {
              rmSync(big, { force: true });
              process.stderr.write(`deleted ${relative(root, big)}\n`);
            }
          }
          // The 1x figures to compare with, when the csv part did not run now.
          if (!parts.has('csv')) {
            const specs = [];
            if (has('profile')) specs.push(spec.profile('ours.profile.csv', base.csv, `${N} rows CSV`));
            if (has('validate-data'))
              specs.push(spec.validate('ours.validate.csv', base.csv, `${N} rows CSV`));
            ensureData(base.csv, args.rows, 'csv');
            await run(specs, args.scaleRuns);
          }
        }
      }
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
    if (snapshotDir) rmSync(snapshotDir, { recursive: true, force: true });
  }

  for (const e of results) delete e.last_stdout;
  const machine = machineInfo();
  const targets = evaluate(results, args.rows);
  printTable(machine, results, pending, targets);

  if (args.save) {
    const path = join(benchDir, 'results.json');
    let previous = {};
    try {
      previous = JSON.parse(readFileSync(path, 'utf8'));
    } catch {}
    const byName = new Map((previous.results ?? []).map((e) => [e.name, e]));
    const build = { git: machine.git, bundles: machine.bundles };
    for (const e of results) byName.set(e.name, { ...e, measured_at: machine.date, build });
    for (const p of pending)
      if (!byName.has(p.name) || byName.get(p.name).pending)
        byName.set(p.name, { ...p, measured_at: machine.date });
    const merged = [...byName.values()];
    const saved = {
      machine,
      rows: args.rows,
      runs: args.runs,
      results: merged,
      targets: evaluate(
        merged.filter((e) => !e.pending),
        args.rows,
      ),
    };
    writeFileSync(path, `${JSON.stringify(saved, null, 2)}\n`);
    process.stderr.write(`\nwrote ${relative(root, path)}\n`);
  }
  const failed = results.filter((e) => e.error);
  if (failed.length) process.exitCode = 1;
}

/** The commit measured, and whether the work tree had changes (read-only git commands). */
function gitState() {
  const head = spawnSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: root, encoding: 'utf8' });
  if (head.status !== 0) return null;
  const status = spawnSync('git', ['status', '--porcelain', '--', 'src'], { cwd: root, encoding: 'utf8' });
  return `${head.stdout.trim()}${status.stdout.trim() ? ' + uncommitted changes in src/' : ''}`;
}

function machineInfo() {
  let cpuModel = cpus()[0]?.model ?? 'unknown';
  try {
    const m = /model name\s*:\s*(.+)/.exec(readFileSync('/proc/cpuinfo', 'utf8'));
    if (m) cpuModel = m[1].trim();
  } catch {}
  const py = spawnSync(
    PYTHON,
    ['-c', 'import sys, pandas, numpy; print(sys.version.split()[0], pandas.__version__, numpy.__version__)'],
    { encoding: 'utf8' },
  );
  const [python, pandas, numpy] = (py.stdout ?? '').trim().split(' ');
  const nproc = spawnSync('nproc', { encoding: 'utf8' }).stdout?.trim();
  return {
    date: new Date().toISOString(),
    nproc: Number(nproc) || cpus().length,
    cpu: cpuModel,
    memory_gb: round(totalmem() / 2 ** 30, 1),
    free_memory_gb: round(freemem() / 2 ** 30, 1),
    node: nodeVersion,
    python: python || null,
    pandas: pandas || null,
    numpy: numpy || null,
    bundles: bundleHashes,
    git: gitState(),
    peak_rss_from: peakRss.gnuTime
      ? '/usr/bin/time -f %M (ru_maxrss)'
      : '/proc/<pid>/status VmHWM polled every 10 ms',
  };
}

/** The targets, as far as the results allow. */
function evaluate(results, rows) {
  const get = (name) => results.find((e) => e.name === name && !e.error && !e.pending);
  const out = [];
  const pandas = get('pandas.csv');
  for (const name of ['ours.validate.csv', 'ours.profile.csv']) {
    const ours = get(name);
    if (pandas && ours) {
      const speedup = round(pandas.wall_s / ours.wall_s, 2);
      out.push({
        target: `${name}: >= 3x faster than pandas`,
        value: `${speedup}x (${ours.wall_s} s vs ${pandas.wall_s} s)`,
        met: speedup >= 3,
      });
    }
    if (ours)
      out.push({
        target: `${name}: peak RSS <= 250 MB`,
        value: `${ours.peak_rss_mb} MB`,
        met: ours.peak_rss_mb <= 250,
      });
  }
  for (const [big, small] of [
    ['ours.profile.csv.10x', 'ours.profile.csv'],
    ['ours.validate.csv.10x', 'ours.validate.csv'],
  ]) {
    const b = get(big);
    const s = get(small);
    if (b && s) {
      const ratio = round(b.peak_rss_mb / s.peak_rss_mb, 2);
      out.push({
        target: `${big}: peak RSS flat at 10x rows (<= 1.25x the 1x peak)`,
        value: `${b.peak_rss_mb} MB vs ${s.peak_rss_mb} MB (${ratio}x); time ${round(b.wall_s / s.wall_s, 1)}x`,
        met: ratio <= 1.25,
      });
    }
  }
  const pq = get('ours.profile.parquet');
  const csv = get('ours.profile.csv.pair') ?? get('ours.profile.csv');
  if (pq && csv) {
    const ratio = round(pq.wall_s / csv.wall_s, 2);
    out.push({
      target: 'Parquet profile no slower than CSV',
      value: `${pq.wall_s} s vs ${csv.wall_s} s (${ratio}x)`,
      met: ratio <= 1.0,
    });
  }
  const jsonl = get('ours.validate.jsonl');
  if (jsonl) {
    const rate = Math.round(rows / jsonl.wall_s);
    out.push({
      target: 'JSONL contract check >= 200k rows/s',
      value: `${rate.toLocaleString('en-US')} rows/s (${jsonl.wall_s} s, whole process)`,
      met: rate >= 200_000,
    });
  }
  const start = get('action.start');
  if (start)
    out.push({
      target: 'action start <= 250 ms (median)',
      value: `${Math.round(start.median_s * 1000)} ms`,
      met: start.median_s <= 0.25,
    });
  return out;
}

function printTable(machine, results, pending, targets) {
  const lines = [];
  lines.push('');
  lines.push(
    `machine: ${machine.nproc} cores, ${machine.cpu}, ${machine.memory_gb} GB; Node ${machine.node}; Python ${machine.python}, pandas ${machine.pandas}, numpy ${machine.numpy}; ${machine.date}`,
  );
  lines.push('');
  const rows = [['benchmark', 'wall (s)', 'runs (s)', 'peak RSS (MB)', 'exit']];
  for (const e of results) {
    if (e.error)
      rows.push([
        e.label ?? e.name,
        'FAILED',
        e.runs.map((r) => r.wall_s).join(' '),
        '',
        e.error.slice(0, 60),
      ]);
    else
      rows.push([
        e.label ?? e.name,
        `${e.wall_s.toFixed(3)}${e.aggregate === 'median' ? ' (median)' : ' (best)'}`,
        e.runs.map((r) => r.wall_s.toFixed(2)).join(' '),
        String(e.peak_rss_mb),
        String(e.exit),
      ]);
  }
  for (const p of pending) rows.push([p.label, `pending: ${p.pending}`, '', '', '']);
  const widths = rows[0].map((_, k) => Math.max(...rows.map((r) => r[k].length)));
  for (const [i, r] of rows.entries()) {
    lines.push(r.map((c, k) => c.padEnd(widths[k])).join(' | '));
    if (i === 0) lines.push(widths.map((w) => '-'.repeat(w)).join('-|-'));
  }
  if (targets.length) {
    lines.push('');
    for (const t of targets) lines.push(`${t.met ? 'MET   ' : 'MISSED'}  ${t.target}: ${t.value}`);
  }
  console.log(lines.join('\n'));
}

await main();

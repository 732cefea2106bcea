#!/usr/bin/env node
// Packaging speed (issue: "package", section Speed). See bench/README.md ("Packaging").
//
//   npm run bench:package                        # a 2 GiB model, 3 interleaved runs
//   npm run bench:package -- --size-gib 4.5      # ZIP64 at scale (an entry and an archive > 4 GiB)
//   npm run bench:package -- --full              # also `mlops package` (dist/cli/index.js)
//
// The model is a small ONNX graph (Gather over one float32 initializer) whose initializer is
// external data: `model.onnx.data`, deterministic pseudo-random bytes (AES-256-CTR keystream),
// i.e. incompressible like real weights. Generated once per size under bench/data/ (git-ignored).
//
// Every command is a child process, run --runs times interleaved (A B C D A B C D …) with `sync`
// before each (so one command's dirty pages are not written back during the next one), the best
// wall time reported; peak RSS is the child's max resident set size from `/usr/bin/time -f %M`
// (GNU time: ru_maxrss), or VmHWM polled from /proc/<pid>/status every 10 ms without it.
//
//   openssl     openssl dgst -sha256 model.onnx.data
//   sha256      our hashing: node crypto SHA-256 over 1 MiB synchronous reads (as the writer's)
//   zip         zip -0 -X -q archive.zip model.onnx model.onnx.data
//   write       writeZip (src/core/zip/zip.ts) of model.onnx, model.onnx.data and a small
//               deflated manifest.json: CRC-32, each entry's SHA-256 and the archive's SHA-256
//   package     with --full: the whole `mlops package` command (see fullPackageCommand below)
// then, once, the archive is read back: `unzip -tqq` and our reader (every entry streamed and
// hashed, compared with what writeZip reported).
//
// Targets: hashing >= 90 % of openssl's throughput; the package >= 2x faster than `zip -0` alone;
// peak RSS <= 150 MB whatever the model size; archives over 4 GiB work.
//
// Flags: --size-gib N (default 2), --runs N (default 3), --full, --cli FILE (default
// dist/cli/index.js), --poll (peak RSS from /proc even with GNU time), --no-verify, --json FILE
// (write the results there), --remove-data (delete the generated model afterwards).

import { spawnSync } from 'node:child_process';
import { createCipheriv, createHash } from 'node:crypto';
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  readSync,
  realpathSync,
  renameSync,
  rmSync,
  statfsSync,
  statSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { cpus, freemem, totalmem } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { measure, peakRss, round } from './measure.js';
import { encodeModel } from './onnx-model.js';

const benchDir = dirname(fileURLToPath(import.meta.url));
const root = join(benchDir, '..');
const dataDir = join(benchDir, 'data');
const GIB = 2 ** 30;
const CHUNK = 1 << 20;
const TARGETS = { hashShareOfOpenssl: 0.9, speedupOverZip: 2, peakRssMb: 150 };

// ---------------------------------------------------------------------------------------------
// Child modes: `node bench/package.js --child <mode> ...` (what the parent measures)

if (process.argv[2] === '--child') {
  await runChild(process.argv[3], process.argv.slice(4));
  process.exit(0);
}

async function runChild(mode, rest) {
  if (mode === 'sha256') {
    // The writer's hashing loop, alone: 1 MiB synchronous reads into one buffer, hash.update.
    const fd = openSync(rest[0], 'r');
    const buffer = Buffer.allocUnsafe(CHUNK);
    const hash = createHash('sha256');
    let position = 0;
    for (;;) {
      const n = readSync(fd, buffer, 0, CHUNK, position);
      if (n === 0) break;
      hash.update(buffer.subarray(0, n));
      position += n;
    }
    closeSync(fd);
    console.log(JSON.stringify({ sha256: hash.digest('hex'), bytes: position }));
  } else if (mode === 'write') {
    const [module, out, model, data] = rest;
    const { writeZip } = await import(pathToFileURL(module).href);
    const manifest = Buffer.from(
      `${JSON.stringify({ files: ['model.onnx', 'model.onnx.data'] }, null, 2)}\n`,
    );
    const written = await writeZip(
      out,
      [
        { name: 'model.onnx', source: { path: model } },
        { name: 'model.onnx.data', source: { path: data } },
        { name: 'manifest.json', source: { bytes: manifest }, compress: true },
      ],
      { mtime: new Date('2026-01-01T00:00:00Z') },
    );
    console.log(JSON.stringify(written));
  } else if (mode === 'verify') {
    const [module, archive] = rest;
    const { openZipEntry, readZipEntries } = await import(pathToFileURL(module).href);
    const entries = [];
    for (const entry of await readZipEntries(archive)) {
      const hash = createHash('sha256');
      for await (const chunk of await openZipEntry(archive, entry)) hash.update(chunk);
      entries.push({ ...entry, sha256: hash.digest('hex') });
    }
    console.log(JSON.stringify(entries));
  } else {
    throw new Error(`unknown child mode ${mode}`);
  }
}

// ---------------------------------------------------------------------------------------------
// Arguments

function parseArgs(argv) {
  const args = {
    sizeGib: 2,
    runs: 3,
    full: false,
    cli: join(root, 'dist', 'cli', 'index.js'),
    poll: false,
    verify: true,
    json: null,
    removeData: false,
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    if (a === '--size-gib') {
      args.sizeGib = Number(value());
      if (!(args.sizeGib > 0)) throw new Error('--size-gib needs a positive number');
    } else if (a === '--runs') {
      args.runs = Number(value());
      if (!Number.isInteger(args.runs) || args.runs < 1) throw new Error('--runs needs a positive integer');
    } else if (a === '--full') args.full = true;
    else if (a === '--cli') args.cli = value();
    else if (a === '--poll') args.poll = true;
    else if (a === '--no-verify') args.verify = false;
    else if (a === '--json') args.json = value();
    else if (a === '--remove-data') args.removeData = true;
    else if (a === '--help' || a === '-h') {
      console.log(
        readFileSync(fileURLToPath(import.meta.url), 'utf8')
          .split('\n\n')[0]
          .replaceAll('// ', ''),
      );
      process.exit(0);
    } else throw new Error(`unknown argument ${a} (see --help)`);
  }
  return args;
}

// ---------------------------------------------------------------------------------------------
// Node 24 (type stripping runs src/*.ts). Under `npm run` the `node` dev dependency is on PATH.

function nodeBinary() {
  if (Number(process.versions.node.split('.')[0]) >= 24) return process.execPath;
  const local = join(root, 'node_modules', '.bin', 'node');
  if (existsSync(local)) return realpathSync(local);
  throw new Error(`Node ${process.versions.node}: the writer needs Node 24 (run \`npm run bench:package\`).`);
}

// ---------------------------------------------------------------------------------------------
// The model: a small graph and its external data

/** Makes (once) bench/data/package-<size>g/{model.onnx, model.onnx.data}; returns their paths. */
function ensureModel(sizeGib) {
  const bytes = Math.round((sizeGib * GIB) / 4) * 4;
  const dir = join(dataDir, `package-${sizeGib}g`);
  const model = join(dir, 'model.onnx');
  const data = join(dir, 'model.onnx.data');
  mkdirSync(dir, { recursive: true });
  if (!existsSync(data) || statSync(data).size !== bytes) {
    process.stderr.write(`generating ${relative(root, data)} (${(bytes / GIB).toFixed(2)} GiB) ...\n`);
    const started = performance.now();
    // AES-256-CTR keystream: deterministic, incompressible, ~GB/s with AES-NI.
    const cipher = createCipheriv('aes-256-ctr', Buffer.alloc(32, 7), Buffer.alloc(16, 0));
    const zeros = Buffer.alloc(16 * CHUNK);
    const partial = `${data}.partial`;
    const fd = openSync(partial, 'w');
    try {
      for (let written = 0; written < bytes; ) {
        const block = cipher.update(zeros.subarray(0, Math.min(zeros.length, bytes - written)));
        writeSync(fd, block);
        written += block.length;
      }
    } finally {
      closeSync(fd);
    }
    renameSync(partial, data);
    process.stderr.write(`  done in ${((performance.now() - started) / 1000).toFixed(1)} s\n`);
  }
  writeFileSync(model, encodeModel(bytes / 4, 'model.onnx.data', 'mlops-actions bench/package.js'));
  return { dir, model, data, bytes };
}

// ---------------------------------------------------------------------------------------------
// Measuring one child process (as bench/run.js)

/** Runs `cmd args`; resolves { wall_s, peak_rss_mb, code, stdout, stderr }. */

/** Flushes dirty pages, outside the timed region, so no command pays for another one's writes. */
function syncDisks() {
  spawnSync('sync');
}

function freeDiskBytes(path) {
  const s = statfsSync(path);
  return s.bavail * s.bsize;
}

// ---------------------------------------------------------------------------------------------
// The commands

/**
 * The hook for the whole `package` command: how to run it on the bench model, writing under `out`.
 * Measured with --full; until the command exists (or when its flags change), adjust here.
 */
function fullPackageCommand(node, cli, model, out) {
  return {
    cmd: node,
    args: [
      cli,
      'package',
      '--model',
      model.model,
      '--name',
      'bench-model',
      '--version',
      '1.0.0',
      '--out',
      out,
    ],
  };
}

/**
 * zip.ts bundled by esbuild, as dist/ ships it: running the .ts source through Node's type
 * stripping costs ~28 MB of RSS that the CLI and the actions do not pay. The source as fallback.
 */
async function bundleZipModule(work) {
  const source = join(root, 'src', 'core', 'zip', 'zip.ts');
  try {
    const esbuild = await import('esbuild');
    const outfile = join(work, 'zip.mjs');
    await esbuild.build({
      entryPoints: [source],
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node24',
      outfile,
      logLevel: 'warning',
    });
    return { module: outfile, how: 'zip.ts bundled by esbuild' };
  } catch (error) {
    console.error(`esbuild unavailable (${error.message}): children run src/core/zip/zip.ts directly`);
    return { module: source, how: 'zip.ts through type stripping' };
  }
}

function commands(node, model, work, args, zipModule) {
  const list = [
    {
      key: 'openssl',
      label: '`openssl dgst -sha256` of the data file',
      cmd: 'openssl',
      args: ['dgst', '-sha256', model.data],
      parse: (stdout) => ({ sha256: /=\s*([0-9a-f]{64})/.exec(stdout)?.[1] }),
    },
    {
      key: 'sha256',
      label: 'our SHA-256 of the data file (node crypto, 1 MiB reads)',
      cmd: node,
      args: [fileURLToPath(import.meta.url), '--child', 'sha256', model.data],
      parse: (stdout) => JSON.parse(stdout),
    },
    {
      key: 'zip',
      label: '`zip -0 -X` of model.onnx + model.onnx.data',
      cmd: 'zip',
      args: ['-0', '-X', '-q', join(work, 'zip.zip'), 'model.onnx', 'model.onnx.data'],
      cwd: model.dir,
      before: () => rmSync(join(work, 'zip.zip'), { force: true }),
      parse: () => ({}),
    },
    {
      key: 'write',
      label: '`writeZip`: CRC-32 + SHA-256 of each entry + SHA-256 of the archive',
      cmd: node,
      args: [
        fileURLToPath(import.meta.url),
        '--child',
        'write',
        zipModule,
        join(work, 'ours.zip'),
        model.model,
        model.data,
      ],
      before: () => rmSync(join(work, 'ours.zip'), { force: true }),
      parse: (stdout) => JSON.parse(stdout),
    },
  ];
  if (args.full) {
    const out = join(work, 'package');
    const { cmd, args: argv } = fullPackageCommand(node, args.cli, model, out);
    list.push({
      key: 'package',
      label: '`mlops package` (manifest, card, archive, provenance)',
      cmd,
      args: argv,
      before: () => rmSync(out, { recursive: true, force: true }),
      parse: () => ({}),
    });
  }
  return list;
}

// ---------------------------------------------------------------------------------------------

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const node = nodeBinary();
  if (args.poll) peakRss.gnuTime = false;
  if (args.full && !existsSync(args.cli)) {
    throw new Error(`--full: ${relative(root, args.cli)} is missing; run \`npm run build\` first.`);
  }

  const bytes = Math.round((args.sizeGib * GIB) / 4) * 4;
  const haveData = existsSync(join(dataDir, `package-${args.sizeGib}g`, 'model.onnx.data'));
  // The data file (unless it exists), our archive, zip's archive, the package (with --full), 1 GiB spare.
  const needed = (haveData ? 0 : bytes) + 2 * bytes + (args.full ? 2 * bytes : 0) + GIB;
  if (freeDiskBytes(root) < needed) {
    throw new Error(
      `not enough free disk under ${root}: need ${(needed / GIB).toFixed(1)} GiB, have ${(freeDiskBytes(root) / GIB).toFixed(1)} GiB`,
    );
  }
  const model = ensureModel(args.sizeGib);
  const work = join(dataDir, `package-work-${process.pid}`);
  mkdirSync(work, { recursive: true });
  const machine = machineInfo(node);
  console.error(
    `machine: ${machine.nproc} cores, ${machine.cpu}, ${machine.memory_gib} GiB; ${machine.node}; ${machine.zip}; ${machine.openssl}`,
  );
  console.error(`model: ${(model.bytes / GIB).toFixed(2)} GiB external data; ${args.runs} runs, interleaved`);

  const bundled = await bundleZipModule(work);
  machine.writer = bundled.how;
  const list = commands(node, model, work, args, bundled.module);
  const results = Object.fromEntries(
    list.map((c) => [c.key, { label: c.label, runs: [], peaks: [], digests: [] }]),
  );
  try {
    // Warm the page cache: every command then reads the data from memory, as in CI after a checkout.
    spawnSync('cat', [model.data], { stdio: ['ignore', 'ignore', 'inherit'] });
    for (let run = 1; run <= args.runs; run++) {
      for (const command of list) {
        command.before?.();
        syncDisks();
        const m = await measure(command.cmd, command.args, { cwd: command.cwd ?? root });
        const entry = results[command.key];
        if (m.code !== 0) {
          entry.error = `exit ${m.code}: ${m.stderr.trim().split('\n').slice(-5).join(' | ')}`;
          console.error(`  ${command.key} run ${run}: FAILED ${entry.error}`);
          continue;
        }
        entry.runs.push(m.wall_s);
        entry.peaks.push(m.peak_rss_mb);
        entry.output = command.parse(m.stdout);
        if (entry.output.sha256) entry.digests.push(entry.output.sha256);
        console.error(`  ${command.key} run ${run}: ${m.wall_s.toFixed(2)} s, ${m.peak_rss_mb} MB`);
      }
    }
    for (const entry of Object.values(results)) {
      entry.best_s = entry.runs.length ? Math.min(...entry.runs) : null;
      entry.peak_rss_mb = entry.peaks.length ? Math.max(...entry.peaks) : null;
    }
    const checks = args.verify ? await verifyArchive(node, work, model, results, bundled.module) : null;
    const report = { machine, size_bytes: model.bytes, runs: args.runs, results, checks };
    report.targets = evaluate(report);
    print(report);
    if (args.json) writeFileSync(args.json, `${JSON.stringify(report, null, 2)}\n`);
    if (Object.values(results).some((r) => r.error) || (checks && !checks.ok)) process.exitCode = 1;
  } finally {
    rmSync(work, { recursive: true, force: true });
    if (args.removeData) rmSync(model.dir, { recursive: true, force: true });
  }
}

/** Reads our last archive back: `unzip -tqq`, and our reader hashing every entry. */
async function verifyArchive(node, work, model, results, zipModule) {
  const archive = join(work, 'ours.zip');
  const written = results.write.output;
  if (!written || !existsSync(archive)) return { ok: false, problems: ['no archive to verify'] };
  const problems = [];
  const archiveSize = statSync(archive).size;
  syncDisks();
  const unzip = await measure('unzip', ['-tqq', archive]);
  if (unzip.code !== 0) problems.push(`unzip -t failed: ${unzip.stdout}${unzip.stderr}`);
  syncDisks();
  const reader = await measure(node, [
    fileURLToPath(import.meta.url),
    '--child',
    'verify',
    zipModule,
    archive,
  ]);
  let entries = [];
  if (reader.code !== 0) problems.push(`our reader failed: ${reader.stderr.trim()}`);
  else entries = JSON.parse(reader.stdout);
  for (const w of written.entries) {
    const r = entries.find((e) => e.name === w.name);
    if (!r || r.sha256 !== w.sha256 || r.size !== w.size) problems.push(`${w.name}: read back differently`);
  }
  // Every run wrote the same bytes.
  if (new Set(results.write.digests).size !== 1)
    problems.push('writeZip gave different archives across runs');
  const data = written.entries.find((e) => e.name === 'model.onnx.data');
  const openssl = results.openssl.output?.sha256;
  if (openssl && data?.sha256 !== openssl) problems.push('model.onnx.data: writeZip sha256 != openssl');
  if (results.sha256.output?.sha256 && results.sha256.output.sha256 !== openssl) {
    problems.push('node sha256 != openssl');
  }
  // An entry or archive over 4 GiB must have gone through ZIP64: the reader saw the real sizes.
  const zip64Needed = model.bytes >= 0xffffffff || archiveSize >= 0xffffffff;
  return {
    ok: problems.length === 0,
    problems,
    archive_bytes: archiveSize,
    zip64_needed: zip64Needed,
    archive_sha256: written.sha256,
    identical_runs: results.write.digests.length,
    unzip_t: { wall_s: unzip.wall_s, peak_rss_mb: unzip.peak_rss_mb, ok: unzip.code === 0 },
    our_reader: { wall_s: reader.wall_s, peak_rss_mb: reader.peak_rss_mb, ok: reader.code === 0 },
  };
}

function evaluate(report) {
  const { results, size_bytes: bytes } = report;
  const targets = [];
  const opensslRate = results.openssl.best_s ? bytes / results.openssl.best_s : null;
  const oursRate = results.sha256.best_s ? bytes / results.sha256.best_s : null;
  if (opensslRate && oursRate) {
    const share = oursRate / opensslRate;
    targets.push({
      target: `hashing >= ${TARGETS.hashShareOfOpenssl * 100} % of openssl's throughput`,
      measured: `${(oursRate / 1e9).toFixed(2)} GB/s vs ${(opensslRate / 1e9).toFixed(2)} GB/s: ${(share * 100).toFixed(0)} %`,
      met: share >= TARGETS.hashShareOfOpenssl,
    });
  }
  // The whole command when it was measured and ran, else the archive writer alone.
  const full = results.package?.best_s != null;
  const packaged = full ? results.package.best_s : results.write.best_s;
  if (packaged && results.zip.best_s) {
    const speedup = results.zip.best_s / packaged;
    targets.push({
      target: `package >= ${TARGETS.speedupOverZip}x faster than zip -0`,
      measured: `${full ? '`mlops package`' : 'writeZip'} ${packaged.toFixed(2)} s vs zip -0 ${results.zip.best_s.toFixed(2)} s: ${speedup.toFixed(2)}x`,
      met: speedup >= TARGETS.speedupOverZip,
    });
  }
  const peak = Math.max(results.write.peak_rss_mb ?? 0, results.package?.peak_rss_mb ?? 0);
  if (peak) {
    targets.push({
      target: `peak RSS <= ${TARGETS.peakRssMb} MB`,
      measured: `${peak} MB (${(bytes / GIB).toFixed(2)} GiB model)`,
      met: peak <= TARGETS.peakRssMb,
    });
  }
  if (report.checks) {
    targets.push({
      target: 'the archive reads back (unzip -t, our reader, digests)',
      measured: report.checks.ok
        ? `ok: ${(report.checks.archive_bytes / GIB).toFixed(2)} GiB archive${report.checks.zip64_needed ? ' (ZIP64)' : ''}, the same bytes in all ${report.checks.identical_runs} runs`
        : report.checks.problems.join('; '),
      met: report.checks.ok,
    });
  }
  return targets;
}

function print(report) {
  const gb = report.size_bytes / 1e9;
  console.log(`\nPackaging a ${(report.size_bytes / GIB).toFixed(2)} GiB model (best of ${report.runs})\n`);
  console.log('| command | wall, best (s) | runs (s) | GB/s | peak RSS (MB) |');
  console.log('| --- | --- | --- | --- | --- |');
  for (const r of Object.values(report.results)) {
    const best = r.best_s === null ? (r.error ?? 'failed') : r.best_s.toFixed(2);
    const rate = r.best_s ? (gb / r.best_s).toFixed(2) : '';
    console.log(
      `| ${r.label} | ${best} | ${r.runs.map((x) => x.toFixed(2)).join(' ')} | ${rate} | ${r.peak_rss_mb ?? ''} |`,
    );
  }
  if (report.checks) {
    const c = report.checks;
    console.log(
      `| \`unzip -tqq\` of our archive | ${c.unzip_t.wall_s.toFixed(2)} | | ${(gb / c.unzip_t.wall_s).toFixed(2)} | ${c.unzip_t.peak_rss_mb} |`,
    );
    console.log(
      `| our reader: list + stream + SHA-256 of every entry | ${c.our_reader.wall_s.toFixed(2)} | | ${(gb / c.our_reader.wall_s).toFixed(2)} | ${c.our_reader.peak_rss_mb} |`,
    );
  }
  console.log('\n| target | measured | |');
  console.log('| --- | --- | --- |');
  for (const t of report.targets)
    console.log(`| ${t.target} | ${t.measured} | ${t.met ? 'met' : '**missed**'} |`);
  const m = report.machine;
  console.log(
    `\n${m.date}: ${m.nproc} cores (${m.cpu}), ${m.memory_gib} GiB (${m.available_memory_gib} GiB available at the start); ${m.node}; ${m.zip}; ${m.openssl}; ${m.writer}; peak RSS from ${m.peak_rss_from}; ${m.git ?? ''}`,
  );
}

function machineInfo(node) {
  let cpu = cpus()[0]?.model ?? 'unknown';
  try {
    const m = /model name\s*:\s*(.+)/.exec(readFileSync('/proc/cpuinfo', 'utf8'));
    if (m) cpu = m[1].trim();
  } catch {}
  const first = (cmd, argv) =>
    (spawnSync(cmd, argv, { encoding: 'utf8' }).stdout ?? '').trim().split('\n')[0];
  const head = spawnSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: root, encoding: 'utf8' });
  const dirty = spawnSync('git', ['status', '--porcelain', '--', 'src'], { cwd: root, encoding: 'utf8' });
  return {
    date: new Date().toISOString(),
    nproc: Number(first('nproc', [])) || cpus().length,
    cpu,
    memory_gib: round(totalmem() / GIB, 1),
    // Writing into free pages is cheap; when the page cache has filled memory, every new page of
    // an archive costs a reclaim first (sys time x6 on the test VM), for zip and for us alike.
    available_memory_gib: round(freemem() / GIB, 1),
    node: `Node ${first(node, ['--version'])}`,
    zip: (/Zip \d[\d.]*/.exec(
      first('zip', ['-v']) + spawnSync('zip', ['-v'], { encoding: 'utf8' }).stdout,
    ) ?? ['zip ?'])[0],
    openssl: first('openssl', ['version']),
    peak_rss_from: peakRss.gnuTime
      ? '/usr/bin/time -f %M (ru_maxrss)'
      : '/proc/<pid>/status VmHWM polled every 10 ms',
    git:
      head.status === 0
        ? `${head.stdout.trim()}${dirty.stdout.trim() ? ' + uncommitted changes in src/' : ''}`
        : null,
  };
}

await main();

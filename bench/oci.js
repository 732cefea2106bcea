#!/usr/bin/env node
// Pushing a package to an OCI registry (issue #15, section Speed). See bench/README.md ("OCI push").
//
//   npm run bench:oci                       # a 2 GiB package, 3 interleaved runs
//   npm run bench:oci -- --size-gib 0.5     # a smaller one
//
// The model is the one bench/package.js makes: a small ONNX graph (Gather over one float32
// initializer) whose initializer is 2 GiB of external data (deterministic, incompressible bytes),
// generated once under bench/data/ (git-ignored) and packaged once with `mlops package`.
//
// Each run starts Debian's docker-registry (distribution 2.8) on loopback with empty storage, runs
// one command, and stops it; the commands alternate (A B A B …), `sync` before each, the page cache
// warm (both read the same inodes: the OCI layout's blobs are hard links to the package's files):
//
//   skopeo   skopeo copy oci:<layout>:1 docker://127.0.0.1:<port>/bench/model:1   (the same blobs,
//            laid out as an OCI layout by skopeo from a first push, --preserve-digests)
//   mlops    node dist/cli/index.js oci push --package <folder> --to 127.0.0.1:<port>/bench/model:1
//            --plain-http (the ModelPack artifact with the provenance referrer; no modelcar)
//
// then, once, the same mlops push again to the registry that has everything: the blobs it sends
// are counted on the registry's side (its access log: POST/PUT/PATCH on /blobs/uploads/) and by
// the client (`stats.blobsUploaded`). Both must be 0.
//
// Target: mlops' push speed >= 0.8x skopeo's (best run of each); the re-push sends no blob.
// Flags: --size-gib N (default 2), --runs N (default 3), --cli FILE (default dist/cli/index.js),
// --json FILE (write the results there), --remove-data (delete the generated data afterwards).

import { spawnSync } from 'node:child_process';
import { createCipheriv } from 'node:crypto';
import {
  closeSync,
  existsSync,
  linkSync,
  mkdirSync,
  openSync,
  readFileSync,
  realpathSync,
  renameSync,
  rmSync,
  statfsSync,
  statSync,
  unlinkSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { cpus, freemem, totalmem } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { measure, peakRss, round } from './measure.js';
import { encodeModel } from './onnx-model.js';

const benchDir = dirname(fileURLToPath(import.meta.url));
const root = join(benchDir, '..');
const dataDir = join(benchDir, 'data');
const GIB = 2 ** 30;
const CHUNK = 1 << 20;
const TARGET = { speedShareOfSkopeo: 0.8, repushBlobs: 0 };

function parseArgs(argv) {
  const args = {
    sizeGib: 2,
    runs: 3,
    cli: join(root, 'dist', 'cli', 'index.js'),
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
    } else if (a === '--cli') args.cli = value();
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

function nodeBinary() {
  if (Number(process.versions.node.split('.')[0]) >= 24) return process.execPath;
  const local = join(root, 'node_modules', '.bin', 'node');
  if (existsSync(local)) return realpathSync(local);
  throw new Error(
    `Node ${process.versions.node}: run \`npm run bench:oci\` (Node 24 from the dev dependency).`,
  );
}

// ---------------------------------------------------------------------------------------------
// The model (as bench/package.js makes it) and its package

/** Makes (once) bench/data/oci-<size>g/model/{model.onnx, model.onnx.data} and the package of it. */
function ensurePackage(node, cli, sizeGib) {
  const bytes = Math.round((sizeGib * GIB) / 4) * 4;
  const dir = join(dataDir, `oci-${sizeGib}g`);
  const modelDir = join(dir, 'model');
  const model = join(modelDir, 'model.onnx');
  const data = join(modelDir, 'model.onnx.data');
  mkdirSync(modelDir, { recursive: true });
  if (!existsSync(data) || statSync(data).size !== bytes) {
    process.stderr.write(`generating ${relative(root, data)} (${(bytes / GIB).toFixed(2)} GiB) ...\n`);
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
  }
  writeFileSync(model, encodeModel(bytes / 4, 'model.onnx.data', 'mlops-actions bench/oci.js'));
  const out = join(dir, 'package');
  const folder = join(out, 'bench-1.0.0');
  if (!existsSync(join(folder, 'manifest.json'))) {
    process.stderr.write(`packaging ${relative(root, model)} with mlops package ...\n`);
    const run = spawnSync(
      node,
      [cli, 'package', '--model', model, '--name', 'bench', '--version', '1.0.0', '--out', out],
      { encoding: 'utf8', env: { ...process.env, SOURCE_DATE_EPOCH: '1767225600' } },
    );
    if (run.status !== 0) throw new Error(`mlops package failed: ${run.stderr}`);
    // The archive is not pushed here (the folder is): its 2 GiB are not needed.
    rmSync(join(out, 'bench-1.0.0.zip'), { force: true });
  }
  return { dir, folder, bytes };
}

// ---------------------------------------------------------------------------------------------
// The registry

/** Starts Debian's docker-registry with empty storage under `dir` (access log on). */
async function startRegistry(dir) {
  const { startRegistry: start } = await import('../test/harness/oci-registry.ts');
  return start({ accessLog: true, storage: join(dir, `storage-${Date.now()}`) });
}

/** Blob uploads in a registry's access log: POST/PUT/PATCH on …/blobs/uploads/. */
function countUploads(log) {
  return log.split('\n').filter((line) => /"(POST|PUT|PATCH) \/v2\/[^"]*\/blobs\/uploads\//.test(line))
    .length;
}

/** The same blobs as an OCI layout: copied from a registry by skopeo, the blobs then hard-linked to the package's files. */
async function ensureLayout(node, cli, pkg, work) {
  const layout = join(work, 'layout');
  const registry = await startRegistry(work);
  try {
    const push = spawnSync(
      node,
      [
        cli,
        'oci',
        'push',
        '--package',
        pkg.folder,
        '--to',
        `${registry.host}/bench/model:1`,
        '--plain-http',
        '--json',
      ],
      { encoding: 'utf8', maxBuffer: 1 << 26 },
    );
    if (push.status !== 0) throw new Error(`mlops oci push failed: ${push.stderr}`);
    const copy = spawnSync(
      'skopeo',
      [
        'copy',
        '--quiet',
        '--preserve-digests',
        '--src-tls-verify=false',
        `docker://${registry.host}/bench/model:1`,
        `oci:${layout}:1`,
      ],
      { encoding: 'utf8' },
    );
    if (copy.status !== 0) throw new Error(`skopeo copy to the layout failed: ${copy.stderr}`);
  } finally {
    await registry.stop();
  }
  // Hard links: both commands read the same inodes (the same pages of the page cache).
  const manifest = JSON.parse(readFileSync(join(pkg.folder, 'manifest.json'), 'utf8'));
  for (const file of manifest.files) {
    const blob = join(layout, 'blobs', 'sha256', file.sha256);
    if (existsSync(blob)) {
      unlinkSync(blob);
      linkSync(join(pkg.folder, ...file.path.split('/')), blob);
    }
  }
  return layout;
}

// ---------------------------------------------------------------------------------------------

function machineInfo(node) {
  let cpu = cpus()[0]?.model ?? 'unknown';
  try {
    const m = /model name\s*:\s*(.+)/.exec(readFileSync('/proc/cpuinfo', 'utf8'));
    if (m) cpu = m[1].trim();
  } catch {}
  const first = (cmd, argv) =>
    (spawnSync(cmd, argv, { encoding: 'utf8' }).stdout ?? '').trim().split('\n')[0];
  const head = spawnSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: root, encoding: 'utf8' });
  const dirty = spawnSync('git', ['status', '--porcelain', '--', 'src/core/oci'], {
    cwd: root,
    encoding: 'utf8',
  });
  const registry = spawnSync('docker-registry', ['--version'], { encoding: 'utf8' });
  return {
    date: new Date().toISOString(),
    nproc: Number(first('nproc', [])) || cpus().length,
    cpu,
    memory_gib: round(totalmem() / GIB, 1),
    available_memory_gib: round(freemem() / GIB, 1),
    node: `Node ${first(node, ['--version'])}`,
    skopeo: first('skopeo', ['--version']),
    registry: (registry.stdout || registry.stderr).trim().split('\n')[0],
    peak_rss_from: peakRss.gnuTime
      ? '/usr/bin/time -f %M (ru_maxrss)'
      : '/proc/<pid>/status VmHWM polled every 10 ms',
    git:
      head.status === 0
        ? `${head.stdout.trim()}${dirty.stdout.trim() ? ' + uncommitted changes in src/core/oci/' : ''}`
        : null,
  };
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const node = nodeBinary();
  if (!existsSync(args.cli))
    throw new Error(`${relative(root, args.cli)} is missing: run \`npm run build\` first.`);
  for (const tool of ['docker-registry', 'skopeo']) {
    if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0) {
      throw new Error(`${tool} is missing: apt-get install docker-registry skopeo (see .ci/run).`);
    }
  }
  const bytes = Math.round((args.sizeGib * GIB) / 4) * 4;
  // Data and package (unless made), and two registries' storage at once.
  const { bavail, bsize } = statfsSync(root);
  if (bavail * bsize < 5 * bytes) {
    throw new Error(`not enough free disk under ${root}: need ${((5 * bytes) / GIB).toFixed(1)} GiB`);
  }
  const pkg = ensurePackage(node, args.cli, args.sizeGib);
  const work = join(dataDir, `oci-work-${process.pid}`);
  mkdirSync(work, { recursive: true });
  const machine = machineInfo(node);
  console.error(
    `machine: ${machine.nproc} cores, ${machine.cpu}, ${machine.memory_gib} GiB; ${machine.node}; ${machine.skopeo}; ${machine.registry}`,
  );
  console.error(
    `package: ${relative(root, pkg.folder)}, ${(pkg.bytes / GIB).toFixed(2)} GiB of external data; ${args.runs} runs, interleaved`,
  );
  const results = {
    skopeo: { label: 'skopeo copy oci:<layout> docker://… (the same blobs)', runs: [], peaks: [] },
    mlops: { label: 'mlops oci push --package <folder> --plain-http', runs: [], peaks: [] },
  };
  let repush;
  try {
    const layout = await ensureLayout(node, args.cli, pkg, work);
    // Warm the page cache: both commands then read the data from memory.
    spawnSync('cat', [join(pkg.folder, 'model.onnx.data')], { stdio: ['ignore', 'ignore', 'inherit'] });
    for (let run = 1; run <= args.runs; run++) {
      for (const key of ['skopeo', 'mlops']) {
        const registry = await startRegistry(work);
        try {
          const to = `${registry.host}/bench/model:1`;
          const command =
            key === 'skopeo'
              ? [
                  'skopeo',
                  ['copy', '--quiet', '--dest-tls-verify=false', `oci:${layout}:1`, `docker://${to}`],
                ]
              : [
                  node,
                  [args.cli, 'oci', 'push', '--package', pkg.folder, '--to', to, '--plain-http', '--json'],
                ];
          spawnSync('sync');
          const m = await measure(command[0], command[1], { cwd: root });
          const entry = results[key];
          if (m.code !== 0) {
            entry.error = `exit ${m.code}: ${m.stderr.trim().split('\n').slice(-5).join(' | ')}`;
            console.error(`  ${key} run ${run}: FAILED ${entry.error}`);
            continue;
          }
          entry.runs.push(m.wall_s);
          entry.peaks.push(m.peak_rss_mb);
          console.error(`  ${key} run ${run}: ${m.wall_s.toFixed(2)} s, ${m.peak_rss_mb} MB`);
          if (key === 'mlops' && run === args.runs) {
            // The re-push, to the registry that has everything now.
            const before = countUploads(registry.output());
            const again = await measure(command[0], command[1], { cwd: root });
            const stats = again.code === 0 ? JSON.parse(again.stdout).stats : null;
            repush = {
              wall_s: round(again.wall_s, 3),
              registry_uploads: countUploads(registry.output()) - before,
              client_blobs_uploaded: stats?.blobsUploaded ?? null,
              client_manifests_put: stats?.manifestsPut ?? null,
              first_push_registry_uploads: before,
            };
            console.error(
              `  mlops re-push: ${again.wall_s.toFixed(2)} s, ${repush.registry_uploads} uploads seen by the registry`,
            );
          }
        } finally {
          await registry.stop();
        }
      }
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
    if (args.removeData) rmSync(pkg.dir, { recursive: true, force: true });
  }
  for (const entry of Object.values(results)) {
    entry.best_s = entry.runs.length ? round(Math.min(...entry.runs), 3) : null;
    entry.runs = entry.runs.map((s) => round(s, 3));
    entry.mib_per_s = entry.best_s ? round(pkg.bytes / 2 ** 20 / entry.best_s, 1) : null;
    entry.peak_rss_mb = entry.peaks.length ? Math.max(...entry.peaks) : null;
    delete entry.peaks;
  }
  const share =
    results.skopeo.best_s && results.mlops.best_s
      ? round(results.skopeo.best_s / results.mlops.best_s, 3)
      : null;
  const report = {
    machine,
    size_bytes: pkg.bytes,
    runs: args.runs,
    results,
    repush,
    targets: {
      speed_share_of_skopeo: {
        target: TARGET.speedShareOfSkopeo,
        value: share,
        met: share !== null && share >= TARGET.speedShareOfSkopeo,
      },
      repush_sends_no_blob: {
        target: TARGET.repushBlobs,
        value: repush ? Math.max(repush.registry_uploads, repush.client_blobs_uploaded ?? 0) : null,
        met: repush !== undefined && repush.registry_uploads === 0 && repush.client_blobs_uploaded === 0,
      },
    },
  };
  console.log(
    [
      '',
      `OCI push of ${(pkg.bytes / GIB).toFixed(2)} GiB, best of ${args.runs} (interleaved):`,
      ...Object.values(results).map(
        (r) =>
          `  ${r.label.padEnd(58)} ${r.best_s ?? '—'} s  ${r.mib_per_s ?? '—'} MiB/s  peak ${r.peak_rss_mb ?? '—'} MB${r.error ? `  ${r.error}` : ''}`,
      ),
      `  speed of mlops / skopeo: ${share ?? '—'} (target >= ${TARGET.speedShareOfSkopeo}) ${report.targets.speed_share_of_skopeo.met ? 'met' : 'NOT MET'}`,
      `  re-push: ${repush ? `${repush.registry_uploads} uploads seen by the registry, ${repush.client_blobs_uploaded} blobs sent by the client, ${repush.wall_s} s` : '—'} ${report.targets.repush_sends_no_blob.met ? 'met' : 'NOT MET'}`,
      '',
    ].join('\n'),
  );
  if (args.json) writeFileSync(args.json, `${JSON.stringify(report, null, 2)}\n`);
  if (!report.targets.speed_share_of_skopeo.met || !report.targets.repush_sends_no_blob.met)
    process.exitCode = 1;
}

await main();

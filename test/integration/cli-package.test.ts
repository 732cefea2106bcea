/**
 * The npm packages of the `mlops` CLI as a user installs them: scripts/pack.js packs dist/ (built by the
 * suite's global setup) into the main tarball and this platform's tarball, npm installs both into an
 * empty folder from a registry stand-in that answers 404 to everything and records what it was asked
 * (with proxies that lead nowhere, so nothing else is reachable either), and the installed `mlops` runs
 * there on Node 24 and on the system's Node 20. Also: an older Node gets the version it needs (exit 2),
 * and a missing platform package is named (exit 2).
 */
import { execFile, execFileSync } from 'node:child_process';
import {
  cpSync,
  existsSync,
  readdirSync,
  readFileSync,
  realpathSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { delimiter, dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot } from '../harness/run-action.ts';
import { temporaryFolderSync } from '../helpers/temp.ts';

const models = join(repoRoot, 'test/fixtures/models');
const example = join(repoRoot, 'templates/example');
const { version } = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { version: string };
const platform = `${process.platform}-${process.arch}`;
const platformPackage = `@mlops-actions/cli-${platform}`;

/** The Node 20 of Linux distributions (Debian's here), next to the suite's Node 24. */
const systemNode = '/usr/bin/node';
const nodes = [
  { label: 'Node 24 (the suite’s)', path: process.execPath },
  { label: 'Node 20 (the system’s)', path: systemNode },
];

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function run(file: string, args: string[], options: { cwd: string; env: NodeJS.ProcessEnv }): Promise<Run> {
  return new Promise((resolve) => {
    execFile(file, args, { ...options, maxBuffer: 64 << 20, timeout: 120_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

let work: string;
let app: string;
let tarballs: { main: string; platform: string };
let registry: Server;
const asked: string[] = [];
let install: Run;
let installMs: number;

/** An environment with only what is needed: `node` of the given path first on PATH, no npm settings. */
function envWith(node: string): NodeJS.ProcessEnv {
  return {
    PATH: [dirname(node), dirname(process.execPath), '/usr/local/bin', '/usr/bin', '/bin'].join(delimiter),
    HOME: join(work, 'home'),
    // Any request that is not for the registry stand-in goes to a port where nothing listens.
    HTTP_PROXY: 'http://127.0.0.1:9',
    HTTPS_PROXY: 'http://127.0.0.1:9',
    NO_PROXY: '127.0.0.1',
  };
}

beforeAll(async () => {
  work = temporaryFolderSync('mlops-cli-package-');
  const out = join(work, 'tarballs');
  const packed = await run(
    process.execPath,
    [join(repoRoot, 'scripts/pack.js'), '--no-build', '--out', out],
    {
      cwd: repoRoot,
      env: { ...process.env },
    },
  );
  if (packed.code !== 0) throw new Error(`scripts/pack.js failed:\n${packed.stdout}${packed.stderr}`);
  tarballs = {
    main: join(out, `mlops-actions-${version}.tgz`),
    platform: join(out, `mlops-actions-cli-${platform}-${version}.tgz`),
  };

  registry = createServer((request, response) => {
    asked.push(`${request.method} ${decodeURIComponent(request.url ?? '')}`);
    response.writeHead(404, { 'content-type': 'application/json' });
    response.end('{"error":"not found"}');
  });
  await new Promise<void>((resolve) => registry.listen(0, '127.0.0.1', resolve));
  const registryUrl = `http://127.0.0.1:${(registry.address() as AddressInfo).port}/`;

  app = join(work, 'app');
  const started = performance.now();
  install = await run(
    'npm',
    [
      'install',
      tarballs.main,
      tarballs.platform,
      '--prefix',
      app,
      '--registry',
      registryUrl,
      '--cache',
      join(work, 'npm-cache'),
      '--ignore-scripts=false',
      '--fetch-retries=0',
      '--no-audit',
      '--no-fund',
      '--no-update-notifier',
    ],
    { cwd: work, env: envWith(process.execPath) },
  );
  installMs = performance.now() - started;
}, 120_000);

afterAll(async () => {
  await new Promise((resolve) => registry?.close(resolve));
});

function folderBytes(dir: string): number {
  let total = 0;
  for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (entry.isFile()) total += statSync(join(entry.parentPath, entry.name)).size;
  }
  return total;
}

/** The files in an npm tarball (gzip'd tar), listed by the system's tar. */
function tarballListing(tarball: string): string[] {
  return execFileSync('tar', ['tzf', tarball], { encoding: 'utf8' }).trim().split('\n');
}

describe('npm install of the packed tarballs', () => {
  it('installs into an empty folder with nothing from any registry and no install script', () => {
    expect(install.code, install.stdout + install.stderr).toBe(0);
    const modules = join(app, 'node_modules');
    // Everything is bundled: the two packages and nothing else.
    const top = readdirSync(modules).filter((name) => !name.startsWith('.'));
    expect(top.sort()).toEqual(['@mlops-actions', 'mlops-actions']);
    expect(readdirSync(join(modules, '@mlops-actions'))).toEqual([`cli-${platform}`]);
    for (const dir of [join(modules, 'mlops-actions'), join(modules, platformPackage)]) {
      const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
      expect(manifest.dependencies ?? {}).toEqual({});
      for (const hook of ['preinstall', 'install', 'postinstall', 'prepare']) {
        expect(manifest.scripts?.[hook], `${manifest.name} ${hook}`).toBeUndefined();
      }
    }
    // The registry was asked only for the other platforms' packages (optional, skipped when absent),
    // and no tarball was downloaded from it.
    const others = asked.filter((line) => !/^GET \/@mlops-actions\/cli-[a-z0-9]+-[a-z0-9]+$/.test(line));
    expect(others).toEqual([]);
    expect(asked).not.toContain(`GET /${platformPackage}`);
    const bytes = folderBytes(modules);
    console.log(
      `cli-package: installed ${(bytes / 1024 / 1024).toFixed(1)} MiB in ${Math.round(installMs)} ms; ` +
        `tarballs ${(statSync(tarballs.main).size / 1024 / 1024).toFixed(1)} + ` +
        `${(statSync(tarballs.platform).size / 1024 / 1024).toFixed(1)} MiB`,
    );
    expect(bytes).toBeLessThan(300 * 1024 * 1024);
  });

  it('publishes what a user needs: bin, files, engines, provenance, licence, repository, platforms', () => {
    const main = JSON.parse(readFileSync(join(app, 'node_modules/mlops-actions/package.json'), 'utf8'));
    expect(main).toMatchObject({
      name: 'mlops-actions',
      version,
      type: 'module',
      bin: { mlops: 'dist/cli/mlops.cjs' },
      license: 'MIT',
      engines: { node: expect.stringMatching(/^\^20\./) },
      publishConfig: { access: 'public', provenance: true },
      repository: { type: 'git', url: expect.stringMatching(/^git\+https:\/\/github\.com\//) },
    });
    expect(main.private).toBeUndefined();
    expect(main.optionalDependencies).toMatchObject({ [platformPackage]: version });
    for (const name of Object.keys(main.optionalDependencies)) expect(name).toMatch(/^@mlops-actions\/cli-/);
    const files = tarballListing(tarballs.main);
    expect(files).toContain('package/dist/cli/mlops.cjs');
    expect(files).toContain('package/LICENSE');
    expect(files).toContain('package/templates/workflows/ci.yml');
    expect(files.filter((file) => file.endsWith('.map') || file.includes('node_modules'))).toEqual([]);

    const native = JSON.parse(
      readFileSync(join(app, 'node_modules', platformPackage, 'package.json'), 'utf8'),
    );
    expect(native).toMatchObject({
      name: platformPackage,
      version,
      os: [process.platform],
      cpu: [process.arch],
      publishConfig: { access: 'public', provenance: true },
    });
    // This platform's native files only.
    const binaries = tarballListing(tarballs.platform).filter((file) => file.startsWith('package/bin/'));
    expect(binaries.length).toBeGreaterThan(0);
    for (const file of binaries)
      expect(file.startsWith(`package/bin/napi-v6/${process.platform}/${process.arch}/`)).toBe(true);
  });

  describe.each(nodes)('on $label', ({ path: node }) => {
    it('npx mlops --help', async () => {
      expect(existsSync(node), `${node} is missing`).toBe(true);
      // The bin's `#!/usr/bin/env node` runs the first node on PATH: this one.
      const onPath = execFileSync('node', ['-p', 'process.execPath'], {
        env: envWith(node),
        encoding: 'utf8',
      });
      expect(realpathSync(onPath.trim())).toBe(realpathSync(node));
      const result = await run('npx', ['--no-install', 'mlops', '--help'], { cwd: app, env: envWith(node) });
      expect(result.code, result.stderr).toBe(0);
      expect(result.stdout).toMatch(/^mlops \d+\.\d+\.\d+: /);
      expect(result.stdout).toMatch(/validate-model/);
    });

    it('mlops validate-model evaluates a fixture model with the platform package', async () => {
      const result = await run(
        'npx',
        [
          '--no-install',
          'mlops',
          'validate-model',
          '--model',
          join(models, 'sklearn-multiclass-zipmap.onnx'),
          '--data',
          join(models, 'iris-test.csv'),
          '--target',
          'class',
          '--gate',
          'accuracy >= 0.9',
          '--min-rows',
          '40',
          '--json',
        ],
        { cwd: app, env: envWith(node) },
      );
      expect(result.code, result.stderr).toBe(0);
      expect(JSON.parse(result.stdout)).toMatchObject({
        kind: 'model-validation',
        passed: true,
        task: 'multiclass',
      });
    });

    it('every lazily loaded chunk of the CLI links (no built-in export this Node lacks)', async () => {
      // Starting the CLI links its entry's imports; chunks loaded on demand are linked here, each.
      const chunks = join(app, 'node_modules/mlops-actions/dist/cli/chunks');
      const script =
        `for (const f of ${JSON.stringify(readdirSync(chunks).map((f) => join(chunks, f)))}) ` +
        `await import(require('node:url').pathToFileURL(f).href);`;
      const result = await run(
        node,
        ['--input-type=commonjs', '-e', `(async () => { ${script} })().then(() => console.log('ok'))`],
        {
          cwd: app,
          env: envWith(node),
        },
      );
      expect(result.stderr).not.toMatch(/SyntaxError|does not provide an export/);
      expect(result.stdout.trim()).toBe('ok');
    });
  });
});

describe('the mlops bin', () => {
  const bin = () => join(app, 'node_modules/mlops-actions/dist/cli/mlops.cjs');
  /** Runs the installed bin with process.versions.node (or .arch) replaced before it starts. */
  const withFake = (fake: string, args: string[], node = process.execPath) => {
    const preload = join(work, `fake-${Math.random().toString(36).slice(2)}.cjs`);
    writeFileSync(preload, fake);
    return run(node, ['--require', preload, bin(), ...args], { cwd: app, env: envWith(node) });
  };

  it.each(['18.20.4', '20.15.1', '22.2.0', '16.0.0'])(
    'on Node %s exits 2 naming the version it needs, without a SyntaxError',
    async (version) => {
      const result = await withFake(
        `Object.defineProperty(process.versions, 'node', { value: ${JSON.stringify(version)} });`,
        ['--help'],
      );
      expect(result.code).toBe(2);
      expect(result.stderr).toMatch(
        new RegExp(
          `mlops needs Node\\.js 20\\.16 or newer .*this is Node\\.js ${version.replaceAll('.', '\\.')}`,
        ),
      );
      expect(result.stderr).not.toMatch(/SyntaxError/);
      expect(result.stdout).toBe('');
    },
  );

  it('runs on the lowest versions it accepts', async () => {
    for (const accepted of ['20.16.0', '22.3.0']) {
      const result = await withFake(
        `Object.defineProperty(process.versions, 'node', { value: '${accepted}' });`,
        ['--version'],
      );
      expect(result.code, result.stderr).toBe(0);
      expect(result.stdout.trim()).toBe(version);
    }
  });

  it('without the platform package, a model command exits 2 naming it; the others work', async () => {
    const bare = join(work, 'bare');
    cpSync(app, bare, {
      recursive: true,
      filter: (source) => !source.endsWith(`${join('node_modules', '@mlops-actions')}`),
    });
    const mlops = join(bare, 'node_modules/mlops-actions/dist/cli/mlops.cjs');
    const model = await run(
      systemNode,
      [
        mlops,
        'validate-model',
        '--model',
        join(models, 'torch-sigmoid.onnx'),
        '--data',
        join(example, 'data/test.csv'),
        '--target',
        'target',
        '--gate',
        'roc_auc >= 0.9',
      ],
      { cwd: bare, env: envWith(systemNode) },
    );
    expect(model.code).toBe(2);
    expect(model.stderr).toContain(`the platform package ${platformPackage} is not installed`);
    expect(model.stderr).toContain(`npm install ${platformPackage}@${version}`);
    // The hint for action runners does not apply to an installed CLI.
    expect(model.stderr).not.toContain('Released actions ship');
    const data = await run(
      systemNode,
      [
        mlops,
        'validate-data',
        '--data',
        join(example, 'data/test.csv'),
        '--reference',
        join(example, 'data/train.csv'),
      ],
      { cwd: bare, env: envWith(systemNode) },
    );
    expect(data.code, data.stderr).toBe(0);
  });

  it('on a platform without a package, says which platforms have one', async () => {
    const result = await withFake(`Object.defineProperty(process, 'arch', { value: 'ppc64' });`, [
      'validate-model',
      '--model',
      join(models, 'torch-sigmoid.onnx'),
      '--data',
      join(example, 'data/test.csv'),
      '--target',
      'target',
      '--gate',
      'roc_auc >= 0.9',
    ]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(
      new RegExp(
        `no ONNX Runtime package for ${process.platform}-ppc64 \\(there are packages for .*${platform}`,
      ),
    );
  });
});

/**
 * Model packages in OCI registries, against real parts: Debian's docker-registry (distribution 2.8,
 * no referrers API) on loopback, skopeo reading what was pushed and copying it to an OCI layout with
 * the same digests, umoci unpacking the modelcar, and KServe's modelcar command run in it as root
 * (unshare + chroot); a stand-in in front of the registry for the referrers API, authentication and
 * large-body refusals (test/harness/oci-registry.ts). With CI=true a missing Debian tool fails.
 */
import { execFile, execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { cp, mkdir, readdir, readFile, readlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Ajv2020 } from 'ajv/dist/2020.js';
import formatsModule from 'ajv-formats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { ConfigurationError, InputError } from '../../src/core/errors.ts';
import { MODELPACK } from '../../src/core/oci/modelpack.ts';
import { pullPackage } from '../../src/core/oci/pull.ts';
import { pushPackage } from '../../src/core/oci/push.ts';
import { parseOciReference } from '../../src/core/oci/reference.ts';
import {
  OCI_TIME_LIMITS,
  RegistryClient,
  referrersTag,
  sha256Digest,
} from '../../src/core/oci/registry-client.ts';
import type { BuiltPackage } from '../../src/core/package/build-package.ts';
import { buildPackage } from '../../src/core/package/build-package.ts';
import { verifyPackage } from '../../src/core/package/verify-package.ts';
import configSchema from '../../src/core/schemas/vendor/modelpack/config-schema.json' with { type: 'json' };
import { type GitServer, startGitServer } from '../harness/git-server.ts';
import {
  freePort,
  ociToolsMissing,
  type ReferrersStandIn,
  type Registry,
  seedBaseImage,
  skopeo,
  startReferrersStandIn,
  startRegistry,
} from '../harness/oci-registry.ts';
import { repoRoot, runAction } from '../harness/run-action.ts';
import { runCli } from '../helpers/cli.ts';
import { temporaryDirectory } from '../helpers/example.ts';
import { makeTestPackage, TEST_LINEAGE } from '../helpers/packages.ts';

const missing = ociToolsMissing();
if (missing.length > 0 && process.env.CI === 'true') {
  throw new Error(
    `test/integration/oci.test.ts needs the Debian packages ${missing.join(', ')} (CI installs them: .ci/run).`,
  );
}
if (missing.length > 0) {
  console.warn(
    `Skipping the OCI registry tests: the Debian packages ${missing.join(', ')} are missing (apt-get install -y ${missing.join(' ')}; the README's test command and .ci/run do).`,
  );
}
// KServe's command runs in the unpacked modelcar as root (unshare, mount, chroot), as CI runs.
const root = process.getuid?.() === 0;
if (!root && process.env.CI === 'true') {
  throw new Error('test/integration/oci.test.ts runs the modelcar in a chroot: run it as root (CI does).');
}
/** The CLI with the test process's environment and `env`; `input` on its stdin. */
const mlops = (args: string[], env: Record<string, string> = {}, input?: string) =>
  runCli(args, { env: { ...process.env, ...env }, ...(input !== undefined ? { input } : {}) });

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

interface RawDescriptor {
  mediaType: string;
  digest: string;
  size: number;
  artifactType?: string;
  annotations: Record<string, string>;
  platform?: { architecture: string; os: string };
}

/** A manifest or index as skopeo prints it (the fields these tests read). */
interface RawManifest {
  mediaType: string;
  artifactType?: string;
  config: RawDescriptor;
  layers: RawDescriptor[];
  manifests: RawDescriptor[];
  subject?: RawDescriptor;
  annotations?: Record<string, string>;
}

function inspectRaw(reference: string): { bytes: Buffer; json: RawManifest } {
  const bytes = execFileSync('skopeo', ['inspect', '--raw', '--tls-verify=false', `docker://${reference}`]);
  return { bytes, json: JSON.parse(bytes.toString('utf8')) };
}

function validateConfig(config: unknown): string[] {
  const ajv = new Ajv2020({ allErrors: true, strict: false });
  formatsModule.default(ajv);
  const validate = ajv.compile(configSchema);
  return validate(config) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath} ${e.message}`);
}

describe.skipIf(missing.length > 0)('mlops oci push against docker-registry (distribution 2.8)', () => {
  let registry: Registry;
  let base: string;
  let built: BuiltPackage;
  let external: BuiltPackage;
  let dir: string;

  beforeAll(async () => {
    dir = await temporaryDirectory('mlops-oci-');
    registry = await startRegistry();
    base = await seedBaseImage(registry.host, 'base/busybox');
    built = await makeTestPackage({ version: '1.2.0' });
    // A model with external data: its weights file is a layer of its own.
    const externalModel = join(dir, 'external');
    await mkdir(externalModel);
    await cp(join(repoRoot, 'test/fixtures/onnx/external.onnx'), join(externalModel, 'external.onnx'));
    await cp(join(repoRoot, 'test/fixtures/onnx/external.weights'), join(externalModel, 'external.weights'));
    external = await buildPackage({
      model: join(externalModel, 'external.onnx'),
      name: 'external',
      version: '0.1.0',
      out: join(dir, 'external-package'),
      lineage: TEST_LINEAGE,
    });
  }, 120_000);

  afterAll(async () => {
    await registry?.stop();
  });

  it('pushes a ModelPack artifact that skopeo reads back: raw weights, valid config, titles on every layer', async () => {
    const result = await pushPackage({
      package: built.directory,
      to: `${registry.host}/models/breast-cancer:1.2.0`,
      plainHttp: true,
      modelcar: true,
      baseImage: base,
    });
    expect(result.reference).toBe(`${registry.host}/models/breast-cancer:1.2.0`);
    const raw = inspectRaw(result.reference);
    expect(`sha256:${sha256(raw.bytes)}`).toBe(result.digest);
    expect(raw.json.mediaType).toBe('application/vnd.oci.image.manifest.v1+json');
    expect(raw.json.artifactType).toBe('application/vnd.cncf.model.manifest.v1+json');
    expect(raw.json.config.mediaType).toBe('application/vnd.cncf.model.config.v1+json');
    const model = built.manifest.files.find((file) => file.path === 'model.onnx')!;
    const weights = raw.json.layers.find(
      (layer) => layer.annotations['org.opencontainers.image.title'] === 'model.onnx',
    );
    expect(weights).toMatchObject({
      mediaType: 'application/vnd.cncf.model.weight.v1.raw',
      digest: `sha256:${model.sha256}`,
      size: model.bytes,
      annotations: { 'org.cncf.model.filepath': 'model.onnx' },
    });
    for (const layer of raw.json.layers) {
      expect(layer.annotations['org.opencontainers.image.title']).toBe(
        layer.annotations['org.cncf.model.filepath'],
      );
    }
    const titles = raw.json.layers.map((layer) => layer.annotations['org.opencontainers.image.title']).sort();
    expect(titles).toEqual(
      [...built.manifest.files.map((file) => file.path), 'manifest.json', 'provenance.intoto.json'].sort(),
    );
    // The config, as skopeo reads it, is valid against ModelPack's schema and says onnx.
    const config = JSON.parse(
      execFileSync(
        'skopeo',
        ['inspect', '--raw', '--config', '--tls-verify=false', `docker://${result.reference}`],
        {
          encoding: 'utf8',
        },
      ),
    );
    expect(validateConfig(config)).toEqual([]);
    expect(config.config.format).toBe('onnx');
    expect(config.modelfs.diffIds).toEqual(raw.json.layers.map((layer) => layer.digest));

    // Copied to an OCI layout, the digests are the same and the weights blob is model.onnx byte for byte.
    const layout = join(dir, 'layout-artifact');
    skopeo([
      'copy',
      '--quiet',
      '--preserve-digests',
      '--src-tls-verify=false',
      `docker://${result.reference}`,
      `oci:${layout}:1.2.0`,
    ]);
    const index = JSON.parse(await readFile(join(layout, 'index.json'), 'utf8'));
    expect(index.manifests[0].digest).toBe(result.digest);
    const blob = await readFile(join(layout, 'blobs/sha256', model.sha256));
    expect(blob.equals(await readFile(join(built.directory, 'model.onnx')))).toBe(true);
  });

  it('is reproducible and idempotent: a re-push sends no blob and no manifest; folder and archive give the same digests', async () => {
    const to = `${registry.host}/models/breast-cancer:1.2.0`;
    const again = await pushPackage({
      package: built.directory,
      to,
      plainHttp: true,
      modelcar: true,
      baseImage: base,
    });
    expect(again.stats).toMatchObject({ blobsUploaded: 0, bytesUploaded: 0, manifestsPut: 0 });
    const fromArchive = await pushPackage({
      package: built.archive,
      to,
      plainHttp: true,
      modelcar: true,
      baseImage: base,
    });
    expect(fromArchive.digest).toBe(again.digest);
    expect(fromArchive.modelcar?.digest).toBe(again.modelcar?.digest);
    expect(fromArchive.stats).toMatchObject({ blobsUploaded: 0, manifestsPut: 0 });
    expect(fromArchive.packageDigest).toBe(built.digest);
  });

  it('attaches the provenance as a referrer through the sha256-<hex> tag index (no referrers API here)', async () => {
    const result = await pushPackage({
      package: built.directory,
      to: `${registry.host}/models/breast-cancer:1.2.0`,
      plainHttp: true,
    });
    expect(result.referrers).toHaveLength(1);
    expect(result.referrers[0].via).toBe('tag');
    const tagIndex = inspectRaw(`${registry.host}/models/breast-cancer:${referrersTag(result.digest)}`).json;
    expect(tagIndex.mediaType).toBe('application/vnd.oci.image.index.v1+json');
    const entry = tagIndex.manifests.find((m) => m.digest === result.referrers[0].digest);
    expect(entry).toMatchObject({ artifactType: 'application/vnd.in-toto+json' });
    const referrer = inspectRaw(`${registry.host}/models/breast-cancer@${entry?.digest}`).json;
    expect(referrer.subject?.digest).toBe(result.digest);
    // The statement is the package's provenance, byte for byte.
    const statement = await readFile(built.provenance);
    expect(referrer.layers[0].digest).toBe(sha256Digest(statement));
    // Listed by the client through the fallback, no duplicate after the re-pushes above.
    const client = new RegistryClient({ registry: registry.host, plainHttp: true });
    const listed = await client.listReferrers(
      'models/breast-cancer',
      result.digest,
      'application/vnd.in-toto+json',
    );
    expect(listed.map((m) => m.digest)).toEqual([result.referrers[0].digest]);
  });

  it('pulls the package back from the layer titles; mlops package verify passes on the folder', async () => {
    const folder = join(dir, 'pulled');
    const provenanceFile = join(dir, 'pulled.intoto.json');
    const pulled = await pullPackage(`${registry.host}/models/breast-cancer:1.2.0`, folder, {
      plainHttp: true,
      provenanceFile,
    });
    expect(pulled.manifest.package).toEqual({ name: 'breast-cancer', version: '1.2.0' });
    expect(pulled.packageDigest).toBe(built.digest);
    const verified = await verifyPackage(folder);
    expect(verified.problems).toEqual([]);
    expect(verified.passed).toBe(true);
    expect((await readFile(provenanceFile)).equals(await readFile(built.provenance))).toBe(true);
    const run = await mlops(['package', 'verify', folder]);
    expect(run.stdout).toMatch(/^VERIFIED/);
    expect(run.code).toBe(0);
    // A modelcar reference leads to the same artifact; an existing folder is refused.
    const viaModelcar = await pullPackage(
      `oci://${registry.host}/models/breast-cancer:1.2.0-modelcar`,
      join(dir, 'pulled-2'),
      {
        plainHttp: true,
      },
    );
    expect(viaModelcar.digest).toBe(pulled.digest);
    await expect(
      pullPackage(`${registry.host}/models/breast-cancer:1.2.0`, folder, { plainHttp: true }),
    ).rejects.toThrow(ConfigurationError);
  });

  it('stores external data as its own raw weight layer, byte for byte', async () => {
    const result = await pushPackage({
      package: external.archive,
      to: `${registry.host}/models/external`,
      plainHttp: true,
    });
    expect(result.reference).toBe(`${registry.host}/models/external:0.1.0`);
    const raw = inspectRaw(result.reference).json;
    const weights = raw.layers.filter((layer) => layer.mediaType === MODELPACK.weight);
    expect(weights.map((layer) => layer.annotations['org.opencontainers.image.title'])).toEqual([
      'model.onnx',
      'external.weights',
    ]);
    const data = await readFile(join(repoRoot, 'test/fixtures/onnx/external.weights'));
    expect(weights[1].digest).toBe(`sha256:${sha256(data)}`);
    const pulled = await pullPackage(result.reference, join(dir, 'external-pulled'), { plainHttp: true });
    expect((await verifyPackage(pulled.folder)).passed).toBe(true);
  });
});

describe.skipIf(missing.length > 0)('the modelcar, as KServe runs it', () => {
  let registry: Registry;
  let other: Registry;
  let dir: string;
  let built: BuiltPackage;

  beforeAll(async () => {
    dir = await temporaryDirectory('mlops-modelcar-');
    [registry, other] = await Promise.all([startRegistry(), startRegistry()]);
    built = await makeTestPackage({ version: '2.0.0' });
  }, 120_000);

  afterAll(async () => {
    await Promise.all([registry?.stop(), other?.stop()]);
  });

  /** Unpacks the modelcar with umoci, runs KServe's command in it, and reads the model through /mnt. */
  async function runModelcar(
    reference: string,
    name: string,
  ): Promise<{ model: Buffer; config: string; link: string }> {
    const layout = join(dir, `layout-${name}`);
    skopeo([
      'copy',
      '--quiet',
      '--preserve-digests',
      '--dest-oci-accept-uncompressed-layers',
      '--src-tls-verify=false',
      `docker://${reference}`,
      `oci:${layout}:modelcar`,
    ]);
    const bundle = join(dir, `bundle-${name}`);
    execFileSync('umoci', ['unpack', '--image', `${layout}:modelcar`, bundle], { stdio: 'pipe' });
    const rootfs = join(bundle, 'rootfs');
    // KServe's modelcar container: `sh -c 'ln -sf /proc/$$/root/models /mnt/ && sleep infinity'`, with a
    // shared process namespace. Here: a private mount namespace with /proc mounted inside the rootfs.
    const command = 'ln -sf /proc/$$/root/models /mnt/ && echo linked && sleep 30';
    const child = spawn(
      'unshare',
      [
        '--mount',
        '--fork',
        'sh',
        '-c',
        `mount -t proc proc "$0/proc" && exec chroot "$0" /bin/sh -c "$1"`,
        rootfs,
        command,
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    try {
      let output = '';
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`the modelcar did not link /mnt/models: ${output}`)),
          10_000,
        );
        child.stdout?.on('data', (chunk) => {
          output += chunk;
          if (output.includes('linked')) {
            clearTimeout(timer);
            resolve();
          }
        });
        child.stderr?.on('data', (chunk) => {
          output += chunk;
        });
        child.once('exit', (code) => {
          clearTimeout(timer);
          reject(new Error(`the modelcar exited (${code}): ${output}`));
        });
      });
      const link = await readlink(join(rootfs, 'mnt/models'));
      // What the model server sees through the link, as another container of the pod would.
      const mnt = link.replace(/\/models$/, '');
      const model = await readFile(join(mnt, 'models', built.manifest.package.name, '1', 'model.onnx'));
      const config = await readFile(join(mnt, 'models', built.manifest.package.name, 'config.pbtxt'), 'utf8');
      return { model, config, link };
    } finally {
      child.kill('SIGKILL');
    }
  }

  it.skipIf(!root)(
    'is unpacked by umoci and serves /mnt/models/<name>/1/model.onnx after KServe’s ln command',
    async () => {
      const base = await seedBaseImage(registry.host, 'base/busybox');
      const result = await pushPackage({
        package: built.directory,
        to: `${registry.host}/models/breast-cancer:2.0.0`,
        plainHttp: true,
        modelcar: true,
        baseImage: base,
      });
      const modelcar = result.modelcar!;
      expect(modelcar.reference).toBe(`${registry.host}/models/breast-cancer:2.0.0-modelcar`);
      expect(modelcar.uri).toBe(`oci://${registry.host}/models/breast-cancer@${modelcar.digest}`);
      // The base layer was mounted from the base's repository, not sent again.
      expect(result.stats.blobsMounted).toBe(1);
      const raw = inspectRaw(modelcar.reference);
      expect(`sha256:${sha256(raw.bytes)}`).toBe(modelcar.digest);
      expect(raw.json.annotations).toMatchObject({
        'org.opencontainers.image.base.digest': base.split('@')[1],
        'dev.mlops-actions.modelpack.digest': result.digest,
        'dev.mlops-actions.package.digest': `sha256:${built.digest}`,
      });
      const { model, config, link } = await runModelcar(modelcar.reference, 'single');
      expect(link).toMatch(/^\/proc\/\d+\/root\/models$/);
      expect(model.equals(await readFile(join(built.directory, 'model.onnx')))).toBe(true);
      expect(config).toContain('platform: "onnxruntime_onnx"');
      expect(config).toContain('name: "breast-cancer"');
      // The provenance is attached to the modelcar too.
      expect(result.referrers.map((referrer) => referrer.subject)).toEqual([result.digest, modelcar.digest]);
    },
  );

  it('builds one image per platform from a multi-platform base, and copies a base from another registry', async () => {
    const base = await seedBaseImage(other.host, 'library/busybox', { index: true });
    const result = await pushPackage({
      package: built.archive,
      to: `${registry.host}/models/multi:2.0.0`,
      plainHttp: true,
      modelcar: true,
      baseImage: base,
    });
    const modelcar = result.modelcar!;
    expect(modelcar.mediaType).toBe('application/vnd.oci.image.index.v1+json');
    expect(modelcar.platforms).toEqual(['linux/amd64', 'linux/arm64']);
    const index = inspectRaw(modelcar.reference).json;
    expect(index.manifests.map((m) => `${m.platform?.os}/${m.platform?.architecture}`)).toEqual([
      'linux/amd64',
      'linux/arm64',
    ]);
    // One model layer shared by both images; the base layer copied once.
    const layers = index.manifests.map((m) =>
      inspectRaw(`${registry.host}/models/multi@${m.digest}`).json.layers.map((layer) => layer.digest),
    );
    expect(layers[0]).toEqual(layers[1]);
    expect(result.stats.blobsMounted).toBe(0);
    // skopeo picks this machine's platform from the index; KServe's command runs in it.
    if (root) {
      const { model } = await runModelcar(modelcar.reference, 'index');
      expect(model.equals(await readFile(join(built.directory, 'model.onnx')))).toBe(true);
    }
    // The same package and base give the same modelcar on a re-push, and nothing is sent.
    const again = await pushPackage({
      package: built.archive,
      to: `${registry.host}/models/multi:2.0.0`,
      plainHttp: true,
      modelcar: true,
      baseImage: base,
    });
    expect(again.modelcar?.digest).toBe(modelcar.digest);
    expect(again.stats).toMatchObject({ blobsUploaded: 0, manifestsPut: 0 });
    // A platform the base does not have is the user's to fix (--platform).
    await expect(
      pushPackage({
        package: built.archive,
        to: `${registry.host}/models/multi:2.0.0`,
        plainHttp: true,
        modelcar: true,
        baseImage: base,
        platforms: ['linux/s390x'],
      }),
    ).rejects.toThrow(/has no linux\/s390x image \(it has linux\/amd64, linux\/arm64\)/);
  });

  it('refuses a base image that is not pinned by digest, or that does not exist', async () => {
    await expect(
      pushPackage({
        package: built.directory,
        to: `${registry.host}/models/x:1`,
        plainHttp: true,
        modelcar: true,
        baseImage: `${registry.host}/base/busybox:test`,
      }),
    ).rejects.toThrow(/not pinned by digest/);
    await expect(
      pushPackage({
        package: built.directory,
        to: `${registry.host}/models/x:1`,
        plainHttp: true,
        modelcar: true,
        baseImage: `${registry.host}/base/none@sha256:${'0'.repeat(64)}`,
      }),
    ).rejects.toThrow(ConfigurationError);
  });
});

describe.skipIf(missing.length > 0)(
  'the referrers API, authentication and large bodies (a stand-in in front of the registry)',
  () => {
    let registry: Registry;
    let dir: string;
    let built: BuiltPackage;
    const standIns: ReferrersStandIn[] = [];

    beforeAll(async () => {
      dir = await temporaryDirectory('mlops-standin-');
      registry = await startRegistry();
      built = await makeTestPackage({ version: '3.0.0' });
    }, 120_000);

    afterAll(async () => {
      for (const standIn of standIns) await standIn.stop();
      await registry?.stop();
    });

    async function standIn(
      options: Parameters<typeof startReferrersStandIn>[1] = {},
    ): Promise<ReferrersStandIn> {
      const started = await startReferrersStandIn(registry, options);
      standIns.push(started);
      return started;
    }

    it('uses the referrers API where the registry has it (OCI-Subject), without a fallback tag', async () => {
      const api = await standIn({ pageSize: 1 });
      const result = await pushPackage({
        package: built.directory,
        to: `${api.host}/models/api:3.0.0`,
        plainHttp: true,
      });
      expect(result.referrers).toEqual([
        { subject: result.digest, digest: expect.stringMatching(/^sha256:/), via: 'api' },
      ]);
      // No sha256-<hex> tag was written.
      const tags = JSON.parse(
        skopeo(['list-tags', '--tls-verify=false', `docker://${registry.host}/models/api`]),
      );
      expect(tags.Tags).toEqual(['3.0.0']);
      // A second referrer of the same subject: the list takes two pages (Link), filtered by type.
      const client = new RegistryClient({ registry: api.host, plainHttp: true });
      const statement = new TextEncoder().encode('{"_type":"https://in-toto.io/Statement/v1","subject":[]}');
      const { buildProvenanceReferrer } = await import('../../src/core/oci/modelpack.ts');
      const second = buildProvenanceReferrer(
        statement,
        { mediaType: result.mediaType, digest: result.digest, size: 1 },
        '2026-01-01T00:00:00Z',
      );
      await client.pushBlob('models/api', second.layer, { bytes: statement });
      expect(await client.pushReferrer('models/api', second.manifest, second.descriptor, result.digest)).toBe(
        'api',
      );
      const listed = await client.listReferrers('models/api', result.digest, 'application/vnd.in-toto+json');
      expect(listed.map((m) => m.digest).sort()).toEqual(
        [result.referrers[0].digest, second.descriptor.digest].sort(),
      );
      expect(await client.listReferrers('models/api', `sha256:${'1'.repeat(64)}`)).toEqual([]);
      // Re-pushing changes nothing; every referrers answer kept to the spec.
      const again = await pushPackage({
        package: built.directory,
        to: `${api.host}/models/api:3.0.0`,
        plainHttp: true,
      });
      expect(again.referrers[0].via).toBe('api');
      expect(again.stats).toMatchObject({ blobsUploaded: 0, manifestsPut: 0 });
      expect(api.violations).toEqual([]);
    });

    it('answers a Bearer challenge: the credential only to the realm, the token only to the registry, nothing to storage', async () => {
      const auth = { scheme: 'bearer' as const, username: 'robot', password: 's3cret-token' };
      const bearer = await standIn({ auth, redirectBlobs: true });
      const to = `${bearer.host}/models/auth:3.0.0`;
      const result = await pushPackage({ package: built.directory, to, plainHttp: true, credential: auth });
      const pulled = await pullPackage(to, join(dir, 'auth-pulled'), { plainHttp: true, credential: auth });
      expect(pulled.digest).toBe(result.digest);
      expect((await verifyPackage(pulled.folder)).passed).toBe(true);
      const seen = bearer.requests;
      expect(
        seen.filter((r) => r.server === 'realm').every((r) => r.authorization === 'basic' && r.authorized),
      ).toBe(true);
      expect(seen.filter((r) => r.server === 'registry').every((r) => r.authorization !== 'basic')).toBe(
        true,
      );
      expect(seen.filter((r) => r.server === 'storage').length).toBeGreaterThan(0);
      expect(seen.filter((r) => r.server === 'storage').every((r) => r.authorization === 'none')).toBe(true);
      // Without a credential, and with a wrong one: the user's to fix (exit 2), saying how.
      await expect(
        pushPackage({ package: built.directory, to, plainHttp: true, credentialHint: 'set THE_TOKEN.' }),
      ).rejects.toThrow(/wants a credential to pull from models\/auth .*Set THE_TOKEN\./);
      await expect(
        pushPackage({
          package: built.directory,
          to,
          plainHttp: true,
          credential: { ...auth, password: 'wrong' },
        }),
      ).rejects.toThrow(/refused the credential/);
    });

    it('answers a Basic challenge, and uploads in chunks when a whole blob is refused (413)', async () => {
      const auth = { scheme: 'basic' as const, username: 'robot', password: 'pa55' };
      const limited = await standIn({ auth, maxBodyBytes: 1024, noReferrers: true });
      const model = built.manifest.files.find((file) => file.path === 'model.onnx')!;
      expect(model.bytes).toBeGreaterThan(1024);
      const result = await pushPackage({
        package: built.directory,
        to: `${limited.host}/models/chunked:3.0.0`,
        plainHttp: true,
        credential: auth,
        chunkBytes: 512,
      });
      expect(limited.requests.some((r) => r.method === 'PATCH')).toBe(true);
      expect(limited.requests.some((r) => r.status === 413)).toBe(true);
      const raw = inspectRaw(`${registry.host}/models/chunked:3.0.0`);
      expect(`sha256:${sha256(raw.bytes)}`).toBe(result.digest);
      const pulled = await pullPackage(`${registry.host}/models/chunked:3.0.0`, join(dir, 'chunked-pulled'), {
        plainHttp: true,
      });
      expect((await verifyPackage(pulled.folder)).passed).toBe(true);
    });
  },
);

describe.skipIf(missing.length > 0)('mlops oci (the built CLI)', () => {
  let registry: Registry;
  let dir: string;
  let built: BuiltPackage;

  beforeAll(async () => {
    dir = await temporaryDirectory('mlops-oci-cli-');
    registry = await startRegistry();
    built = await makeTestPackage({ version: '4.0.0', out: join(dir, 'package') });
  }, 120_000);

  afterAll(async () => {
    await registry?.stop();
  });

  it('prints { reference, digest, mediaType, modelcar } with --json, and pulls back what it pushed', async () => {
    const base = await seedBaseImage(registry.host, 'base/busybox');
    const push = await mlops([
      'oci',
      'push',
      '--package',
      built.archive,
      '--to',
      `${registry.host}/models/cli`,
      '--plain-http',
      '--modelcar',
      '--base-image',
      base,
      '--json',
    ]);
    expect(push.stderr).toMatch(/^Pushed /);
    expect(push.code).toBe(0);
    const result = JSON.parse(push.stdout);
    expect(result).toMatchObject({
      reference: `${registry.host}/models/cli:4.0.0`,
      digest: expect.stringMatching(/^sha256:[0-9a-f]{64}$/),
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      modelcar: {
        reference: `${registry.host}/models/cli:4.0.0-modelcar`,
        digest: expect.stringMatching(/^sha256:/),
      },
    });
    const out = join(dir, 'pulled');
    const pull = await mlops([
      'oci',
      'pull',
      `${registry.host}/models/cli:4.0.0`,
      '--out',
      out,
      '--plain-http',
      '--json',
    ]);
    expect(pull.code).toBe(0);
    expect(JSON.parse(pull.stdout).digest).toBe(result.digest);
    expect((await mlops(['package', 'verify', out])).code).toBe(0);
  });

  it('takes the password from stdin or the environment, never prints it, and exits 2 on what the user must fix', async () => {
    const standIn = await startReferrersStandIn(registry, {
      auth: { scheme: 'basic', username: 'ci', password: 'tok-3f9a' },
    });
    try {
      const to = `${standIn.host}/models/secret:4.0.0`;
      const viaStdin = await mlops(
        [
          'oci',
          'push',
          '--package',
          built.directory,
          '--to',
          to,
          '--plain-http',
          '--username',
          'ci',
          '--password-stdin',
        ],
        {},
        'tok-3f9a\n',
      );
      expect(viaStdin.code).toBe(0);
      const viaEnv = await mlops(
        ['oci', 'push', '--package', built.directory, '--to', to, '--plain-http', '--json'],
        {
          MLOPS_REGISTRY_USERNAME: 'ci',
          MLOPS_REGISTRY_PASSWORD: 'tok-3f9a',
        },
      );
      expect(viaEnv.code).toBe(0);
      const wrong = await mlops(['oci', 'push', '--package', built.directory, '--to', to, '--plain-http'], {
        MLOPS_REGISTRY_USERNAME: 'ci',
        MLOPS_REGISTRY_PASSWORD: 'tok-wrong',
      });
      expect(wrong.code).toBe(2);
      expect(wrong.stderr).toMatch(/refused the credential/);
      const none = await mlops(['oci', 'push', '--package', built.directory, '--to', to, '--plain-http']);
      expect(none.code).toBe(2);
      expect(none.stderr).toMatch(/MLOPS_REGISTRY_USERNAME and MLOPS_REGISTRY_PASSWORD/);
      for (const run of [viaStdin, viaEnv, wrong, none])
        expect(`${run.stdout}${run.stderr}`).not.toMatch(/tok-/);
    } finally {
      await standIn.stop();
    }
  });

  it.each([
    [['oci', 'push', '--package', 'x', '--to', 'churn:1.0.0'], /names no registry/],
    [['oci', 'push', '--package', 'x', '--to', 'ghcr.io/Org/churn:1.0.0'], /upper-case letters.*"org"/],
    [
      ['oci', 'push', '--package', 'x', '--to', 'registry.example.com/m/churn:1', '--plain-http'],
      /Plain http is accepted only for a registry on this machine/,
    ],
    [
      ['oci', 'push', '--package', 'missing-package', '--to', '127.0.0.1:9/m/x:1', '--plain-http'],
      /missing-package does not exist/,
    ],
    [
      ['oci', 'push', '--package', 'x', '--to', 'ghcr.io/o/m:1', '--base-image', 'ghcr.io/o/b:1'],
      /--base-image goes with --modelcar/,
    ],
    [['oci', 'pull', 'ghcr.io/o/m', '--out', 'x'], /names no tag or digest/],
    [['oci', 'fetch'], /unknown subcommand "fetch"/],
  ])('exits 2 for %j', async (args, message) => {
    const run = await mlops(args);
    expect(run.stderr).toMatch(message);
    expect(run.code).toBe(2);
  });

  it('pushes and pulls over https with Basic auth (the certificate from NODE_EXTRA_CA_CERTS), no --plain-http', async () => {
    const key = join(dir, 'key.pem');
    const cert = join(dir, 'cert.pem');
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-keyout',
        key,
        '-out',
        cert,
        '-days',
        '1',
        '-subj',
        '/CN=127.0.0.1',
        '-addext',
        'subjectAltName=IP:127.0.0.1',
      ],
      { stdio: 'pipe' },
    );
    const tls = await startReferrersStandIn(registry, {
      auth: { scheme: 'basic', username: 'ci', password: 'tls-token-7' },
      tls: { key: await readFile(key, 'utf8'), cert: await readFile(cert, 'utf8') },
      redirectBlobs: true,
    });
    try {
      const env = {
        NODE_EXTRA_CA_CERTS: cert,
        MLOPS_REGISTRY_USERNAME: 'ci',
        MLOPS_REGISTRY_PASSWORD: 'tls-token-7',
      };
      const push = await mlops(
        ['oci', 'push', '--package', built.archive, '--to', `${tls.host}/models/tls`, '--json'],
        env,
      );
      expect(push.stderr).toMatch(/^Pushed /);
      expect(push.code).toBe(0);
      const out = join(dir, 'tls-pulled');
      const pull = await mlops(['oci', 'pull', `${tls.host}/models/tls:4.0.0`, '--out', out], env);
      expect(pull.code).toBe(0);
      expect((await mlops(['package', 'verify', out])).code).toBe(0);
      // Blob downloads went to the storage origin (plain http on loopback) without the credential.
      expect(
        tls.requests.filter((r) => r.server === 'storage').every((r) => r.authorization === 'none'),
      ).toBe(true);
      expect(tls.requests.some((r) => r.server === 'storage')).toBe(true);
      // Without the certificate the push stops at the TLS check (exit 2), not silently over http.
      const untrusted = await mlops(
        ['oci', 'push', '--package', built.archive, '--to', `${tls.host}/models/tls`],
        {
          ...env,
          NODE_EXTRA_CA_CERTS: '',
        },
      );
      expect(untrusted.code).toBe(2);
      expect(untrusted.stderr).toMatch(/cannot be reached.*(CERT|certificate|SELF_SIGNED)/i);
    } finally {
      await tls.stop();
    }
  });

  it('suggests --plain-http for a registry on this machine that does not speak TLS (exit 2)', async () => {
    const run = await mlops(['oci', 'push', '--package', built.directory, '--to', `${registry.host}/m/x:1`]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/cannot be reached.*needs --plain-http/);
  });

  it('says so when the registry cannot be reached (exit 2)', async () => {
    const closed = await freePort();
    const run = await mlops([
      'oci',
      'push',
      '--package',
      built.directory,
      '--to',
      `127.0.0.1:${closed}/m/x:1`,
      '--plain-http',
    ]);
    expect(run.stderr).toMatch(/cannot be reached.*ECONNREFUSED/);
    expect(run.code).toBe(2);
  });
});

describe('registry time limits and hostile artifacts', () => {
  it('gives up on a registry that accepts and never answers, after the request time limit', async () => {
    const { createServer } = await import('node:net');
    const sockets: import('node:net').Socket[] = [];
    const server = createServer((socket) => sockets.push(socket));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as import('node:net').AddressInfo).port;
    const saved = { ...OCI_TIME_LIMITS };
    OCI_TIME_LIMITS.requestMs = 300;
    try {
      const client = new RegistryClient({ registry: `127.0.0.1:${port}`, plainHttp: true });
      const started = Date.now();
      const error = await client.hasBlob('m/x', `sha256:${'0'.repeat(64)}`).catch((caught) => caught);
      expect(error).toBeInstanceOf(InputError);
      expect((error as Error).message).toMatch(/no answer within/);
      // Two retries with back-off, each limited.
      expect(Date.now() - started).toBeLessThan(5000);
    } finally {
      Object.assign(OCI_TIME_LIMITS, saved);
      for (const socket of sockets) socket.destroy();
      server.close();
    }
  });

  it.skipIf(missing.length > 0)(
    'refuses to pull a layer whose title leaves the folder, or files the manifest does not list',
    async () => {
      const registry = await startRegistry();
      const dir = await temporaryDirectory('mlops-hostile-oci-');
      try {
        const built = await makeTestPackage({ version: '5.0.0' });
        const pushed = await pushPackage({
          package: built.directory,
          to: `${registry.host}/m/evil:1`,
          plainHttp: true,
        });
        const client = new RegistryClient({ registry: registry.host, plainHttp: true });
        const original = (await client.getManifest('m/evil', pushed.digest))!;
        const tamper = async (tag: string, change: (layers: RawDescriptor[]) => RawDescriptor[]) => {
          const json = structuredClone(original.json) as unknown as RawManifest;
          json.layers = change(json.layers);
          const bytes = new TextEncoder().encode(JSON.stringify(json));
          await client.putManifest('m/evil', tag, bytes, original.mediaType);
        };
        await tamper('escape', (layers) =>
          layers.map((layer) =>
            layer.annotations['org.opencontainers.image.title'] === 'MODEL_CARD.md'
              ? {
                  ...layer,
                  annotations: { ...layer.annotations, 'org.opencontainers.image.title': '../../escaped.md' },
                }
              : layer,
          ),
        );
        await expect(
          pullPackage(`${registry.host}/m/evil:escape`, join(dir, 'a'), { plainHttp: true }),
        ).rejects.toThrow(/would leave the package folder/);
        await tamper('extra', (layers) => [
          ...layers,
          { ...layers[0], annotations: { 'org.opencontainers.image.title': 'run.sh' } },
        ]);
        await expect(
          pullPackage(`${registry.host}/m/evil:extra`, join(dir, 'b'), { plainHttp: true }),
        ).rejects.toThrow(/run.sh is not a file of the package's manifest/);
        expect(existsSync(join(dir, 'a'))).toBe(false);
        expect(await readdir(dir)).toEqual([]);
      } finally {
        await registry.stop();
      }
    },
  );

  it('reads WWW-Authenticate challenges as registries write them', async () => {
    const { parseChallenges } = await import('../../src/core/oci/auth.ts');
    expect(
      parseChallenges(
        'Bearer realm="https://ghcr.io/token",service="ghcr.io",scope="repository:o/m:pull,push"',
      ),
    ).toEqual([
      {
        scheme: 'bearer',
        params: { realm: 'https://ghcr.io/token', service: 'ghcr.io', scope: 'repository:o/m:pull,push' },
      },
    ]);
    expect(parseChallenges('Basic realm="Registry Realm"')).toEqual([
      { scheme: 'basic', params: { realm: 'Registry Realm' } },
    ]);
    expect(parseChallenges('Negotiate abc==, Basic realm="x", Bearer realm="https://a/t",service=s')).toEqual(
      [
        { scheme: 'negotiate', params: {} },
        { scheme: 'basic', params: { realm: 'x' } },
        { scheme: 'bearer', params: { realm: 'https://a/t', service: 's' } },
      ],
    );
    expect(parseChallenges('BEARER Realm = "a\\"b"')).toEqual([
      { scheme: 'bearer', params: { realm: 'a"b' } },
    ]);
    expect(parseChallenges('')).toEqual([]);
  });

  it('parses references strictly and names the registry', () => {
    expect(parseOciReference('oci://ghcr.io/org/models/churn:1.2.0')).toEqual({
      registry: 'ghcr.io',
      repository: 'org/models/churn',
      tag: '1.2.0',
    });
    expect(parseOciReference('docker.io/busybox@sha256:' + 'a'.repeat(64))).toEqual({
      registry: 'docker.io',
      repository: 'library/busybox',
      digest: `sha256:${'a'.repeat(64)}`,
    });
    expect(parseOciReference('localhost:5000/m:tag_1')).toMatchObject({
      registry: 'localhost:5000',
      repository: 'm',
    });
    expect(() => parseOciReference('ghcr.io/org/churn:-bad')).toThrow(ConfigurationError);
    expect(() => parseOciReference('https://ghcr.io/org/churn')).toThrow(/URL scheme/);
  });
});

describe.skipIf(missing.length > 0)(
  'package-model action: the oci input (the bundle, as the runner runs it)',
  () => {
    let registry: Registry;
    let standIn: ReferrersStandIn;
    let base: string;

    beforeAll(async () => {
      registry = await startRegistry();
      standIn = await startReferrersStandIn(registry, {
        auth: { scheme: 'basic', username: 'octocat', password: 'registry-secret-1' },
      });
      base = await seedBaseImage(registry.host, 'base/busybox');
    }, 120_000);

    afterAll(async () => {
      await standIn?.stop();
      await registry?.stop();
    });

    const env = {
      GITHUB_REF: 'refs/tags/v1.5.0',
      GITHUB_SHA: 'c0ffee'.padEnd(40, '0'),
      GITHUB_REPOSITORY: 'octo-org/mlops-demo',
      GITHUB_RUN_ID: '77',
      GITHUB_SERVER_URL: 'https://github.com',
      GITHUB_ACTOR: 'octocat',
      SOURCE_DATE_EPOCH: '1767225600',
    };

    it('pushes the ModelPack artifact and the modelcar, with outputs for deploy-pr; the password is masked', async () => {
      const run = await runAction('package-model', {
        env,
        githubToken: 'ghs_workflow-token',
        inputs: {
          model: join(repoRoot, 'test/fixtures/models/torch-sigmoid.onnx'),
          name: 'sigmoid',
          upload: 'false',
          oci: `${standIn.host}/models/sigmoid`,
          'oci-plain-http': 'true',
          'oci-base-image': base.replace(registry.host, standIn.host),
          'oci-password': 'registry-secret-1',
        },
      });
      expect(run.stderr).toBe('');
      expect(run.exitCode).toBe(0);
      expect(run.outputs).toMatchObject({
        version: '1.5.0',
        'oci-reference': `${standIn.host}/models/sigmoid:1.5.0`,
        'oci-digest': expect.stringMatching(/^sha256:[0-9a-f]{64}$/),
        'modelcar-reference': `${standIn.host}/models/sigmoid:1.5.0-modelcar`,
        'modelcar-digest': expect.stringMatching(/^sha256:[0-9a-f]{64}$/),
      });
      expect(run.outputs['modelcar-uri']).toBe(
        `oci://${standIn.host}/models/sigmoid@${run.outputs['modelcar-digest']}`,
      );
      expect(run.stdout).toContain('::add-mask::registry-secret-1');
      expect(run.summary).toContain(run.outputs['modelcar-uri']);
      // What was pushed is the package the step wrote.
      const pulled = await pullPackage(run.outputs['oci-reference'], join(await temporaryDirectory(), 'p'), {
        plainHttp: true,
        credential: { username: 'octocat', password: 'registry-secret-1' },
      });
      expect(pulled.digest).toBe(run.outputs['oci-digest']);
      expect(pulled.packageDigest).toBe(run.outputs.digest);
    });

    it('never sends the workflow token to a registry other than ghcr.io', async () => {
      const before = standIn.requests.length;
      const run = await runAction('package-model', {
        env,
        githubToken: 'ghs_workflow-token',
        inputs: {
          model: join(repoRoot, 'test/fixtures/models/torch-sigmoid.onnx'),
          name: 'sigmoid',
          upload: 'false',
          oci: `${standIn.host}/models/other`,
          'oci-plain-http': 'true',
          'oci-modelcar': 'false',
        },
      });
      expect(run.exitCode).toBe(1);
      expect(run.annotations.find((a) => a.level === 'error')?.message).toMatch(
        /asks for a credential.*"oci-username" and "oci-password"/,
      );
      expect(standIn.requests.slice(before).every((r) => r.authorization === 'none')).toBe(true);
    });
  },
);

describe.skipIf(missing.length > 0)(
  'deploying the modelcar: mlops deploy --oci-ref, the record, mlops history',
  () => {
    let registry: Registry;
    let git: GitServer;
    let dir: string;
    let built: BuiltPackage;
    let other: BuiltPackage;
    let modelcarUri: string;
    let otherModelcarUri: string;
    const repository = 'octo-org/environments';

    beforeAll(async () => {
      dir = await temporaryDirectory('mlops-oci-deploy-');
      [registry, git] = await Promise.all([startRegistry(), startGitServer()]);
      built = await makeTestPackage({ version: '6.0.0', out: join(dir, 'package') });
      other = await makeTestPackage({ version: '6.0.1', out: join(dir, 'other') });
      const base = await seedBaseImage(registry.host, 'base/busybox');
      const to = `${registry.host}/models/breast-cancer`;
      const common = { plainHttp: true, modelcar: true, baseImage: base };
      modelcarUri = (await pushPackage({ package: built.archive, to, ...common })).modelcar!.uri;
      otherModelcarUri = (await pushPackage({ package: other.archive, to, ...common })).modelcar!.uri;
      const template = join(repoRoot, 'templates/environment-repo/environments/staging');
      await git.createRepository(repository, {
        'environments/staging/inferenceservice.yaml': await readFile(
          join(template, 'inferenceservice.yaml'),
          'utf8',
        ),
        'environments/staging/kustomization.yaml': await readFile(
          join(template, 'kustomization.yaml'),
          'utf8',
        ),
      });
      await writeFile(
        join(dir, 'mlops.yaml'),
        [
          'deploy:',
          '  environments:',
          '    staging:',
          '      targets:',
          '        - file: environments/staging/inferenceservice.yaml',
          '          field: spec.predictor.model.storageUri',
          '          value: "{storageUri}"',
          '',
        ].join('\n'),
      );
    }, 120_000);

    afterAll(async () => {
      await Promise.all([registry?.stop(), git?.stop()]);
    });

    function deployArgs(pkg: BuiltPackage, ociRef: string): string[] {
      return [
        'deploy',
        '--env',
        'staging',
        '--package-ref',
        pkg.archive,
        '--repo',
        git.url(repository),
        '--config',
        join(dir, 'mlops.yaml'),
        '--oci-ref',
        ociRef,
        '--plain-http',
        '--pr-file',
        join(dir, 'pr.json'),
      ];
    }
    const env = () => ({ GITHUB_TOKEN: git.token, GITHUB_API_URL: '', GITHUB_SERVER_URL: '' });

    it('points storageUri at the modelcar pinned by digest, and the record keeps both digests', async () => {
      const run = await mlops(deployArgs(built, modelcarUri), env());
      expect(run.stderr).toBe('');
      expect(run.code).toBe(0);
      const branch = 'mlops/deploy/staging/breast-cancer';
      const record = parseYaml(
        (await git.readFile(repository, branch, 'environments/staging/models/breast-cancer.yaml'))!,
      );
      expect(record.spec.package.sha256).toBe(built.digest);
      expect(record.spec.modelcar).toEqual({
        ref: `oci://${registry.host}/models/breast-cancer`,
        sha256: modelcarUri.split('@sha256:')[1],
      });
      const service = await git.readFile(repository, branch, 'environments/staging/inferenceservice.yaml');
      expect(service).toContain(`storageUri: ${modelcarUri}`);
      // Only that value changed: the comments of the file are kept.
      expect(service).toContain('# ONNX models are served over the Open Inference Protocol');
      const pr = JSON.parse(await readFile(join(dir, 'pr.json'), 'utf8'));
      expect(pr.body).toContain('| modelcar |');
      expect(pr.body).toContain('made from this package');
      // A re-run changes nothing.
      const again = await mlops(deployArgs(built, modelcarUri), env());
      expect(again.stdout).toMatch(/^unchanged|\nunchanged/);
    });

    it('refuses a modelcar made from another package, and one that is not pinned by digest (exit 2)', async () => {
      const wrong = await mlops(deployArgs(built, otherModelcarUri), env());
      expect(wrong.code).toBe(2);
      expect(wrong.stderr).toMatch(/was made from the package with sha256 .* push this package's modelcar/);
      const unpinned = await mlops(
        deployArgs(built, `oci://${registry.host}/models/breast-cancer:6.0.0-modelcar`),
        env(),
      );
      expect(unpinned.code).toBe(2);
      expect(unpinned.stderr).toMatch(/oci-ref .* is not pinned by digest/);
    });

    it('mlops history shows the package and modelcar digests of what was merged', async () => {
      // Merge the deployment pull request's branch, as a reviewer would.
      const clone = join(dir, 'clone');
      const gitEnv = {
        ...process.env,
        GIT_AUTHOR_NAME: 'Reviewer',
        GIT_AUTHOR_EMAIL: 'r@octo.invalid',
        GIT_COMMITTER_NAME: 'Reviewer',
        GIT_COMMITTER_EMAIL: 'r@octo.invalid',
      };
      // Asynchronous: the git server answers from this process.
      const gitRun = (args: string[], cwd?: string) =>
        promisify(execFile)('git', ['-c', `http.extraHeader=${git.extraHeader}`, ...args], {
          cwd,
          env: gitEnv,
        });
      await gitRun(['clone', '--quiet', git.url(repository), clone]);
      await gitRun(['fetch', '--quiet', 'origin', 'mlops/deploy/staging/breast-cancer'], clone);
      await gitRun(
        [
          'merge',
          '--quiet',
          '--no-ff',
          '-m',
          'Merge pull request #1 from octo-org/mlops/deploy/staging/breast-cancer',
          'FETCH_HEAD',
        ],
        clone,
      );
      await gitRun(['push', '--quiet', 'origin', 'main'], clone);
      const history = await mlops(
        ['history', '--env', 'staging', '--repo', git.url(repository), '--json'],
        env(),
      );
      expect(history.code).toBe(0);
      const [record] = JSON.parse(history.stdout).records;
      expect(record).toMatchObject({
        version: '6.0.0',
        sha256: built.digest,
        modelcar: {
          ref: `oci://${registry.host}/models/breast-cancer`,
          sha256: modelcarUri.split('@sha256:')[1],
        },
      });
      const table = await mlops(['history', '--env', 'staging', '--repo', git.url(repository)], env());
      expect(table.stdout).toMatch(/PACKAGE\s+MODELCAR/);
      expect(table.stdout).toContain(`sha256:${modelcarUri.split('@sha256:')[1].slice(0, 12)}`);
    });
  },
);

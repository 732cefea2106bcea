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
import { cp, mkdir, readdir, readFile, readlink, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Ajv2020 } from 'ajv/dist/2020.js';
import formatsModule from 'ajv-formats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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
import {
  ociToolsMissing,
  type ReferrersStandIn,
  type Registry,
  seedBaseImage,
  skopeo,
  startReferrersStandIn,
  startRegistry,
} from '../harness/oci-registry.ts';
import { repoRoot } from '../harness/run-action.ts';
import { temporaryDirectory } from '../helpers/example.ts';
import { makeTestPackage, TEST_LINEAGE } from '../helpers/packages.ts';

const missing = ociToolsMissing();
if (missing.length > 0 && process.env.CI === 'true') {
  throw new Error(
    `test/integration/oci.test.ts needs the Debian packages ${missing.join(', ')} (CI installs them: .ci/run).`,
  );
}
const cli = join(repoRoot, 'dist/cli/index.js');

interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

async function mlops(args: string[], env: Record<string, string> = {}, input?: string): Promise<CliRun> {
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      [cli, ...args],
      { cwd: repoRoot, maxBuffer: 64 << 20, env: { ...process.env, ...env } },
      (error, stdout, stderr) =>
        resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
    if (input !== undefined) child.stdin?.end(input);
  });
}

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
    if (dir) await rm(dir, { recursive: true, force: true });
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

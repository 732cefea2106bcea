/**
 * runOciPush and runOciPull (src/core/flows/oci.ts), in process, against docker-registry behind the
 * stand-in that demands a Basic credential: which credential goes (the user given, else the
 * environment's; the password from the port, else the environment's; `mlops` when only a password is
 * set; none when nothing is), the package pushed and pulled back, and the mistakes refused before any
 * registry is contacted, in the adapter's own words.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OCI_FLAG_NAMES } from '../../src/cli/commands/oci.ts';
import { ConfigurationError } from '../../src/core/errors.ts';
import {
  type OciPorts,
  type OciPushRequest,
  pullWithEnvironmentCredential,
  REGISTRY_ENV,
  runOciPull,
  runOciPush,
} from '../../src/core/flows/oci.ts';
import { silentLogger } from '../../src/core/logger.ts';
import type { BuiltPackage } from '../../src/core/package/build-package.ts';
import { verifyPackage } from '../../src/core/package/verify-package.ts';
import {
  ociToolsMissing,
  type ReferrersStandIn,
  type Registry,
  seedBaseImage,
  startReferrersStandIn,
  startRegistry,
} from '../harness/oci-registry.ts';
import { temporaryDirectory } from '../helpers/example.ts';
import { makeTestPackage } from '../helpers/packages.ts';

const ports: OciPorts = { logger: silentLogger };
const withPassword = (password: string): OciPorts => ({ ...ports, readPassword: async () => password });
/** Nothing listens here: a request that reached the registry would fail with another message. */
const CLOSED = '127.0.0.1:9/models/none:1.0.0';

let built: BuiltPackage;

beforeAll(async () => {
  built = await makeTestPackage({ version: '4.0.0' });
}, 120_000);

const push = (request: Partial<OciPushRequest>, using: OciPorts = ports) =>
  runOciPush(
    {
      package: built.directory,
      to: CLOSED,
      modelcar: false,
      platforms: [],
      hostEnv: {},
      plainHttp: true,
      names: OCI_FLAG_NAMES,
      ...request,
    },
    using,
  );

describe('runOciPush: refused before any registry is contacted', () => {
  it('takes os/arch/variant platforms (linux/arm64/v8): the push goes on to the registry', async () => {
    const error = await push({ modelcar: true, platforms: ['linux/arm64/v8', 'linux/amd64'] }).catch(
      (e: unknown) => e,
    );
    expect((error as Error).message).not.toMatch(/is not os\/arch/);
    expect((error as Error).message).toContain(CLOSED.replace(/^oci:\/\//, '').split('/')[0]);
  });

  it('hands the base image to the push: one not pinned by digest is refused there', async () => {
    await expect(push({ modelcar: true, baseImage: 'example.invalid/base:latest' })).rejects.toThrow(
      /^--base-image example\.invalid\/base:latest is not pinned by digest/,
    );
  });

  it('is an internal error to ask for the password from a port the adapter did not give', async () => {
    await expect(push({ passwordFromPort: true, username: 'robot' })).rejects.toThrow(
      /^runOci: passwordFromPort without a readPassword port$/,
    );
  });

  it.each([
    [
      { baseImage: 'example.invalid/base@sha256:00' },
      'mlops oci push: --base-image goes with --modelcar (it shapes the modelcar image).',
    ],
    [
      { platforms: ['linux/amd64'] },
      'mlops oci push: --platform goes with --modelcar (it shapes the modelcar image).',
    ],
    [
      { modelcar: true, platforms: ['linux/amd64', 'linux'] },
      'mlops oci push: --platform "linux" is not os/arch[/variant], e.g. linux/amd64 or linux/arm64.',
    ],
    [
      { modelcar: true, platforms: ['!linux/amd64'] },
      'mlops oci push: --platform "!linux/amd64" is not os/arch[/variant], e.g. linux/amd64 or linux/arm64.',
    ],
    [
      { modelcar: true, platforms: ['linux/amd64!'] },
      'mlops oci push: --platform "linux/amd64!" is not os/arch[/variant], e.g. linux/amd64 or linux/arm64.',
    ],
    [
      { username: 'robot' },
      `mlops oci: a registry user is given (--username) without a password: set $${REGISTRY_ENV.password} or use --password-stdin.`,
    ],
    [
      { hostEnv: { [REGISTRY_ENV.username]: 'robot' } },
      `mlops oci: a registry user is given ($${REGISTRY_ENV.username}) without a password: set $${REGISTRY_ENV.password} or use --password-stdin.`,
    ],
  ] as [Partial<OciPushRequest>, string][])('%o', async (request, message) => {
    const error = await push(request).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigurationError);
    expect((error as Error).message).toBe(message);
  });

  it('an empty password read through the port', async () => {
    await expect(push({ passwordFromPort: true }, withPassword(''))).rejects.toThrow(
      'mlops oci: --password-stdin read an empty password.',
    );
  });
});

// With CI=true a missing part fails the run instead of skipping (.ci/run installs it).
const registryMissing = ociToolsMissing().includes('docker-registry');
if (registryMissing && process.env.CI === 'true') {
  throw new Error(
    'test/unit/flows-oci.test.ts needs the Debian package docker-registry (CI installs it: .ci/run).',
  );
}

describe.skipIf(registryMissing)('runOciPush and runOciPull with a credential', () => {
  let registry: Registry;
  let robot: ReferrersStandIn;
  let mlops: ReferrersStandIn;

  beforeAll(async () => {
    registry = await startRegistry();
    robot = await startReferrersStandIn(registry, {
      auth: { scheme: 'basic', username: 'robot', password: 'pa55' },
    });
    mlops = await startReferrersStandIn(registry, {
      auth: { scheme: 'basic', username: 'mlops', password: 't0ken' },
    });
  }, 120_000);

  afterAll(async () => {
    await robot?.stop();
    await mlops?.stop();
    await registry?.stop();
  });

  it('sends the environment credential, and pulls the package back with it', async () => {
    const hostEnv = { [REGISTRY_ENV.username]: 'robot', [REGISTRY_ENV.password]: 'pa55' };
    const to = `${robot.host}/models/env:4.0.0`;
    const pushed = await push({ to, hostEnv });
    expect(pushed.reference).toBe(to);
    const out = join(await temporaryDirectory('flows-oci-'), 'pulled');
    const pulled = await runOciPull(
      { reference: to, out, hostEnv, plainHttp: true, names: OCI_FLAG_NAMES },
      ports,
    );
    expect(pulled.digest).toBe(pushed.digest);
    expect(pulled.manifest.package).toMatchObject({ name: 'breast-cancer', version: '4.0.0' });
    expect((await verifyPackage(pulled.folder)).passed).toBe(true);
  });

  it('takes the given user over the environment, and the password from the port over the environment', async () => {
    const hostEnv = { [REGISTRY_ENV.username]: 'someone', [REGISTRY_ENV.password]: 'wrong' };
    const pushed = await push(
      { to: `${robot.host}/models/port:4.0.0`, username: 'robot', passwordFromPort: true, hostEnv },
      withPassword('pa55'),
    );
    expect(pushed.digest).toMatch(/^sha256:/);
    await expect(push({ to: `${robot.host}/models/port:4.0.0`, username: 'robot', hostEnv })).rejects.toThrow(
      /refused the credential/,
    );
  });

  it('sends a password alone as the user mlops', async () => {
    const pushed = await push({
      to: `${mlops.host}/models/token:4.0.0`,
      hostEnv: { [REGISTRY_ENV.password]: 't0ken' },
    });
    expect(pushed.digest).toMatch(/^sha256:/);
  });

  it('sends nothing when nothing is set, and the refusal says where the credential comes from', async () => {
    const error = await push({ to: `${robot.host}/models/anonymous:4.0.0` }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigurationError);
    expect((error as Error).message).toContain(`${REGISTRY_ENV.username} and ${REGISTRY_ENV.password}`);
    const anonymous = robot.requests.filter((r) => r.path.includes('/models/anonymous/'));
    expect(anonymous.length).toBeGreaterThan(0);
    expect(anonymous.every((r) => r.authorization === 'none')).toBe(true);
  });

  it('pulls for serving with the environment credential, a password alone as mlops, else anonymously', async () => {
    const to = `${robot.host}/models/serve:4.0.0`;
    const pushed = await push({
      to,
      hostEnv: { [REGISTRY_ENV.username]: 'robot', [REGISTRY_ENV.password]: 'pa55' },
    });
    const folder = await temporaryDirectory('flows-oci-serve-');
    const pull = (hostEnv: Record<string, string>) =>
      pullWithEnvironmentCredential({ hostEnv, plainHttp: true, logger: silentLogger });
    const robotEnv = { [REGISTRY_ENV.username]: 'robot', [REGISTRY_ENV.password]: 'pa55' };
    const pulled = (await pull(robotEnv)(to, join(folder, 'robot'))) as { digest: string };
    expect(pulled.digest).toBe(pushed.digest);

    const token = `${mlops.host}/models/serve-token:4.0.0`;
    await push({ to: token, hostEnv: { [REGISTRY_ENV.password]: 't0ken' } });
    await expect(
      pull({ [REGISTRY_ENV.password]: 't0ken' })(token, join(folder, 'token')),
    ).resolves.toBeDefined();

    await expect(pull({ [REGISTRY_ENV.username]: 'robot' })(to, join(folder, 'anonymous'))).rejects.toThrow(
      `${REGISTRY_ENV.username} and ${REGISTRY_ENV.password} (a token that may pull the repository)`,
    );
  });
  it('hands the platforms to the modelcar push: the ones asked for, else the defaults (linux/amd64, linux/arm64)', async () => {
    // A two-platform base (linux/amd64, linux/arm64) on the registry itself, read anonymously.
    const baseImage = await seedBaseImage(registry.host, 'base/busybox', { index: true });
    const modelcar = (platforms: string[]) =>
      push({ to: `${registry.host}/models/modelcar:4.0.0`, modelcar: true, baseImage, platforms });
    expect((await modelcar([])).modelcar?.platforms).toEqual(['linux/amd64', 'linux/arm64']);
    expect((await modelcar(['linux/arm64'])).modelcar?.platforms).toEqual(['linux/arm64']);
  });
});

/**
 * startServing (src/core/flows/serve.ts), in process: a real package (the logistic regression with
 * its non-tensor ZipMap output) served by ONNX Runtime on loopback: the defaults and what the request
 * overrides (address, port, request limit), whether it listens beyond this machine, the skipped
 * output said, and the mistakes refused before the package is opened, in the adapter's own words,
 * with nothing left open when it fails.
 */
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ConfigurationError } from '../../src/core/errors.ts';
import { type ServeRequest, type Serving, startServing } from '../../src/core/flows/serve.ts';
import { silentLogger } from '../../src/core/logger.ts';
import type { BuiltPackage } from '../../src/core/package/build-package.ts';
import { unpackPackage } from '../../src/core/package/verify-package.ts';
import { makeTestPackage } from '../helpers/packages.ts';

const NAMES = { command: 'mlops serve', host: '--host', port: '--port', maxRequestMb: '--max-request-mb' };

let built: BuiltPackage;

beforeAll(async () => {
  built = await makeTestPackage({ version: '5.0.0' });
}, 120_000);

const serve = (request: Partial<ServeRequest>, warnings: string[] = []) =>
  startServing(
    { package: built.directory, port: '0', names: NAMES, ...request },
    { logger: { ...silentLogger, warning: (message) => warnings.push(message) } },
  );

/** Runs `check` on a package being served, then stops serving it. */
async function whileServing(
  request: Partial<ServeRequest>,
  check: (serving: Serving) => Promise<void>,
): Promise<void> {
  const serving = await serve(request);
  try {
    await check(serving);
  } finally {
    await serving.server.close();
    await serving.close();
  }
}

/** One infer request of `rows` zero rows of every input. */
async function infer(url: string, name: string, rows = 1): Promise<Response> {
  const metadata = (await (await fetch(`${url}/v2/models/${name}`)).json()) as {
    inputs: { name: string; datatype: string; shape: number[] }[];
  };
  const inputs = metadata.inputs.map((input) => {
    const width = input.shape.slice(1).reduce((a, b) => a * b, 1);
    return {
      name: input.name,
      datatype: input.datatype,
      shape: [rows, ...input.shape.slice(1)],
      data: new Array(rows * width).fill(0),
    };
  });
  return fetch(`${url}/v2/models/${name}/infer`, { method: 'POST', body: JSON.stringify({ inputs }) });
}

describe('startServing', () => {
  it('serves the package on 127.0.0.1 and answers infer; the ZipMap output is said to be skipped', async () => {
    const warnings: string[] = [];
    const serving = await serve({}, warnings);
    try {
      expect(serving.host).toBe('127.0.0.1');
      expect(serving.exposed).toBe(false);
      expect(serving.server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect([serving.model.name, serving.model.version]).toEqual(['breast-cancer', '5.0.0']);
      const answer = await infer(serving.server.url, serving.model.name);
      expect(answer.status).toBe(200);
      expect(warnings).toEqual([
        expect.stringMatching(/^output "output_probability" \(.*\) is not a tensor/),
      ]);
    } finally {
      await serving.server.close();
      await serving.close();
    }
  });

  it('gives the archive digest when serving the archive', async () => {
    await whileServing({ package: built.archive }, async (serving) => {
      expect(serving.digest).toBe(built.digest);
    });
  });

  it('listens where the request says, and knows when that is beyond loopback', async () => {
    await whileServing({ host: '127.0.0.2' }, async (serving) => {
      expect(serving.server.url).toMatch(/^http:\/\/127\.0\.0\.2:\d+$/);
      expect(serving.exposed).toBe(true);
    });
  });

  it('counts localhost as loopback, not exposed', async () => {
    await whileServing({ host: 'localhost' }, async (serving) => {
      expect(serving.exposed).toBe(false);
    });
  });

  it('takes the highest port, 65535, and refuses a port with trailing text', async () => {
    // 65535 may be taken on this machine: then the refusal is "in use", never the port's form.
    const outcome = await serve({ port: '65535' }).then(
      async (serving) => {
        await serving.server.close();
        await serving.close();
        return 'served';
      },
      (error: Error) => error.message,
    );
    expect(outcome).not.toMatch(/must be a whole number/);
    await expect(serve({ port: '80 ' })).rejects.toThrow(
      'mlops serve: --port must be a whole number from 0 to 65535; got "80 ".',
    );
  });

  it('serves an oci:// reference through the pull port', async () => {
    const reference = 'oci://registry.example/models/breast-cancer:5.0.0';
    const pulled: string[] = [];
    const serving = await startServing(
      { package: reference, port: '0', names: NAMES },
      {
        logger: silentLogger,
        // As the adapters give it (the real pull: test/integration/oci.test.ts).
        pull: async (from, folder) => {
          pulled.push(from);
          await unpackPackage(built.archive, folder);
        },
      },
    );
    try {
      expect(pulled).toEqual([reference]);
      expect(serving.server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    } finally {
      await serving.server.close();
      await serving.close();
    }
  });

  it('refuses bodies over the request limit', async () => {
    await whileServing({ maxRequestMb: '0.001' }, async (serving) => {
      expect((await infer(serving.server.url, serving.model.name, 1)).status).toBe(200);
      const refused = await infer(serving.server.url, serving.model.name, 200);
      expect(refused.status).toBe(400);
      // 0.001 MiB, rounded to whole bytes.
      expect(((await refused.json()) as { error: string }).error).toMatch(
        /more than this server's limit of 1049\./,
      );
    });
  });

  it('names the flags when the port is taken', async () => {
    const first = await serve({});
    try {
      const port = new URL(first.server.url).port;
      const error = await serve({ port }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ConfigurationError);
      expect((error as Error).message).toBe(
        `mlops serve: Port ${port} on 127.0.0.1 is in use: choose another port (or stop what listens there). (--host, --port)`,
      );
    } finally {
      await first.server.close();
      await first.close();
    }
  });

  it.each([
    [{ port: '70000' }, 'mlops serve: --port must be a whole number from 0 to 65535; got "70000".'],
    [{ port: '-1' }, 'mlops serve: --port must be a whole number from 0 to 65535; got "-1".'],
    [{ port: '80.5' }, 'mlops serve: --port must be a whole number from 0 to 65535; got "80.5".'],
    [{ maxRequestMb: '0' }, 'mlops serve: --max-request-mb must be a positive number; got "0".'],
    [{ maxRequestMb: 'lots' }, 'mlops serve: --max-request-mb must be a positive number; got "lots".'],
  ] as [Partial<ServeRequest>, string][])(
    'refuses %o before opening the package',
    async (request, message) => {
      // A package that does not exist: opening it would fail with another message.
      const error = await serve({ package: join(built.directory, 'missing'), ...request }).catch(
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(ConfigurationError);
      expect((error as Error).message).toBe(message);
    },
  );
});

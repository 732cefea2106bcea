// One ESM bundle per action under dist/<action>/index.js (plus its lazily loaded chunks) and the
// CLI under dist/cli/index.js.
import { readdirSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const actions = readdirSync(join(root, 'actions'), { withFileTypes: true })
  .filter((entry) => entry.isDirectory())
  .map((entry) => entry.name);

// ESM bundles have no `require`; some dependencies still call it for Node built-ins.
const banner =
  "import { createRequire as __createRequire } from 'node:module';\nconst require = __createRequire(import.meta.url);";

// Every bundle folder carries the worker that profiles columns on a second core.
const profileWorker = join(root, 'src/core/data/profile-worker.ts');

await rm(join(root, 'dist'), { recursive: true, force: true });
const common = {
  bundle: true,
  platform: 'node',
  target: 'node24',
  format: 'esm',
  sourcemap: 'linked',
  legalComments: 'none',
  logLevel: 'warning',
  external: ['onnxruntime-node'],
  // Dynamic imports (Parquet decoders, the YAML parser) become chunks loaded only when needed,
  // which keeps the action's start-up short. Each dist/<name>/ folder stays self-contained.
  splitting: true,
  chunkNames: 'chunks/[name]-[hash]',
};
await Promise.all([
  ...actions.map((name) =>
    build({
      ...common,
      entryPoints: { index: join(root, 'src/actions', `${name}.ts`), 'profile-worker': profileWorker },
      outdir: join(root, 'dist', name),
      banner: { js: banner },
    }),
  ),
  build({
    ...common,
    entryPoints: { index: join(root, 'src/cli/index.ts'), 'profile-worker': profileWorker },
    outdir: join(root, 'dist/cli'),
    banner: { js: `#!/usr/bin/env node\n${banner}` },
  }),
]);

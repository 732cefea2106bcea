/**
 * Temporary folders for tests: made under the system's temporary folder and removed after the
 * test file's last test, so a test neither cleans up by hand nor leaves folders behind in /tmp.
 *
 * Why one registry and one `afterAll` registered when this module is imported: vitest only accepts
 * `afterAll` while it collects a file (at the top level or in a `describe` body). Most tests make
 * their folders inside a test or a `beforeAll`, where registering a hook fails, and `onTestFinished`
 * (which does work inside a test) would remove a folder made in one test but used by the next, and
 * cannot be called from a `beforeAll`. So every folder goes into this module's list, and the single
 * `afterAll` below, registered on the file's root suite while the file's imports are evaluated,
 * removes them all. Each test file gets its own copy of this module (vitest isolates files, the
 * default; this project's pool is 'forks'), hence its own list and its own hook. Hooks registered
 * first run last (`sequence.hooks: 'stack'`, the default), so the folders are still there while the
 * file's own `afterAll` hooks stop the servers and processes that use them.
 *
 * Import this module statically (directly or through test/helpers/example.ts): imported for the
 * first time from inside a test, it could not register its hook, and says so.
 */
import { mkdtempSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';

const folders = new Set<string>();

try {
  afterAll(async () => {
    const made = [...folders];
    folders.clear();
    await Promise.all(made.map((folder) => rm(folder, { recursive: true, force: true, maxRetries: 3 })));
  });
} catch (error) {
  throw new Error(
    'test/helpers/temp.ts must be imported while vitest collects the test file (a static import), ' +
      'not first from inside a test: it registers the afterAll that removes the folders',
    { cause: error },
  );
}

/** A fresh folder `<tmpdir>/<prefix>XXXXXX`, removed after the test file's last test. */
export async function temporaryFolder(prefix = 'mlops-test-'): Promise<string> {
  const folder = await mkdtemp(join(tmpdir(), prefix));
  folders.add(folder);
  return folder;
}

/** `temporaryFolder` for synchronous code (a `describe` body, a synchronous hook or helper). */
export function temporaryFolderSync(prefix = 'mlops-test-'): string {
  const folder = mkdtempSync(join(tmpdir(), prefix));
  folders.add(folder);
  return folder;
}

/**
 * SHA-256 of input files. A large data file is hashed on a worker thread, on the second core,
 * while the main thread parses the same file.
 */
import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { Worker } from 'node:worker_threads';

/**
 * The worker's code, inline so bundles need no extra file. process.getBuiltinModule works whether
 * the evaluated code runs as CommonJS (the default) or as a module (a parent started with
 * --input-type=module passes that on), where `require` would not exist.
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = process.getBuiltinModule('node:worker_threads');
const { createHash } = process.getBuiltinModule('node:crypto');
const { createReadStream } = process.getBuiltinModule('node:fs');
const hash = createHash('sha256');
let bytes = 0;
createReadStream(workerData, { highWaterMark: 1 << 20 })
  .on('data', (chunk) => { bytes += chunk.length; hash.update(chunk); })
  .on('error', (error) => parentPort.postMessage({ error: error.message }))
  .on('end', () => parentPort.postMessage({ sha256: hash.digest('hex'), bytes }));
`;

export interface FileDigest {
  sha256: string;
  bytes: number;
}

/**
 * Below this size a worker costs more to start (~20 ms) than hashing in place: the one threshold of
 * every hash worker (this file's, and the ZIP writer's entry hashes in zip/zip.ts).
 */
export const HASH_WORKER_THRESHOLD = 16 * 1024 * 1024;

/** SHA-256 (hex) and size of a file; large files are hashed on a worker thread. */
export async function digestFile(path: string): Promise<FileDigest> {
  const { size } = await stat(path);
  if (size < HASH_WORKER_THRESHOLD) {
    const bytes = await readFile(path);
    return { sha256: createHash('sha256').update(bytes).digest('hex'), bytes: bytes.length };
  }
  return digestOnWorker(path);
}

function digestOnWorker(path: string): Promise<FileDigest> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: path });
    worker.once('message', (message: FileDigest & { error?: string }) => {
      void worker.terminate();
      if (message.error) reject(new Error(`cannot hash ${path}: ${message.error}`));
      else resolve({ sha256: message.sha256, bytes: message.bytes });
    });
    worker.once('error', reject);
  });
}

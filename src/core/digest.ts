/**
 * SHA-256 of input files, computed on a worker thread so that hashing a large data file runs on
 * the second core while the main thread parses the same file.
 */
import { Worker } from 'node:worker_threads';

/** The worker's code, inline so bundles need no extra file. */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { createHash } = require('node:crypto');
const { createReadStream } = require('node:fs');
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

/** SHA-256 (hex) and size of a file, hashed on a worker thread. */
export function digestFile(path: string): Promise<FileDigest> {
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

// Shared by the benchmarks: runs a command as a child process and measures its wall time and
// peak resident memory, the same way for every benchmark so their figures compare.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const GNU_TIME = '/usr/bin/time';

/** Whether peak RSS comes from GNU time (the kernel's ru_maxrss); else from polling /proc. */
export const peakRss = {
  gnuTime: (() => {
    if (!existsSync(GNU_TIME)) return false;
    const r = spawnSync(GNU_TIME, ['-f', '%M', 'true'], { encoding: 'utf8' });
    return r.status === 0 && /^\d+\s*$/.test(r.stderr.trim().split('\n').at(-1) ?? '');
  })(),
};

export function round(x, digits) {
  const p = 10 ** digits;
  return Math.round(x * p) / p;
}

/**
 * Runs `cmd args` and resolves { wall_s, peak_rss_mb, code, stdout, stderr }.
 * wall_s is measured here (spawn to exit); peak RSS from GNU time, or /proc polling every 10 ms.
 */
export function measure(cmd, args, { env = process.env, cwd = process.cwd() } = {}) {
  return new Promise((resolve, reject) => {
    let timeFile = null;
    let file = cmd;
    let argv = args;
    if (peakRss.gnuTime) {
      timeFile = join(tmpdir(), `mlops-bench-time-${process.pid}-${Math.random().toString(36).slice(2)}`);
      file = GNU_TIME;
      argv = ['-f', '%M', '-o', timeFile, cmd, ...args];
    }
    const started = process.hrtime.bigint();
    const child = spawn(file, argv, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    const out = [];
    const err = [];
    child.stdout.on('data', (d) => out.push(d));
    child.stderr.on('data', (d) => err.push(d));
    let hwmKb = 0;
    const poll = peakRss.gnuTime
      ? null
      : setInterval(() => {
          try {
            const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
            const m = /VmHWM:\s+(\d+)/.exec(status) ?? /VmRSS:\s+(\d+)/.exec(status);
            if (m) hwmKb = Math.max(hwmKb, Number(m[1]));
          } catch {
            // the process has exited
          }
        }, 10);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      const wall = Number(process.hrtime.bigint() - started) / 1e9;
      if (poll) clearInterval(poll);
      let stderr = Buffer.concat(err).toString('utf8');
      if (timeFile) {
        try {
          // GNU time writes "Command exited with non-zero status N" before the format line.
          hwmKb = Number(readFileSync(timeFile, 'utf8').trim().split('\n').at(-1));
        } catch {
          hwmKb = Number.NaN;
        }
        rmSync(timeFile, { force: true });
      }
      if (signal) stderr += `\n(killed by ${signal})`;
      resolve({
        wall_s: round(wall, 3),
        peak_rss_mb: round(hwmKb / 1024, 1),
        code: code ?? 128,
        stdout: Buffer.concat(out).toString('utf8'),
        stderr,
      });
    });
  });
}

/** The last step every gate's flow shares: its JSON report written where the request says. */
import { writeJsonAtomic } from '../files.ts';

/**
 * Writes `report` to `path` (atomically), nothing when the request names no path (the CLI without
 * `--report`); returns the report with where it went, for the adapter's outputs and messages.
 */
export async function writeReport<Report>(
  report: Report,
  path: string | undefined,
): Promise<{ report: Report; reportPath?: string }> {
  if (path === undefined) return { report };
  await writeJsonAtomic(path, report);
  return { report, reportPath: path };
}

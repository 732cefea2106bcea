/**
 * The `smoke-test` report (version 1) of the serving smoke test (src/core/serve/smoke-test.ts), its
 * JSON Schema being src/core/schemas/smoke-test-report.schema.json. Its types live here, with the
 * other report kinds' readers, so that the report renderers need nothing of the server.
 */
import type { TOOL_NAME } from '../version.ts';

export const SMOKE_TEST_CHECKS = ['package', 'load', 'health', 'metadata', 'parity', 'latency'] as const;
export type SmokeTestCheckName = (typeof SMOKE_TEST_CHECKS)[number];

export interface SmokeTestCheck {
  check: SmokeTestCheckName;
  status: 'passed' | 'failed' | 'skipped';
  /** One sentence with the numbers. */
  reason: string;
}

/** `{name, datatype, shape}` of the protocol's metadata. */
export interface MetadataTensor {
  name: string;
  datatype: string;
  shape: number[];
}

/** The `smoke-test` report, version 1. */
export interface SmokeTestReport {
  kind: 'smoke-test';
  version: 1;
  tool: { name: typeof TOOL_NAME; version: string };
  passed: boolean;
  package: {
    path: string;
    name: string | null;
    version: string | null;
    /** sha256 of the archive (null for a folder). */
    digest: string | null;
    contentSha256: string | null;
  };
  server: {
    protocol: 'open-inference-v2-rest';
    /** Where it listened (loopback, a free port). */
    url: string | null;
    /** From opening the package to answering requests, in ms. */
    startMs: number | null;
  };
  checks: SmokeTestCheck[];
  metadata?: { inputs: MetadataTensor[]; outputs: MetadataTensor[]; mismatches: string[] };
  parity?: {
    golden: string;
    source: 'package' | 'given';
    atol: number;
    rtol: number;
    /** Where the tolerances came from. */
    toleranceSource: string;
    rows: number;
    requests: number;
    passed: boolean;
    maxAbsDiff: number | null;
    mismatches: number;
    worst: {
      output: string;
      row: number;
      index: number;
      expected: number | null;
      actual: number | null;
      absDiff: number | null;
    }[];
  };
  latency?: {
    runs: number;
    warmupRuns: number;
    p50Ms: number;
    p95Ms: number;
    p99Ms: number;
    maxMs: number;
    /** The rows sent: the golden file's, or zeros when there is none. */
    input: 'golden' | 'zeros';
    budget: { limitMs: number; source: string } | null;
    /** null when there is no budget. */
    passed: boolean | null;
  };
}

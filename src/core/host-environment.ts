/**
 * The environment variables of the process an adapter runs in. The engine reads no environment
 * variable itself (test/unit/layering.test.ts checks it): the action or the CLI passes its
 * environment in, and core picks what it needs (GITHUB_* for lineage and URLs, PATH, HOME and
 * proxies for git), so every input of a flow is in its request and a test can hand it any
 * environment.
 */
export type HostEnvironment = Readonly<Record<string, string | undefined>>;

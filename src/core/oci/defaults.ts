/**
 * The OCI defaults the CLI's help shows: constants only, so that `mlops --help` and the commands
 * that only name them do not load the registry client (and node:http with it) at start.
 */

/** The environment variables a registry credential is read from. */
export const REGISTRY_ENV = {
  username: 'MLOPS_REGISTRY_USERNAME',
  password: 'MLOPS_REGISTRY_PASSWORD',
} as const;

/**
 * The default base: BusyBox 1.37.0 (sh, ln, sleep in about 2 MB) from Google's mirror of Docker
 * Hub (Docker Hub limits anonymous pulls from the runners' shared addresses), pinned by the digest
 * of its image index. A digest is the content's own address: a registry cannot answer other bytes
 * for it (the client checks), so pinning needs no trust in the mirror.
 */
export const DEFAULT_BASE_IMAGE =
  'mirror.gcr.io/library/busybox:1.37.0@sha256:bdf57e528e45e4433820e045b29b4597825a1c9e38353532d90a01445013f82e';

/** Platforms taken from a multi-platform base, by default. */
export const DEFAULT_PLATFORMS = ['linux/amd64', 'linux/arm64'] as const;

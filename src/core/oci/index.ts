/**
 * Model packages in OCI registries: `pushPackage` (a ModelPack artifact, a KServe modelcar, the
 * provenance as a referrer) and `pullPackage` (back into a package folder). The signatures of
 * these two are stable: other parts (mlops serve) read packages from OCI references through them.
 */
export type { RegistryCredential } from './auth.ts';
export { DEFAULT_BASE_IMAGE, DEFAULT_PLATFORMS } from './modelcar.ts';
export { MODELPACK } from './modelpack.ts';
export { type PulledPackage, type PullOptions, pullPackage } from './pull.ts';
export { type PushOptions, type PushResult, pushPackage } from './push.ts';
export { formatOciReference, type OciReference, parseOciReference } from './reference.ts';
export { OCI_TIME_LIMITS, type TransferStats } from './registry-client.ts';

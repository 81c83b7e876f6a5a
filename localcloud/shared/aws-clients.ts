/**
 * Client configuration for the local AWS data plane (moto). Credentials are dummies:
 * moto accepts any signature, and we must never pick up a developer's real profile.
 */

/** The dummy credentials of every local client (SDK or CLI); moto maps keys it did not issue to its default account. */
export const LOCAL_CREDENTIALS = { accessKeyId: 'localcloud', secretAccessKey: 'localcloud' } as const;

export interface AwsEndpointOptions {
  awsEndpoint: string;
  region: string;
}

export interface LocalClientConfig {
  endpoint: string;
  region: string;
  credentials: { accessKeyId: string; secretAccessKey: string };
  maxAttempts: number;
}

export function localClientConfig(opts: AwsEndpointOptions): LocalClientConfig {
  return {
    endpoint: opts.awsEndpoint,
    region: opts.region,
    credentials: { ...LOCAL_CREDENTIALS },
    maxAttempts: 3,
  };
}

/** The SDK's service exceptions carry the AWS error code in `name`. */
export function isAwsError(err: unknown, ...names: string[]): boolean {
  return err instanceof Error && names.includes(err.name);
}

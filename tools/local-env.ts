/**
 * A local cloud accepts any credentials, but the SDK refuses to sign without some:
 * give it dummy ones when the environment has none. Real credentials, when present,
 * are left alone, so the same scripts work against AWS.
 */
export function useDummyCredentialsIfUnset(): void {
  process.env.AWS_ACCESS_KEY_ID ??= 'test';
  process.env.AWS_SECRET_ACCESS_KEY ??= 'test';
  process.env.AWS_REGION ??= process.env.AWS_DEFAULT_REGION ?? 'us-east-1';
  // The SDK's warning about Node 22 is about releases after January 2027; the lock file pins older ones.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
}

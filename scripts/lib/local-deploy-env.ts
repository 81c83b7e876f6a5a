/**
 * The environment `npm run deploy:local` runs the CDK CLI in: the local endpoint for every
 * service, and dummy credentials in place of whatever the shell holds, so that a
 * misconfigured endpoint fails instead of deploying to the account behind real ones.
 */
export const LOCAL_DEPLOY_CREDENTIALS = { AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test' };

/** Each of these could point the CLI back at an account: a profile's credentials or its own endpoint_url. */
const ACCOUNT_POINTERS = ['AWS_SESSION_TOKEN', 'AWS_SECURITY_TOKEN', 'AWS_PROFILE', 'AWS_DEFAULT_PROFILE', 'AWS_IGNORE_CONFIGURED_ENDPOINT_URLS', 'CDK_DEFAULT_ACCOUNT'];

export function pinToLocalCloud(env: NodeJS.ProcessEnv, endpoint: string): NodeJS.ProcessEnv {
  for (const name of ACCOUNT_POINTERS) delete env[name];
  for (const name of Object.keys(env)) if (name.startsWith('AWS_ENDPOINT_URL_')) delete env[name];
  Object.assign(env, LOCAL_DEPLOY_CREDENTIALS, { AWS_ENDPOINT_URL: endpoint, AWS_ENDPOINT_URL_S3: endpoint });
  env.AWS_REGION ??= env.AWS_DEFAULT_REGION ?? 'us-east-1';
  env.CDK_DISABLE_VERSION_CHECK = 'true';
  return env;
}

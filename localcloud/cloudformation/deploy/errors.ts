/**
 * Named deployment errors. Every message says which stack and which logical id
 * (or template path) is at fault, because the developer's fix is in their CDK code.
 */
export class DeployError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** manifest.json, a template or an asset manifest is missing or malformed. */
export class AssemblyError extends DeployError {}

/** A template over one of CloudFormation's quotas (resources per stack, template size), which AWS refuses too. */
export class TemplateLimitError extends AssemblyError {}

export class UnsupportedResourceTypeError extends DeployError {
  constructor(
    readonly resourceType: string,
    readonly logicalId: string,
    readonly stackName: string,
  ) {
    super(`Unsupported resource type ${resourceType} (logical id ${logicalId}) in stack ${stackName}`);
  }
}

export class UnknownIntrinsicError extends DeployError {
  constructor(
    readonly intrinsic: string,
    readonly location: string,
  ) {
    super(`Unknown intrinsic function ${intrinsic} at ${location}`);
  }
}

/** The template is well-formed JSON but asks for something inconsistent or impossible here. */
export class TemplateError extends DeployError {}

/** Creating a resource in the local data plane failed. */
export class ResourceCreationError extends DeployError {
  constructor(
    readonly logicalId: string,
    readonly resourceType: string,
    readonly stackName: string,
    cause: unknown,
  ) {
    const reason = cause instanceof Error ? `${cause.name}: ${cause.message}` : String(cause);
    super(`Creating ${resourceType} ${logicalId} in stack ${stackName} failed: ${reason}`, { cause });
  }
}

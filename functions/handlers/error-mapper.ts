/**
 * The one place where errors leave a handler. The Lambda runtime reports a
 * thrown error's `name` as errorType, so a domain refusal reaches the caller as
 * e.g. errorType "ValidationError" with the domain's message, without the
 * domain's stack trace. Anything else is a fault: logged with its stack and
 * rethrown as it is.
 */
import type { Context } from 'aws-lambda';
import type { FunctionKey, ResponseOf } from '../../protocol/functions.js';
import { DomainError } from '../domain/errors.js';
import { logKeysOf, logger, withInvocationLogging } from '../logger.js';

export function toLambdaError(error: unknown): Error {
  if (error instanceof DomainError) {
    logger.info('request refused', { errorType: error.name, code: error.code, reason: error.message });
    const mapped = new Error(error.message);
    mapped.name = error.name;
    return mapped;
  }
  const fault = error instanceof Error ? error : new Error(String(error));
  logger.error('unexpected failure', fault);
  return fault;
}

/** Runs a use case; whatever it throws leaves through `toLambdaError`. */
export async function mapDomainErrors<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    throw toLambdaError(error);
  }
}

/**
 * A request/response (invoke or schedule) handler around one use case: request
 * keys on the log lines, errors mapped. The payload goes to the domain as
 * `unknown`, because validating it is a domain rule (ValidationError names the field).
 * The use case must answer what the protocol says function `_function` answers.
 */
export const invokeHandler =
  <K extends FunctionKey>(_function: K, useCase: (payload: unknown) => Promise<ResponseOf<K>>) =>
  (payload: unknown, context?: Context): Promise<ResponseOf<K>> =>
    withInvocationLogging(context, logKeysOf(payload), () => mapDomainErrors(() => useCase(payload)));

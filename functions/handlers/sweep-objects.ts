import { sweepObjects } from '../domain/index.js';
import { FUNCTIONS } from '../function-table.js';
import { wire } from '../wiring.js';
import { invokeHandler } from './error-mapper.js';

const deps = wire(FUNCTIONS.sweepObjects);

/**
 * EventBridge schedule (every disklessSweepIntervalSeconds); the event carries nothing the
 * sweep needs. Deletes diskless objects that no committed batch points into, once their
 * batches are fenced from committing (domain/object-sweep.ts).
 */
export const handler = invokeHandler('sweepObjects', () => sweepObjects(deps));

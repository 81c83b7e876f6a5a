/**
 * A replica's log is stored as generations: each batch item is written once, at the log
 * end, into the current generation, and only then committed (the replica state's log end
 * moves past it). Nothing is ever overwritten or deleted in place. Two events start a new
 * generation at an offset: a match that cuts the log (a deposed writer's late batch then
 * lands in a generation nobody reads any more), and a batch left at the log end by a
 * writer that died before its commit (the next writer abandons it rather than guess
 * whether it will still be committed). The live log is, for each generation, its items
 * from where it starts up to where the next one starts, and below the log end.
 */
import type { GenerationStart, ReplicaState } from './model.js';

const FIRST: readonly GenerationStart[] = [{ from: 0, generation: 0 }];

export const currentGeneration = (state: Pick<ReplicaState, 'generation'>): number => state.generation ?? 0;

export const generationsOf = (state: Pick<ReplicaState, 'generations'>): readonly GenerationStart[] => state.generations ?? FIRST;

/**
 * The stored history after `generation` started at `at` (appended, so that a store can
 * record it without reading the list first: DynamoDB's list_append).
 */
export const withGenerationAt = (generations: readonly GenerationStart[], at: number, generation: number): GenerationStart[] => [
  ...generations,
  { from: at, generation },
];

/**
 * The live generations of a stored history, in offset order: a generation started at an
 * offset ends every earlier one's records from there on (a cut, or an abandoned batch).
 */
export function liveGenerations(history: readonly GenerationStart[]): GenerationStart[] {
  const live: GenerationStart[] = [];
  for (const start of history) {
    while (live.length > 0 && live[live.length - 1].from >= start.from) live.pop();
    live.push(start);
  }
  return live;
}

/** One stretch of the live log and the generation holding it: offsets [from, to). */
export interface GenerationSegment {
  generation: number;
  from: number;
  to: number;
}

/** The generations holding [from, to) of the live log, in offset order. */
export function segmentsOf(history: readonly GenerationStart[], from: number, to: number): GenerationSegment[] {
  const segments: GenerationSegment[] = [];
  const generations = liveGenerations(history);
  generations.forEach((start, i) => {
    const end = generations[i + 1]?.from ?? Number.POSITIVE_INFINITY;
    const lower = Math.max(from, start.from);
    const upper = Math.min(to, end);
    if (lower < upper) segments.push({ generation: start.generation, from: lower, to: upper });
  });
  return segments;
}

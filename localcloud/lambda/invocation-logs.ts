/**
 * The log of one invocation, in the shape CloudWatch shows for a Lambda function:
 * START, the function's own output, END, REPORT.
 */

export type LogSink = (line: string) => void;

/** Collects an invocation's output; optionally echoes each complete line as it arrives. */
export class InvocationLog {
  private readonly chunks: string[] = [];
  /** Text after the last newline, held back so the echo never splits a line. */
  private partialLine = '';

  constructor(private readonly echo?: LogSink) {}

  append(text: string): void {
    this.chunks.push(text);
    if (!this.echo) return;
    const lines = (this.partialLine + text).split('\n');
    this.partialLine = lines.pop() ?? '';
    for (const line of lines) this.echo(line);
  }

  line(text: string): void {
    this.append(`${text}\n`);
  }

  /** Flushes a trailing line that never got its newline. */
  close(): void {
    if (this.echo && this.partialLine) this.echo(this.partialLine);
    this.partialLine = '';
  }

  text(): string {
    return this.chunks.join('');
  }
}

export interface ReportFigures {
  durationMs: number;
  memorySizeMb: number;
  memoryUsedMb?: number;
  initDurationMs?: number;
}

export function startLine(requestId: string): string {
  return `START RequestId: ${requestId} Version: $LATEST`;
}

export function endLine(requestId: string): string {
  return `END RequestId: ${requestId}`;
}

export function reportLine(requestId: string, figures: ReportFigures): string {
  const fields = [
    `REPORT RequestId: ${requestId}`,
    `Duration: ${figures.durationMs.toFixed(2)} ms`,
    `Billed Duration: ${Math.max(1, Math.ceil(figures.durationMs))} ms`,
    `Memory Size: ${figures.memorySizeMb} MB`,
  ];
  if (figures.memoryUsedMb !== undefined) fields.push(`Max Memory Used: ${figures.memoryUsedMb} MB`);
  if (figures.initDurationMs !== undefined) fields.push(`Init Duration: ${figures.initDurationMs.toFixed(2)} ms`);
  return fields.join('\t');
}

export function timeoutMessage(timeoutSeconds: number): string {
  return `Task timed out after ${timeoutSeconds.toFixed(2)} seconds`;
}

/** X-Amz-Log-Result: the last 4 KB of the log, base64. Cut on bytes, as Lambda does. */
export function logTail(logs: string, maxBytes = 4096): string {
  const bytes = Buffer.from(logs, 'utf8');
  return bytes.subarray(Math.max(0, bytes.length - maxBytes)).toString('base64');
}

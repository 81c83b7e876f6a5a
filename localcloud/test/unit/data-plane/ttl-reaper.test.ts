/** The TTL reaper's schedule, without a data plane (its sweeps are stubbed; nothing here reaches DynamoDB Local). */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { TtlReaper } from '../../../data-plane/ttl-reaper.js';

const UNREACHABLE = { awsEndpoint: 'http://127.0.0.1:9', region: 'us-east-1' };

afterEach(() => {
  vi.useRealTimers();
  vi.restoreAllMocks();
});

describe('TtlReaper period', () => {
  it('sweeps every periodMs once started, and stops sweeping after stop()', async () => {
    vi.useFakeTimers();
    const reaper = new TtlReaper({ ...UNREACHABLE, periodMs: 200 });
    const sweep = vi.spyOn(reaper, 'sweepOnce').mockResolvedValue(0);
    reaper.start();
    await vi.advanceTimersByTimeAsync(1000);
    expect(sweep).toHaveBeenCalledTimes(5);
    await reaper.stop();
    await vi.advanceTimersByTimeAsync(1000);
    expect(sweep).toHaveBeenCalledTimes(5);
  });

  it('defaults to one sweep a second', async () => {
    vi.useFakeTimers();
    const reaper = new TtlReaper(UNREACHABLE);
    const sweep = vi.spyOn(reaper, 'sweepOnce').mockResolvedValue(0);
    reaper.start();
    await vi.advanceTimersByTimeAsync(3000);
    expect(sweep).toHaveBeenCalledTimes(3);
    await reaper.stop();
  });

  it.each([0, -1])('never sweeps on its own with periodMs %i', async (periodMs) => {
    vi.useFakeTimers();
    const reaper = new TtlReaper({ ...UNREACHABLE, periodMs });
    const sweep = vi.spyOn(reaper, 'sweepOnce').mockResolvedValue(0);
    reaper.start();
    await vi.advanceTimersByTimeAsync(60_000);
    expect(sweep).not.toHaveBeenCalled();
    await reaper.stop();
  });
});

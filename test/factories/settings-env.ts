import { defaultSettings, settingsEnvironment } from '../../protocol/settings.js';

/** Every tunable a function reads at cold start, as the stack sets them, with a short acks=all wait. */
export const settingsEnv: Readonly<Record<string, string>> = settingsEnvironment(
  defaultSettings({ produceAckTimeoutMs: 3000, produceAckPollMs: 25 }),
);

import { SETTINGS, parseSetting, type LeadershipSettings, type SettingName } from '../../protocol/settings.js';

/**
 * A valid value of the setting other than its default: what a test sets to see that a
 * reader takes the setting from its own variable or key rather than falling back.
 */
export function anotherValue<K extends SettingName>(name: K): LeadershipSettings[K] {
  const fallback: number | boolean = SETTINGS[name].default;
  const candidates = typeof fallback === 'boolean' ? [!fallback] : [fallback + 60, fallback - 60, 60, 0];
  const value = candidates.map((candidate) => parseSetting(name, candidate)).find((parsed) => parsed !== undefined && parsed !== fallback);
  if (value === undefined) throw new Error(`No value other than the default found for setting ${name}.`);
  return value;
}

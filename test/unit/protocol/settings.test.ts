/** The settings table: each row is consistent, and the deploy guide documents every one. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  BOOLEAN,
  PERCENTAGE,
  POSITIVE_INTEGER,
  SETTINGS,
  SETTING_NAMES,
  WHOLE_MINUTES_IN_SECONDS,
  defaultSettings,
  parseSetting,
  settingsEnvironment,
} from '../../../protocol/settings.js';

const DEPLOY_GUIDE = readFileSync(new URL('../../../docs/deploy.md', import.meta.url), 'utf8');

describe('the settings table', () => {
  it.each(SETTING_NAMES)('%s: its default passes its own check', (name) => {
    expect(parseSetting(name, SETTINGS[name].default)).toBe(SETTINGS[name].default);
    expect(parseSetting(name, String(SETTINGS[name].default))).toBe(SETTINGS[name].default);
  });

  it('gives every setting its own variable and its own context key', () => {
    const variables = SETTING_NAMES.map((name) => SETTINGS[name].env);
    const keys = SETTING_NAMES.map((name) => SETTINGS[name].context);
    expect(new Set(variables).size).toBe(SETTING_NAMES.length);
    expect(new Set(keys).size).toBe(SETTING_NAMES.length);
    for (const variable of variables) expect(variable).toMatch(/^[A-Z][A-Z0-9_]*$/);
  });

  it.each(SETTING_NAMES)('%s: the deploy guide has its line (context key, default, Kafka configuration, doc)', (name) => {
    const { context, default: fallback, kafka, doc } = SETTINGS[name];
    const line = `| \`${context}\` | ${String(fallback)} | ${kafka ? `Kafka's \`${kafka}\`: ` : ''}${doc} |`;
    expect(DEPLOY_GUIDE.split('\n'), `docs/deploy.md's context settings table has the line\n${line}`).toContain(line);
  });

  it('builds defaults with overrides, and writes each setting as its variable', () => {
    const settings = defaultSettings({ sessionTimeoutMs: 6000, replicateOnProduce: false });
    expect(settings).toMatchObject({ sessionTimeoutMs: 6000, replicateOnProduce: false, replicaLagMaxMs: SETTINGS.replicaLagMaxMs.default });
    expect(Object.keys(settings)).toEqual(SETTING_NAMES);
    const env = settingsEnvironment(settings);
    expect(env).toMatchObject({ SESSION_TIMEOUT_MS: '6000', REPLICATE_ON_PRODUCE: 'false' });
    expect(Object.keys(env)).toHaveLength(SETTING_NAMES.length);
  });
});

describe('the kinds of setting', () => {
  it.each([
    [POSITIVE_INTEGER, [1, '9000', ' 42 ', 9000], [0, -5, 1.5, '', '  ', 'abc', '12ms', '1e400', '9007199254740993', true, null]],
    [PERCENTAGE, [0, '0', 100, '55'], [-1, 101, 2.5, '', 'ten', false]],
    [WHOLE_MINUTES_IN_SECONDS, [60, '120', 3600], [0, 30, 90, 59, '', '5m', true]],
    [BOOLEAN, [true, false, 'true', 'false', ' true '], ['yes', 'on', 1, 0, '', 'TRUE', null]],
  ] as const)('%o accepts its values and refuses the rest', (kind, valid, malformed) => {
    for (const raw of valid) expect(kind.parse(raw), JSON.stringify(raw)).not.toBeUndefined();
    for (const raw of malformed) expect(kind.parse(raw), JSON.stringify(raw)).toBeUndefined();
  });
});

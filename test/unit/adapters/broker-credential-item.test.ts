import { describe, expect, it } from 'vitest';
import { MalformedItemError } from '../../../functions/adapters/dynamodb/index.js';
import { brokerCredentialFromItem, brokerCredentialItem } from '../../../functions/adapters/dynamodb/items.js';
import { brokerCredentialKey } from '../../../functions/adapters/dynamodb/keys.js';
import type { BrokerCredential } from '../../../functions/domain/model.js';

const credential: BrokerCredential = {
  brokerId: 'broker-7',
  salt: Buffer.alloc(32, 1).toString('base64'),
  hash: Buffer.alloc(32, 2).toString('base64'),
  registeredAt: 1_000,
};

describe('the broker credential item (metadata table)', () => {
  it('sits under its own key kind, beside no topic, and reads back as written', () => {
    const item = brokerCredentialItem(credential);
    expect(item).toMatchObject({ pk: 'broker#broker-7', sk: 'credential' });
    expect(brokerCredentialKey('broker-7')).toEqual({ pk: 'broker#broker-7', sk: 'credential' });
    expect(brokerCredentialFromItem(item)).toEqual(credential);
  });

  it.each([
    ['a salt that is not 32 bytes', { salt: Buffer.alloc(16).toString('base64') }, '"salt"'],
    ['a hash in non-canonical base64', { hash: `${Buffer.alloc(32, 2).toString('base64').slice(0, -1)}` }, '"hash"'],
    ['no registration time', { registeredAt: undefined }, '"registeredAt"'],
    ['another broker\'s row copied under this key', { brokerId: 'broker-8' }, '"pk"'],
  ])('refuses %s, naming the field', (_case, change, field) => {
    const item = { ...brokerCredentialItem(credential), ...change };
    expect(() => brokerCredentialFromItem(item)).toThrow(MalformedItemError);
    expect(() => brokerCredentialFromItem(item)).toThrow(field);
  });
});

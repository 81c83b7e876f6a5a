/**
 * Broker identity, modelled on Kafka's SCRAM credentials (AlterUserScramCredentials): an
 * admin registers a broker's credential, the metadata table keeps only a salted hash of it,
 * and the broker proves itself with the credential on every heartbeat and on its controlled
 * shutdown. An incarnation is no proof: describe shows every broker's to anyone.
 *
 * A generated credential is 256 random bits, so one SHA-256 over salt and credential is
 * enough; SCRAM iterates its hash (PBKDF2) to slow the guessing of passwords people chose.
 * The admin may supply the credential instead, as SCRAM lets the admin choose the password
 * (a broker restarted from its configuration keeps it; tests and demos need no secret
 * store). It must be as long as a generated one, and it is the admin's to make it random.
 *
 * Registering again replaces the stored hash at once: the old credential is refused from
 * the broker's next heartbeat on, and its lease then lapses unless it is given the new one.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { RegisterBrokerResponse } from '../../protocol/messages.js';
import type { Deps } from '../ports/index.js';
import { BrokerAuthenticationError } from './errors.js';
import type { BrokerCredential, BrokerHeartbeat, BrokerId } from './model.js';
import { parseRegisterBrokerRequest } from './requests.js';

const CREDENTIAL_BYTES = 32;
const SALT_BYTES = 32;

/**
 * 256 random bits in base64url, drawn again while it starts with '-': such a credential
 * reads as an option on a command line (`--credential -x…`), so one in 64 would need
 * `--credential=…`. The redraw leaves 6 bits of the first character 63 values: 255.98 bits.
 */
export function generatedCredential(): string {
  for (;;) {
    const credential = randomBytes(CREDENTIAL_BYTES).toString('base64url');
    if (!credential.startsWith('-')) return credential;
  }
}

export async function registerBroker(deps: Deps, input: unknown): Promise<RegisterBrokerResponse> {
  const request = parseRegisterBrokerRequest(input);
  const credential = request.credential ?? generatedCredential();
  const salt = randomBytes(SALT_BYTES);
  const rotated = await deps.metadata.putBrokerCredential({
    brokerId: request.brokerId,
    salt: salt.toString('base64'),
    hash: digest(salt, credential).toString('base64'),
    registeredAt: deps.clock.now(),
  });
  return { brokerId: request.brokerId, credential, rotated };
}

/**
 * The broker's stored lease, answered only if `credential` is the one registered for it:
 * the refusal comes before the lease is even parsed, so nothing is decided, let alone
 * written, for a caller that is not the broker.
 */
export async function authenticatedLease(deps: Deps, brokerId: BrokerId, credential: string): Promise<BrokerHeartbeat | null> {
  const identity = await deps.identity.read(brokerId);
  if (!matches(identity.credential, credential)) {
    // One wording for an unknown broker and a wrong credential: the answer tells no one which broker ids exist.
    throw new BrokerAuthenticationError(
      `broker "${brokerId}": authentication failed: the credential is not the one registered for this broker id ` +
        '(or none is); an admin registers or rotates it with RegisterBroker',
    );
  }
  return identity.lease();
}

// An unknown broker costs the same hash and comparison as a known one.
const DECOY: BrokerCredential = {
  brokerId: '',
  salt: Buffer.alloc(SALT_BYTES).toString('base64'),
  hash: Buffer.alloc(32).toString('base64'),
  registeredAt: 0,
};

function matches(stored: BrokerCredential | null, credential: string): boolean {
  const against = stored ?? DECOY;
  const equal = timingSafeEqual(digest(Buffer.from(against.salt, 'base64'), credential), Buffer.from(against.hash, 'base64'));
  return stored !== null && equal;
}

const digest = (salt: Buffer, credential: string): Buffer => createHash('sha256').update(salt).update(credential, 'utf8').digest();

import type { BrokerId } from '../../domain/model.js';
import type { BrokerIdentity, BrokerIdentityReader, BrokerRegistry, MetadataStore } from '../../ports/index.js';

/** The two reads side by side, the credential first; a lease read that failed fails `lease()`, as get would. */
export class MemoryBrokerIdentityReader implements BrokerIdentityReader {
  constructor(
    private readonly brokers: BrokerRegistry,
    private readonly metadata: MetadataStore,
  ) {}

  async read(brokerId: BrokerId): Promise<BrokerIdentity> {
    const [credential, lease] = await Promise.allSettled([this.metadata.getBrokerCredential(brokerId), this.brokers.get(brokerId)]);
    if (credential.status === 'rejected') throw credential.reason;
    return {
      credential: credential.value,
      lease: () => {
        if (lease.status === 'rejected') throw lease.reason;
        return lease.value;
      },
    };
  }
}

export { EventPublishError, SqsEventPublisher, deduplicationId, fitSqsId, groupsSpanBatches, messageGroupId } from './event-publisher.js';

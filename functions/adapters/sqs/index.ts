export { EventPublishError, SqsEventPublisher, deduplicationId, fitSqsId, messageGroupId } from './event-publisher.js';

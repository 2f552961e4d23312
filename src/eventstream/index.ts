export {
  fastEventStreamSerdeProvider,
  fastEventStreamStats,
  type EventStreamSerdeProvider,
  type FastEventStreamStats,
} from './fastEventStreamSerdeProvider.js';

// Compile-time checks of the fast event-stream decoder's API: checked by `tsc --noEmit`, never run.
import { SageMakerRuntimeClient, type SageMakerRuntimeClientConfig } from '@aws-sdk/client-sagemaker-runtime';
import {
  fastEventStreamSerdeProvider,
  fastEventStreamStats,
  type EventStreamSerdeProvider,
  type FastEventStreamStats,
} from '../../src/eventstream/index.js';

type Equals<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
function assertType<T extends true>(_: T): void {}

// It is the client option's own type, so it is passed without a cast (exactOptionalPropertyTypes on).
assertType<Equals<EventStreamSerdeProvider, NonNullable<SageMakerRuntimeClientConfig['eventStreamSerdeProvider']>>>(true);
const client = new SageMakerRuntimeClient({ region: 'us-east-1', eventStreamSerdeProvider: fastEventStreamSerdeProvider });
// Turned on or off by configuration, without passing `undefined` to the option.
declare const fast: boolean;
const maybe = new SageMakerRuntimeClient({
  region: 'us-east-1',
  ...(fast ? { eventStreamSerdeProvider: fastEventStreamSerdeProvider } : {}),
});

const stats = fastEventStreamStats(client);
assertType<Equals<typeof stats, FastEventStreamStats | undefined>>(true);
assertType<Equals<FastEventStreamStats['state'], 'checking' | 'active' | 'disabled'>>(true);
void fastEventStreamStats(maybe);
if (stats !== undefined) {
  // @ts-expect-error the stats are a read-only snapshot
  stats.fastFrames = 0;
}
// @ts-expect-error it reads a client (anything with a config object), not a marshaller
fastEventStreamStats(fastEventStreamSerdeProvider);

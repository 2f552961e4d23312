// Starts the example: GET /chat?prompt=... streams the endpoint's answer as server-sent events.
//
//   SAGEMAKER_ENDPOINT_NAME   the endpoint (required)
//   SAGEMAKER_ENDPOINT_URL    another SageMaker Runtime URL, e.g. the emulator's (optional)
//   AWS_REGION                default us-east-1; credentials come from the default AWS chain
//   PORT                      default 3000
//   HOST                      default 127.0.0.1
import { NestFactory } from '@nestjs/core';
import { ChatModule } from './chat.module';

async function main(): Promise<void> {
  const endpointName = process.env['SAGEMAKER_ENDPOINT_NAME'];
  if (endpointName === undefined || endpointName === '') throw new Error('Set SAGEMAKER_ENDPOINT_NAME');
  const endpoint = process.env['SAGEMAKER_ENDPOINT_URL'];
  const port = Number(process.env['PORT'] ?? 3000);
  const host = process.env['HOST'] ?? '127.0.0.1';

  const app = await NestFactory.create(
    ChatModule.forRoot({
      endpointName,
      clientConfig: {
        region: process.env['AWS_REGION'] ?? 'us-east-1',
        ...(endpoint !== undefined && endpoint !== '' ? { endpoint } : {}),
      },
    }),
  );
  app.enableShutdownHooks(); // Ctrl-C closes open streams (aborting their SageMaker requests) and the client
  await app.listen(port, host);
  console.log(`Listening on ${await app.getUrl()}: try GET /chat?prompt=Hello`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});

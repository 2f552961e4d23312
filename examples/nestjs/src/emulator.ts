// A local SageMaker endpoint to try the example without AWS: the emulator from
// rx-sagemaker/testing playing a TGI-style answer, token by token, until Ctrl-C.
import { startEmulator } from 'rx-sagemaker/testing';

async function main(): Promise<void> {
  const answer = ['Hello', ' from', ' the', ' emulator', ':', ' 日本', ' 🦙', '.'];
  const emulator = await startEmulator({
    port: Number(process.env['EMULATOR_PORT'] ?? 0),
    endpoints: { 'demo-llm': { stream: { format: 'tgi-sse', tokens: answer, partSize: 7 }, partDelayMs: 100 } },
  });
  console.log(`SAGEMAKER_ENDPOINT_URL=${emulator.url} SAGEMAKER_ENDPOINT_NAME=demo-llm`);
  process.once('SIGINT', () => void emulator.close());
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});

#!/usr/bin/env node
import { emulateCommand, EMULATE_HELP } from './emulate.js';
import { EXIT_USAGE } from './errors.js';
import { processIo, type Io } from './io.js';
import { streamCommand, STREAM_HELP } from './stream.js';

const HELP = `Usage: rx-sagemaker <command> [options]

Commands:
  stream ENDPOINT   stream an endpoint's answer token by token, with timing statistics
  emulate           run a local SageMaker streaming emulator

Run 'rx-sagemaker <command> --help' for a command's options.

${STREAM_HELP.split('\n')[0] ?? ''}
${EMULATE_HELP.split('\n')[0] ?? ''}
`;

/**
 * Runs the CLI with `argv` (without `node` and the script) and resolves with the exit code.
 *
 * @internal
 */
export async function main(argv: readonly string[], io: Io = processIo): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'stream':
      return streamCommand(rest, io);
    case 'emulate':
      return emulateCommand(rest, io);
    case undefined:
    case '-h':
    case '--help':
    case 'help':
      io.stdout(HELP);
      return command === undefined ? EXIT_USAGE : 0;
    default:
      io.stderr(`rx-sagemaker: unknown command '${command}'\n${HELP}`);
      return EXIT_USAGE;
  }
}

if (typeof require !== 'undefined' && require.main === module) {
  process.env['AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED'] ??= 'true';
  void main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}

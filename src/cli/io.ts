/** What the CLI commands need from the process, so they can run in tests. @internal */
export interface Io {
  stdout(text: string): void;
  stderr(text: string): void;
  readonly stdinIsTTY: boolean;
  onInterrupt(listener: () => void): void;
  offInterrupt(listener: () => void): void;
}

/** The real process. @internal */
export const processIo: Io = {
  stdout: (text) => void process.stdout.write(text),
  stderr: (text) => void process.stderr.write(text),
  stdinIsTTY: process.stdin.isTTY,
  onInterrupt: (listener) => {
    process.on('SIGINT', listener);
    process.on('SIGTERM', listener);
  },
  offInterrupt: (listener) => {
    process.off('SIGINT', listener);
    process.off('SIGTERM', listener);
  },
};

import { removeAllTemporaries } from '../encode/temp-files.js';

/**
 * First SIGINT/SIGTERM: abort the run (ffmpeg children are killed, temporary files removed by the
 * pipeline). A second one: remove temporaries and leave at once.
 */
export function abortOnSignals(controller: AbortController): { exitCode: () => number | undefined } {
  let received: NodeJS.Signals | undefined;
  const handler = (signal: NodeJS.Signals) => {
    if (received) {
      removeAllTemporaries();
      process.exit(signalExitCode(signal));
    }
    received = signal;
    controller.abort();
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  return { exitCode: () => (received ? signalExitCode(received) : undefined) };
}

function signalExitCode(signal: NodeJS.Signals): number {
  return signal === 'SIGINT' ? 130 : 143;
}

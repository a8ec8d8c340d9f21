import { createInterface } from 'node:readline';
import { WaiaasError } from '../core/errors.ts';

/** Reads all of standard input as lines: how scripts hand secrets over without argv or environment. */
export async function readStdinLines(): Promise<string[]> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8').split(/\r?\n/);
}

/** Asks for a secret on the terminal without echoing what is typed. */
export function promptSecret(question: string): Promise<string> {
  if (!process.stdin.isTTY) {
    return Promise.reject(
      new WaiaasError('VALIDATION_FAILED', {
        message:
          'No terminal to ask for the secret on; pass --passphrase-stdin and write it to standard input.',
      }),
    );
  }
  return new Promise((resolve) => {
    const rl = createInterface({ input: process.stdin, output: process.stderr, terminal: true });
    const write = (rl as unknown as { _writeToOutput: (text: string) => void })._writeToOutput;
    let asked = false;
    // Readline echoes through _writeToOutput; after the question is shown, echo nothing.
    (rl as unknown as { _writeToOutput: (text: string) => void })._writeToOutput = (text: string) => {
      if (!asked) {
        write.call(rl, text);
        asked = true;
      }
    };
    rl.question(question, (answer) => {
      process.stderr.write('\n');
      rl.close();
      resolve(answer);
    });
  });
}

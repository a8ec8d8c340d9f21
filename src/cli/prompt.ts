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
        message: 'No terminal to ask for the secret on; pass --unlock-stdin and write it to standard input.',
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

/** Asks a yes/no question on the terminal; without one, only an explicit --yes confirms. */
export async function confirm(question: string, assumeYes: boolean | undefined): Promise<boolean> {
  if (assumeYes) return true;
  if (!process.stdin.isTTY) {
    throw new WaiaasError('VALIDATION_FAILED', {
      message: 'No terminal to confirm on; pass --yes to confirm.',
    });
  }
  const rl = createInterface({ input: process.stdin, output: process.stderr, terminal: true });
  const answer = await new Promise<string>((resolve) => rl.question(`${question} [y/N] `, resolve));
  rl.close();
  return /^y(es)?$/i.test(answer.trim());
}

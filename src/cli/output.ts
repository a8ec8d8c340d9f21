/** One line to stderr, prefixed so it is clear which program speaks. */
export function printError(message: string): void {
  process.stderr.write(`waiaas: ${message}\n`);
}

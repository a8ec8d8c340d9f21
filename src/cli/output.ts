/** What the CLI writes: one line per problem on stderr, JSON or human text on stdout. */

/** One line to stderr, prefixed so it is clear which program speaks. */
export function printError(message: string): void {
  process.stderr.write(`waiaas: ${message}\n`);
}

/** JSON with bigints as decimal strings (amounts are base units on the wire too). */
export const toJson = (value: unknown, indent?: number): string =>
  JSON.stringify(value, (_key, item) => (typeof item === 'bigint' ? item.toString() : item), indent);

/** Flags every command takes. */
export interface OutputFlags {
  readonly json?: boolean | undefined;
}

/** Prints the machine form with --json, else the human form (built only when needed). */
export function print(flags: OutputFlags, human: () => string, machine: unknown): void {
  process.stdout.write(`${flags.json ? toJson(machine) : human()}\n`);
}

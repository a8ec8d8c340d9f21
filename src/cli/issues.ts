/** Field-by-field problems the API or a local check reported (`details.issues`). */

/** One line per issue: the field's path, then what is wrong with it. */
export function issueLines(details: Record<string, unknown> | undefined): string[] {
  const issues = details?.issues;
  if (!Array.isArray(issues)) return [];
  return issues.map((issue: { path?: unknown; message?: unknown }) => {
    const path = Array.isArray(issue.path) ? issue.path.join('.') : String(issue.path ?? '');
    return `  ${path || '(document)'}: ${String(issue.message ?? 'invalid')}`;
  });
}

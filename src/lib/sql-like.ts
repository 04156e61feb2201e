/** `s` as a literal inside a SQL LIKE pattern: its `%`, `_` and `\` match only themselves. */
export const escapeLike = (s: string): string => s.replace(/[\\%_]/g, (c) => `\\${c}`);

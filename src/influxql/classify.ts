/**
 * Which InfluxQL statements change state (data, schema, users), and so must reach every replica, in order with the
 * writes; every other statement is a read that one replica answers.
 *
 * A statement changes state when its first keyword is CREATE, DROP, ALTER, GRANT, REVOKE, DELETE or SET (SET PASSWORD),
 * or when it is a SELECT with an INTO clause (a bare INTO keyword: "into" quoted, in a string or a regex is not one).
 * KILL QUERY is not: query ids are per server, and it changes no data. SHOW, EXPLAIN and anything influxd would
 * refuse to parse are reads (the replica that answers says what is wrong with them).
 */
import { statements, type Token } from './lexer.js';

const CHANGES_STATE: ReadonlySet<string> = new Set(['CREATE', 'DROP', 'ALTER', 'GRANT', 'REVOKE', 'DELETE', 'SET']);

export function changesState(statement: readonly Token[]): boolean {
  const first = statement[0];
  if (first?.kind !== 'word') return false;
  if (CHANGES_STATE.has(first.text)) return true;
  return first.text === 'SELECT' && statement.some((t) => t.kind === 'word' && t.text === 'INTO');
}

/** Whether any statement of the query changes state: then the whole query goes to every replica. */
export function queryChangesState(q: string): boolean {
  return statements(q).some(changesState);
}

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { queryChangesState } from '../../../src/influxql/classify.js';
import { lex, statements } from '../../../src/influxql/lexer.js';

describe('lex', () => {
  test('strings, quoted identifiers, regexes and comments hide the keywords inside them', () => {
    const words = (q: string) => lex(q).filter((t) => t.kind === 'word').map((t) => t.text);
    assert.deepEqual(words(`select "into" from cpu where host = 'it''s into' -- drop database x\n/* create */ and r =~ /into/`), [
      'SELECT', 'FROM', 'CPU', 'WHERE', 'HOST', 'AND', 'R',
    ]);
    assert.deepEqual(words(`SELECT * FROM /cpu.*into/`), ['SELECT', 'FROM']);
    assert.deepEqual(words(`SELECT a / b FROM m`), ['SELECT', 'A', 'B', 'FROM', 'M'], 'division is not a regex');
    assert.deepEqual(words(`'esc\\'aped' "id\\"ent" x`), ['X']);
  });

  test('statements split at ; outside quotes and comments; empty ones are left out', () => {
    assert.equal(statements(`SELECT 1; ; SHOW DATABASES;`).length, 2);
    assert.equal(statements(`SELECT * FROM m WHERE t = 'a;b' -- c;d\n`).length, 1);
    assert.equal(statements('').length, 0);
  });

  test('never throws on unterminated input', () => {
    for (const q of [`'open`, `"open`, `/* open`, `x =~ /open`, `--`, `\\`]) assert.doesNotThrow(() => lex(q), q);
  });
});

describe('queryChangesState: one table', () => {
  const rows: Array<[string, boolean]> = [
    ['CREATE DATABASE x', true],
    ['create database x', true],
    ['DROP DATABASE x', true],
    ['DROP SERIES FROM cpu', true],
    ['DROP MEASUREMENT cpu', true],
    ['DROP SHARD 1', true],
    ['CREATE RETENTION POLICY r ON d DURATION 1h REPLICATION 1', true],
    ['ALTER RETENTION POLICY r ON d DEFAULT', true],
    ['CREATE CONTINUOUS QUERY c ON d BEGIN SELECT mean(v) INTO m2 FROM m GROUP BY time(1m) END', true],
    ['CREATE USER u WITH PASSWORD \'p\'', true],
    ['GRANT ALL TO u', true],
    ['REVOKE ALL FROM u', true],
    ['SET PASSWORD FOR u = \'p\'', true],
    ['DELETE FROM cpu WHERE time < now() - 1d', true],
    ['SELECT mean(v) INTO m_1h FROM m GROUP BY time(1h)', true],
    ['SELECT v \u0130NTO y FROM m', true], // Go folds İ to i: INTO to influxd
    ['SELECT 1; DROP DATABASE x', true],
    ['-- a comment\nCREATE DATABASE y', true],
    ['/* c */ CREATE DATABASE y', true],
    ['  ;CREATE DATABASE y', true],
    ['SELECT * FROM cpu', false],
    ["SELECT * FROM cpu WHERE host = 'into'", false],
    ['SELECT "into" FROM cpu', false],
    ["SELECT * FROM cpu WHERE m = '; DROP DATABASE x'", false],
    ['SELECT * FROM cpu WHERE host =~ /into|drop/', false],
    ['SHOW DATABASES', false],
    ['SHOW RETENTION POLICIES ON "create"', false],
    ['EXPLAIN SELECT * FROM cpu', false],
    ['KILL QUERY 3', false],
    ['-- CREATE DATABASE x', false],
    ['', false],
    ['garbage', false],
  ];
  for (const [q, expected] of rows) test(JSON.stringify(q), () => assert.equal(queryChangesState(q), expected));
});

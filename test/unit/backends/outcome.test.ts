import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { classify, classifyStatement, parseRetryAfter } from '../../../src/backends/outcome.js';

describe('classify: retry or drop, one table', () => {
  const rows: Array<[string, { status: number; body: string } | undefined, { code?: unknown; name?: string } | undefined, string, string]> = [
    ['204', { status: 204, body: '' }, undefined, 'ok', 'ok'],
    ['200', { status: 200, body: '' }, undefined, 'ok', 'ok'],
    ['parse error', { status: 400, body: '{"error":"unable to parse \'x\': missing fields"}' }, undefined, 'drop', 'parse-error'],
    ['partial write', { status: 400, body: '{"error":"partial write: max-values-per-tag limit exceeded dropped=1"}' }, undefined, 'drop', 'partial-write'],
    ['type conflict', { status: 400, body: '{"error":"partial write: field type conflict: input field \\"v\\" on measurement \\"m\\" is type integer, already exists as type float dropped=1"}' }, undefined, 'drop', 'field-type-conflict'],
    ['beyond retention', { status: 400, body: '{"error":"partial write: points beyond retention policy dropped=3"}' }, undefined, 'drop', 'beyond-retention'],
    ['other 400', { status: 400, body: '{"error":"bad"}' }, undefined, 'drop', 'bad-request'],
    ['413', { status: 413, body: '' }, undefined, 'drop', 'too-large'],
    ['401', { status: 401, body: '{"error":"authorization failed"}' }, undefined, 'reject', 'auth'],
    ['403', { status: 403, body: '{"error":"forbidden"}' }, undefined, 'reject', 'auth'],
    ['404 db', { status: 404, body: '{"error":"database not found: \\"nope\\""}' }, undefined, 'reject', 'database-not-found'],
    ['404 path', { status: 404, body: '' }, undefined, 'reject', 'not-found'],
    ['405', { status: 405, body: '' }, undefined, 'reject', 'http-405'],
    ['408', { status: 408, body: '' }, undefined, 'retry', 'http-408'],
    ['429', { status: 429, body: '' }, undefined, 'retry', 'http-429'],
    // influxd 1.6.7's own 500s, as it words them: the request's faults are permanent, the rest transient.
    ['500 timeout', { status: 500, body: '{"error":"timeout"}' }, undefined, 'retry', 'http-500'],
    ['500 rp typo', { status: 500, body: '{"error":"retention policy not found: typo"}' }, undefined, 'reject', 'retention-policy-not-found'],
    ['500 db dropped mid-write', { status: 500, body: '{"error":"database not found: \\"d\\""}' }, undefined, 'reject', 'database-not-found'],
    ['500 cache full', { status: 500, body: '{"error":"engine: cache-max-memory-size exceeded: (16/1)"}' }, undefined, 'retry', 'http-500'],
    ['500 write failed (closing)', { status: 500, body: '{"error":"write failed"}' }, undefined, 'retry', 'http-500'],
    ['500 disk full', { status: 500, body: '{"error":"write /var/lib/influxdb/wal/d/autogen/1/_00001.wal: no space left on device"}' }, undefined, 'retry', 'http-500'],
    ['500 hinted handoff', { status: 500, body: '{"error":"hinted handoff queue not empty"}' }, undefined, 'retry', 'http-500'],
    ['400 max-values-per-tag', { status: 400, body: '{"error":"partial write: max-values-per-tag limit exceeded (1/1): measurement=\\"m\\" tag=\\"t\\" value=\\"b\\" dropped=1"}' }, undefined, 'drop', 'partial-write'],
    ['400 max-series', { status: 400, body: '{"error":"partial write: max-series-per-database limit exceeded: (1) dropped=1"}' }, undefined, 'drop', 'partial-write'],
    ['400 shard deletion', { status: 400, body: '{"error":"partial write: shard 3 is pending deletion dropped=2"}' }, undefined, 'drop', 'partial-write'],
    // A proxy's 502/503 page says nothing of the request, whatever text it carries.
    ['502 mentioning a database', { status: 502, body: '<html>database not found upstream</html>' }, undefined, 'retry', 'http-502'],
    ['503', { status: 503, body: '' }, undefined, 'retry', 'http-503'],
    // InfluxDB 2.x/3.x answers ({"code","message"}, as sent, or as the v2 writer hands them on: {"error": message}).
    ['2.x parse error', { status: 400, body: '{"code":"invalid","message":"unable to parse \'x\': missing fields"}' }, undefined, 'drop', 'parse-error'],
    ['2.x other 400', { status: 400, body: '{"code":"invalid","message":"invalid precision"}' }, undefined, 'drop', 'bad-request'],
    ['3.x partial write', { status: 400, body: '{"error":"partial write of line protocol occurred","data":[]}' }, undefined, 'drop', 'partial-write'],
    ['2.x 401', { status: 401, body: '{"code":"unauthorized","message":"unauthorized access"}' }, undefined, 'reject', 'auth'],
    ['2.x 403', { status: 403, body: '{"code":"forbidden","message":"insufficient permissions for write"}' }, undefined, 'reject', 'auth'],
    ['2.x bucket', { status: 404, body: '{"code":"not found","message":"bucket \\"b\\" not found"}' }, undefined, 'reject', 'bucket-not-found'],
    ['2.x org', { status: 404, body: '{"error":"organization name \\"o\\" not found"}' }, undefined, 'reject', 'org-not-found'],
    ['2.x 413', { status: 413, body: '{"code":"request too large","message":"unable to read data: points batch is too large"}' }, undefined, 'drop', 'too-large'],
    ['2.x 422 retention', { status: 422, body: '{"code":"unprocessable entity","message":"failure writing points to database: partial write: dropped 4 points outside retention policy of duration 24h0m0s dropped=4"}' }, undefined, 'drop', 'beyond-retention'],
    ['2.x 422 type conflict', { status: 422, body: '{"code":"unprocessable entity","message":"failure writing points to database: partial write: field type conflict: input field \\"v\\" on measurement \\"m\\" is type float, already exists as type integer dropped=1"}' }, undefined, 'drop', 'field-type-conflict'],
    ['2.x 422 other', { status: 422, body: '{"code":"unprocessable entity","message":"rejected"}' }, undefined, 'drop', 'unprocessable'],
    ['2.x 429', { status: 429, body: '{"code":"too many requests","message":"org exceeded write limits"}' }, undefined, 'retry', 'http-429'],
    ['2.x 503', { status: 503, body: '{"code":"unavailable","message":"service unavailable"}' }, undefined, 'retry', 'http-503'],
    ['refused', undefined, { code: 'ECONNREFUSED' }, 'retry', 'network'],
    ['reset', undefined, { code: 'ECONNRESET' }, 'retry', 'network'],
    ['headers timeout', undefined, { code: 'UND_ERR_HEADERS_TIMEOUT' }, 'retry', 'timeout'],
    ['body timeout', undefined, { code: 'UND_ERR_BODY_TIMEOUT' }, 'retry', 'timeout'],
    ['writer deadline', undefined, { code: 'RELAY_WRITE_TIMEOUT' }, 'retry', 'timeout'],
    ['aborted signal\'s DOMException (numeric code)', undefined, { code: 23, name: 'TimeoutError' }, 'retry', 'timeout'],
  ];
  for (const [name, answer, error, verdict, reason] of rows) {
    test(name, () => {
      assert.deepEqual(classify(answer, error), { verdict, reason });
    });
  }
});

describe('classifyStatement: a /query answer to a statement (bodies as influxd 1.6 words them)', () => {
  const rows: Array<[string, { status: number; body: string } | undefined, string, string]> = [
    ['every result without error', { status: 200, body: '{"results":[{"statement_id":0},{"statement_id":1}]}\n' }, 'ok', 'ok'],
    ['SELECT INTO written', { status: 200, body: '{"results":[{"statement_id":0,"series":[{"name":"result","columns":["time","written"],"values":[["1970-01-01T00:00:00Z",0]]}]}]}' }, 'ok', 'ok'],
    ['a warning is no error', { status: 200, body: '{"results":[{"statement_id":0,"messages":[{"level":"warning","text":"deprecated use"}]}]}' }, 'ok', 'ok'],
    ['an error in one result', { status: 200, body: '{"results":[{"statement_id":0},{"statement_id":1,"error":"database not found: nope"}]}' }, 'reject', 'statement-error'],
    ['a top-level error in a 200', { status: 200, body: '{"error":"x"}' }, 'reject', 'statement-error'],
    ['parse error', { status: 400, body: '{"error":"error parsing query: found EOF, expected identifier at line 1, char 17"}' }, 'reject', 'statement-error'],
    ['auth', { status: 401, body: '{"error":"authorization failed"}' }, 'reject', 'auth'],
    ['forbidden', { status: 403, body: '{"error":"requires admin privilege"}' }, 'reject', 'auth'],
    ['2.x backend (the writer\'s 501)', { status: 501, body: '{"error":"..."}' }, 'reject', 'unsupported'],
    ['500', { status: 500, body: '{"error":"timeout"}' }, 'retry', 'http-500'],
    ['503', { status: 503, body: '' }, 'retry', 'http-503'],
    ['429', { status: 429, body: '' }, 'retry', 'http-429'],
    ['network', undefined, 'retry', 'network'],
  ];
  for (const [name, answer, verdict, reason] of rows) {
    test(name, () => assert.deepEqual(classifyStatement(answer, answer ? undefined : { code: 'ECONNREFUSED' }), { verdict, reason }));
  }
});

describe('parseRetryAfter', () => {
  test('seconds', () => assert.equal(parseRetryAfter('7'), 7));
  test('HTTP date', () => assert.equal(parseRetryAfter('Thu, 01 Jan 1970 00:00:10 GMT', 0), 10));
  test('absent or junk', () => {
    assert.equal(parseRetryAfter(undefined), undefined);
    assert.equal(parseRetryAfter('soon'), undefined);
  });
});

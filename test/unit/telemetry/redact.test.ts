import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { redactCredentials, redactUrl } from '../../../src/telemetry/redact.js';

describe('redactCredentials: any text, one table', () => {
  const basic = Buffer.from('alice:s3cret').toString('base64');
  const rows: Array<[string, string, string]> = [
    ['request line', 'POST /write?db=d&u=alice&p=s3cret HTTP/1.1', 'POST /write?db=d&u=[redacted]&p=[redacted] HTTP/1.1'],
    ['p first', '/write?p=s3cret&db=d', '/write?p=[redacted]&db=d'],
    ['password and token params', 'GET /x?password=s3cret;token=abc#frag', 'GET /x?password=[redacted];token=[redacted]#frag'],
    ['upper-case keys', '/write?U=alice&P=s3cret', '/write?U=[redacted]&P=[redacted]'],
    ['space separated (a log line)', 'bad request u=alice p=s3cret db=d', 'bad request u=[redacted] p=[redacted] db=d'],
    ['percent-encoded URL', 'redirect=%2Fwrite%3Fdb%3Dd%26p%3Ds3cret%26x%3D1', 'redirect=%2Fwrite%3Fdb%3Dd%26p%3D[redacted]%26x%3D1'],
    ['user:pass@ in a URL', 'dial http://alice:s3cret@influx:8086/write failed', 'dial http://[redacted]@influx:8086/write failed'],
    ['Authorization header', `Authorization: Basic ${basic}\r\nHost: x`, 'Authorization: [redacted]\r\nHost: x'],
    ['lower-case header', `authorization:Token alice:s3cret\n`, 'authorization:[redacted]\n'],
    ['Proxy-Authorization', `Proxy-Authorization: Bearer abc.def`, 'Proxy-Authorization: [redacted]'],
    ['JSON echo', `{"u":"alice","p":"s3\\"cret","authorization":["Basic ${basic}"]}`, '{"u":"[redacted]","p":"[redacted]","authorization":["[redacted]"]}'],
    ['scheme on its own', `bad credentials "Basic ${basic}"`, 'bad credentials "Basic [redacted]"'],
    ['Token on its own', 'token Token my-token_== rejected', 'token Token [redacted] rejected'],
    ['Bearer on its own', 'Bearer eyJhbGciOi.eyJzdWIi.sig expired', 'Bearer [redacted] expired'],
    // What must stay: InfluxDB's own errors carry no credentials and are read by the outcome table.
    ['InfluxDB error', '{"error":"retention policy not found: typo"}', '{"error":"retention policy not found: typo"}'],
    ['partial write', '{"error":"partial write: max-values-per-tag limit exceeded (1/1): measurement=\\"m\\" tag=\\"t\\" value=\\"b\\" dropped=1"}',
      '{"error":"partial write: max-values-per-tag limit exceeded (1/1): measurement=\\"m\\" tag=\\"t\\" value=\\"b\\" dropped=1"}'],
    ['other params', '/write?db=d&rp=autogen&precision=s&up=1', '/write?db=d&rp=autogen&precision=s&up=1'],
    ['empty', '', ''],
  ];
  for (const [name, input, expected] of rows) {
    test(name, () => assert.equal(redactCredentials(input), expected));
  }
});

describe('redactUrl', () => {
  test('userinfo dropped, credential parameters redacted', () => {
    assert.equal(redactUrl('http://alice:s3cret@h:8086/write?db=d&u=x&p=y'), 'http://h:8086/write?db=d&u=[redacted]&p=[redacted]');
  });
  test('not a URL: the free-text rules still apply', () => {
    assert.equal(redactUrl('h:8086/write?p=y'), 'h:8086/write?p=[redacted]');
  });
});

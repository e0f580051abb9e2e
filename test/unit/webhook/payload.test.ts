import { describe, expect, it } from 'vitest';
import { payloadJson } from '../../../src/webhook/payload.ts';

const json = '{"action":"opened","number":7}';

describe('the payload of a verified body', () => {
  it.each([
    ['application/json', json, json],
    ['application/json; charset=utf-8', json, json],
    ['no content type', json, json],
    ['application/x-www-form-urlencoded', `payload=${encodeURIComponent(json)}`, json],
    [
      'Application/X-WWW-Form-Urlencoded; charset=utf-8',
      new URLSearchParams({ payload: json }).toString(),
      json,
    ],
  ])('%s: the JSON object', (contentType, body, expected) => {
    expect(payloadJson(contentType === 'no content type' ? undefined : contentType, body)).toBe(expected);
  });

  it.each([
    ['malformed JSON', 'application/json', '{"action":'],
    ['an array', 'application/json', '[1,2]'],
    ['a string', 'application/json', '"opened"'],
    ['null', 'application/json', 'null'],
    ['a form without a payload field', 'application/x-www-form-urlencoded', 'other=1'],
    ['a form payload that is not JSON', 'application/x-www-form-urlencoded', 'payload=opened'],
  ])('%s: none', (_name, contentType, body) => {
    expect(payloadJson(contentType, body)).toBeUndefined();
  });
});

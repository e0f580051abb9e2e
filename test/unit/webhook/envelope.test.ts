import { describe, expect, it } from 'vitest';
import { decodeEnvelope, encodeEnvelope } from '../../../src/webhook/envelope.ts';

const head = {
  deliveryId: '72d3162e-cc78-11e3-81ab-4c9367dc0958',
  event: 'push',
  receivedAt: '2026-11-26T05:00:00.000Z',
};

describe('the envelope', () => {
  it('round-trips: the worker decodes what the webhook encodes, payload value unchanged', () => {
    const payload = {
      ref: 'refs/heads/main',
      commits: [{ message: 'fix: ünïcödé, 中文, 📦 and \uFFFF' }],
      n: 1.5,
    };

    const decoded = decodeEnvelope(encodeEnvelope(head, JSON.stringify(payload)));

    expect(decoded).toEqual({ ok: true, envelope: { ...head, payload } });
  });

  it('keeps the payload text as received, whitespace and key order included', () => {
    const text = '{ "b": 1,\n  "a": [ true, null ] }';

    expect(encodeEnvelope(head, text)).toContain(`"payload":${text}}`);
  });

  it('writes characters an SQS message body may not carry as JSON escapes', () => {
    const encoded = encodeEnvelope(head, JSON.stringify({ text: 'box 📦, noncharacter \uFFFF, \uFFFE' }));

    expect(encoded).not.toMatch(/[\uFFFE\uFFFF]|[\u{10000}-\u{10FFFF}]/u);
    expect(encoded).toContain('box \\ud83d\\udce6, noncharacter \\uffff, \\ufffe');
  });

  it.each([
    ['not JSON', '{"deliveryId":', /the body is not JSON/],
    ['JSON but no envelope', '{"hello":"world"}', /not a webhook envelope: deliveryId/],
    [
      'a payload that is not an object',
      JSON.stringify({ ...head, payload: [1, 2] }),
      /not a webhook envelope: payload/,
    ],
    [
      'a date that is not ISO 8601',
      JSON.stringify({ ...head, receivedAt: 'yesterday', payload: {} }),
      /receivedAt/,
    ],
  ])('refuses %s, saying why', (_name, body, problem) => {
    const decoded = decodeEnvelope(body);

    expect(decoded.ok).toBe(false);
    if (!decoded.ok) expect(decoded.problem).toMatch(problem);
  });
});

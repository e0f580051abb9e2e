import { describe, expect, it } from 'vitest';
import { SecretScrubber } from '../../../src/observability/secret-scrubber.ts';

describe('the secret scrubber', () => {
  it('replaces every occurrence of every secret', () => {
    const scrubber = new SecretScrubber(['hunter2', 'tok-123']);

    expect(scrubber.scrub('auth hunter2 failed; retry with hunter2 or tok-123')).toBe(
      'auth [REDACTED] failed; retry with [REDACTED] or [REDACTED]',
    );
  });

  it('finds a secret in its JSON-escaped form, as it appears inside a JSON log line', () => {
    const secret = 'pa"ss\\word\n';
    const line = JSON.stringify({ msg: `connecting with ${secret}` });

    expect(new SecretScrubber([secret]).scrub(line)).toBe(
      JSON.stringify({ msg: 'connecting with [REDACTED]' }),
    );
  });

  it('replaces a secret that contains another one whole', () => {
    expect(new SecretScrubber(['abc', 'abcdef']).scrub('x abcdef y')).toBe('x [REDACTED] y');
  });

  it('ignores empty secrets and leaves clean text as it is', () => {
    expect(new SecretScrubber(['']).scrub('nothing to hide')).toBe('nothing to hide');
  });
});

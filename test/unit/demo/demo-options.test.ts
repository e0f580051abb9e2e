import { describe, expect, it } from 'vitest';
import { parseDemoOptions } from '../../../scripts/demo/demo-options.ts';

describe('the demo’s flags', () => {
  it.each([
    [[], { rollback: false, rate: 50 }],
    [['--rollback'], { rollback: true, rate: 50 }],
    [['--rate', '120'], { rollback: false, rate: 120 }],
    [['--rollback', '--rate=20'], { rollback: true, rate: 20 }],
  ])('%j → %j', (argv, expected) => {
    expect(parseDemoOptions(argv)).toEqual(expected);
  });

  it.each([
    [['--rollbak'], /DEMO_USAGE: Unknown option '--rollbak'[\s\S]*usage: npm run demo/],
    [['migrate'], /DEMO_USAGE: .*positional/],
    [['--rate', 'fast'], /DEMO_USAGE: --rate must be a whole number .* got "fast"/],
    [['--rate', '0'], /DEMO_USAGE: --rate must be a whole number/],
    [['--rate', '2.5'], /DEMO_USAGE: --rate must be a whole number/],
  ])('refuses %j with the usage', (argv, message) => {
    expect(() => parseDemoOptions(argv)).toThrow(message);
  });
});

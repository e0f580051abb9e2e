import { describe, expect, it } from 'vitest';
import { expand } from '../../env/local-node/expand.ts';

// The kubelet's $(VAR) rules decide what a container's env, command and args say.
describe('$(VAR) expansion', () => {
  const vars: Record<string, string> = { A: 'alpha', B: 'beta', EMPTY: '' };
  const lookup = (name: string): string | undefined => vars[name];
  it.each([
    ['plain text', 'plain text'],
    ['$(A)', 'alpha'],
    ['x-$(A)-$(B)-y', 'x-alpha-beta-y'],
    ['$(EMPTY)|', '|'],
    ['$(MISSING)', '$(MISSING)'],
    ['$$(A)', '$(A)'],
    ['$$', '$'],
    ['cost: $5', 'cost: $5'],
    ['trailing $', 'trailing $'],
    ['$(A', '$(A'],
    ['$()', '$()'],
    ['$(A)$(B)', 'alphabeta'],
  ])('%s → %s', (input, expected) => {
    expect(expand(input, lookup)).toBe(expected);
  });
});

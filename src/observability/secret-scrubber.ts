/** What a secret is replaced with wherever it shows up. */
export const SCRUBBED = '[REDACTED]';

/**
 * Replaces known secret values in text: the last line of defence behind pino's path redaction,
 * for secrets that end up where no path names them (an error message quoting a URL, a nested
 * object a library attached to an error). Each secret is also matched in its JSON-escaped form,
 * which is how it appears inside a JSON log line.
 */
export class SecretScrubber {
  private readonly forms: readonly string[];

  constructor(secrets: readonly string[]) {
    const forms = new Set<string>();
    for (const secret of secrets) {
      if (secret.length === 0) continue;
      forms.add(secret);
      forms.add(JSON.stringify(secret).slice(1, -1));
    }
    // Longest first, so that a secret containing another is replaced whole.
    this.forms = [...forms].sort((a, b) => b.length - a.length);
  }

  scrub(text: string): string {
    let result = text;
    for (const form of this.forms) {
      if (result.includes(form)) result = result.split(form).join(SCRUBBED);
    }
    return result;
  }
}

/**
 * The payload's JSON text from a verified body. GitHub sends either `application/json` (the body is
 * the payload) or `application/x-www-form-urlencoded` (the payload is the `payload` field), as the
 * webhook is configured. Undefined when the payload is not a JSON object.
 */
export function payloadJson(contentType: string | undefined, body: string): string | undefined {
  const mediaType = contentType?.split(';', 1)[0]?.trim().toLowerCase();
  const json =
    mediaType === 'application/x-www-form-urlencoded' ? new URLSearchParams(body).get('payload') : body;
  if (json === null) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch {
    return undefined;
  }
  return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) ? json : undefined;
}

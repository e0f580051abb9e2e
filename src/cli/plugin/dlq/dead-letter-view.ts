import type { BackendKind } from '../../../adapter/index.ts';
import { renderTable } from '../text-table.ts';
import { formatDuration } from '../time-text.ts';
import type { DeadLetter, Redriven } from './dead-letter.ts';

const orDash = (value: string | number | undefined): string => (value === undefined ? '-' : String(value));

const reasonOf = (letter: DeadLetter): string =>
  letter.reason ?? 'no reason recorded (moved by the queue’s redrive policy)';

/** A stream entry id names a Redis dead letter; anything else (SQS MessageIds are UUIDs) an SQS one. */
export function backendOfId(id: string): BackendKind {
  return /^\d+-\d+$/.test(id) ? 'redis' : 'sqs';
}

/** `dlq list`: one table per back end, oldest first. */
export function renderDeadLetters(
  backend: BackendKind,
  where: string,
  letters: readonly DeadLetter[],
  now: number,
): string {
  const title = `${backend}: ${where}\n`;
  if (letters.length === 0) return `${title}  no dead letters\n`;
  const table = renderTable(
    ['ID', 'DELIVERY', 'EVENT', 'AGE', 'DELIVERIES', 'REASON'],
    letters.map((letter) => [
      letter.id,
      letter.message.ok ? letter.message.value.deliveryId : `(malformed: ${letter.message.problem})`,
      orDash(letter.message.ok ? letter.message.value.attributes?.['event'] : undefined),
      formatDuration(now - letter.deadAt),
      orDash(letter.deliveries),
      reasonOf(letter),
    ]),
  );
  return title + table.replace(/^(?=.)/gm, '  ');
}

/** `dlq inspect`: every recorded fact of one dead letter, then its body as it would be republished. */
export function renderDeadLetter(letter: DeadLetter): string {
  const { message } = letter;
  const lines = [
    `Backend:      ${letter.backend}`,
    `Id:           ${letter.id}`,
    `Dead since:   ${new Date(letter.deadAt).toISOString()}`,
    `Reason:       ${reasonOf(letter)}`,
    `Deliveries:   ${orDash(letter.deliveries)}`,
    `Original id:  ${orDash(letter.originalId)}`,
    ...Object.entries(letter.details).map(([name, value]) => `${`${name}:`.padEnd(14)}${value}`),
  ];
  if (!message.ok) return `${lines.join('\n')}\nMalformed:    ${message.problem} (cannot be redriven)\n`;
  const attributes = Object.entries(message.value.attributes ?? {});
  return (
    `${lines.join('\n')}\n` +
    `Delivery:     ${message.value.deliveryId}\n` +
    `Attributes:   ${attributes.length === 0 ? '-' : attributes.map(([name, value]) => `${name}=${value}`).join(', ')}\n` +
    `Body:\n${message.value.body}\n`
  );
}

/** One line per dead letter moved back. */
export function renderRedriven(moved: Redriven): string {
  const { letter } = moved;
  const delivery = letter.message.ok ? letter.message.value.deliveryId : '-';
  const line = `${letter.backend} ${letter.id} -> ${moved.newId} (delivery ${delivery})\n`;
  return moved.note === undefined ? line : `${line}  note: ${moved.note}\n`;
}

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { HandlerModuleError, loadHandlerModule } from '../../../src/worker/handler-module.ts';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'qs-handler-module-'));
let written = 0;

/** A module file with this source, as a user would deploy it. */
function moduleFile(source: string): string {
  written += 1;
  const file = path.join(dir, `module-${written}.mjs`);
  fs.writeFileSync(file, source);
  return file;
}

afterAll(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('loading a handler module', () => {
  it('takes a `handler` export, and its `events`', async () => {
    const loaded = await loadHandlerModule(
      moduleFile(
        "export const events = ['issues'];\nexport async function handler() { return { kind: 'ack' }; }",
      ),
    );

    expect(loaded.events).toEqual(['issues']);
    expect(typeof loaded.handler).toBe('function');
  });

  it('takes a default export, for every event when it lists none', async () => {
    const loaded = await loadHandlerModule(moduleFile("export default async () => ({ kind: 'ack' });"));

    expect(loaded.events).toBeUndefined();
    expect(await loaded.handler({} as never, {} as never)).toEqual({ kind: 'ack' });
  });

  it.each([
    ['no handler', 'export const answer = 42;', 'HANDLER_MODULE_INVALID', /exports no handler/],
    [
      'a handler that is not a function',
      'export const handler = 42;',
      'HANDLER_MODULE_INVALID',
      /exports no handler/,
    ],
    [
      'an empty event list',
      'export const events = [];\nexport const handler = () => {};',
      'HANDLER_MODULE_INVALID',
      /non-empty list/,
    ],
    [
      'events that are not names',
      'export const events = [1];\nexport const handler = () => {};',
      'HANDLER_MODULE_INVALID',
      /list of event names/,
    ],
    [
      'ping among its events',
      "export const events = ['ping'];\nexport const handler = () => {};",
      'HANDLER_MODULE_INVALID',
      /must not include ping/,
    ],
    ['a syntax error', 'export const handler = (', 'HANDLER_MODULE_LOAD_FAILED', /could not be loaded/],
    [
      'a module that throws as it loads',
      "throw new Error('no config');",
      'HANDLER_MODULE_LOAD_FAILED',
      /no config/,
    ],
  ])('refuses %s, with a coded error naming the file', async (_name, source, code, message) => {
    const file = moduleFile(source);

    const error = await loadHandlerModule(file).catch((thrown: unknown) => thrown);

    expect(error).toBeInstanceOf(HandlerModuleError);
    expect(error).toMatchObject({ code, file, message: expect.stringMatching(message) as string });
    expect((error as Error).message.startsWith(file)).toBe(true);
  });
});

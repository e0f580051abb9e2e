import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { kubeconfigCredentials } from '../../../../src/operator/kube/kubeconfig-credentials.ts';
import { TOKEN_REREAD_MS } from '../../../../src/operator/kube/kube-credentials.ts';
import { ManualClock } from '../../../support/manual-clock.ts';

const b64 = (text: string): string => Buffer.from(text).toString('base64');

let dir: string;

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'qs-kubeconfig-'));
});

afterEach(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

/** Writes files under the test's folder (kubeconfig in a subfolder, so relative paths matter). */
function write(files: Record<string, string>): string {
  for (const [name, content] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    fs.writeFileSync(path.join(dir, name), content);
  }
  return path.join(dir, 'conf', 'kubeconfig');
}

/** A kubeconfig with one context "main" over cluster "c" and user "u"; entries are YAML lines. */
const kubeconfig = (cluster: string, user: string, extra = ''): string => `apiVersion: v1
kind: Config
current-context: main
clusters:
- name: c
  cluster:
    server: https://10.1.2.3:6443
${cluster}
users:
- name: u
  user:
${user}
contexts:
- name: main
  context: {cluster: c, user: u, namespace: team-a}
${extra}`;

describe('kubeconfig credentials', () => {
  it.each([
    {
      form: 'inline CA, client certificate and key',
      files: {
        'conf/kubeconfig': kubeconfig(
          `    certificate-authority-data: ${b64('CA')}`,
          `    client-certificate-data: ${b64('CERT')}\n    client-key-data: ${b64('KEY')}`,
        ),
      },
      tls: { ca: 'CA', cert: 'CERT', key: 'KEY' },
      authorization: undefined,
    },
    {
      form: 'CA, certificate and key files, relative to the kubeconfig folder',
      files: {
        'conf/kubeconfig': kubeconfig(
          '    certificate-authority: pki/ca.crt',
          '    client-certificate: pki/client.crt\n    client-key: ../keys/client.key',
        ),
        'conf/pki/ca.crt': 'CA FILE',
        'conf/pki/client.crt': 'CERT FILE',
        'keys/client.key': 'KEY FILE',
      },
      tls: { ca: 'CA FILE', cert: 'CERT FILE', key: 'KEY FILE' },
      authorization: undefined,
    },
    {
      form: 'an inline token, TLS verification off',
      files: { 'conf/kubeconfig': kubeconfig('    insecure-skip-tls-verify: true', '    token: abc.def') },
      tls: { rejectUnauthorized: false },
      authorization: 'Bearer abc.def',
    },
    {
      form: 'a tokenFile (relative), which wins over an inline token as in client-go',
      files: {
        'conf/kubeconfig': kubeconfig(
          `    certificate-authority-data: ${b64('CA')}`,
          '    token: stale\n    tokenFile: tokens/sa\n    extensions: []',
        ),
        'conf/tokens/sa': 'from-file\n',
      },
      tls: { ca: 'CA' },
      authorization: 'Bearer from-file',
    },
  ])('authenticates with $form', async ({ files, tls, authorization }) => {
    const credentials = kubeconfigCredentials(write(files), { clock: new ManualClock() });
    expect(credentials.server.href).toBe('https://10.1.2.3:6443/');
    const material = await credentials.tls();
    expect(
      Object.fromEntries(
        Object.entries(material).map(([k, v]) => [k, Buffer.isBuffer(v) ? v.toString('utf8') : v]),
      ),
    ).toEqual(tls);
    expect(await credentials.authorization()).toBe(authorization);
  });

  it('uses the context asked for instead of the current one', async () => {
    const file = write({
      'conf/kubeconfig': kubeconfig(
        '',
        '    token: main-token',
        `- name: other
  context: {cluster: other}
`,
      ).replace(
        'users:',
        `- name: other
  cluster: {server: 'http://127.0.0.1:8080'}
users:`,
      ),
    });
    const credentials = kubeconfigCredentials(file, { context: 'other', clock: new ManualClock() });
    expect(credentials.server.href).toBe('http://127.0.0.1:8080/');
    expect(await credentials.authorization()).toBeUndefined();
  });

  it('re-reads a tokenFile once a minute, so a rotated ServiceAccount token applies', async () => {
    const clock = new ManualClock();
    const file = write({ 'conf/kubeconfig': kubeconfig('', '    tokenFile: token'), 'conf/token': 'first' });
    const credentials = kubeconfigCredentials(file, { clock });
    fs.writeFileSync(path.join(dir, 'conf/token'), 'second');
    await clock.advance(TOKEN_REREAD_MS - 1);
    expect(await credentials.authorization()).toBe('Bearer first');
    await clock.advance(1);
    expect(await credentials.authorization()).toBe('Bearer second');
    // A rotation caught half-way (file briefly gone) keeps the last token rather than failing.
    fs.rmSync(path.join(dir, 'conf/token'));
    await clock.advance(TOKEN_REREAD_MS);
    expect(await credentials.authorization()).toBe('Bearer second');
  });

  it.each([
    {
      problem: 'a context that is not there',
      kubeconfig: kubeconfig('', '    token: t'),
      context: 'staging',
      error: 'KUBE_CREDENTIALS_NO_CONTEXT: context "staging" is not in kubeconfig',
    },
    {
      problem: 'no current context',
      kubeconfig: kubeconfig('', '    token: t').replace('current-context: main', ''),
      context: undefined,
      error: 'KUBE_CREDENTIALS_NO_CONTEXT',
    },
    {
      problem: 'an exec plugin',
      kubeconfig: kubeconfig('', '    exec: {command: aws, apiVersion: client.authentication.k8s.io/v1}'),
      context: undefined,
      error: /KUBE_CREDENTIALS_UNSUPPORTED: user "u" of kubeconfig .* uses exec/,
    },
    {
      problem: 'an auth-provider',
      kubeconfig: kubeconfig('', '    auth-provider: {name: oidc}'),
      context: undefined,
      error: /KUBE_CREDENTIALS_UNSUPPORTED: user "u" .* uses auth-provider/,
    },
    {
      problem: 'a proxy',
      kubeconfig: kubeconfig('    proxy-url: http://proxy:3128', '    token: t'),
      context: undefined,
      error: /KUBE_CREDENTIALS_UNSUPPORTED: cluster "c" .* uses proxy-url/,
    },
    {
      problem: 'a context naming a user that is not there',
      kubeconfig: kubeconfig('', '    token: t').replace('user: u,', 'user: nobody,'),
      context: undefined,
      error: 'KUBE_CREDENTIALS_INCOMPLETE: context "main" names user "nobody"',
    },
    {
      problem: 'a certificate file that is not there',
      kubeconfig: kubeconfig('    certificate-authority: missing/ca.crt', '    token: t'),
      context: undefined,
      error: /KUBE_CREDENTIALS_UNREADABLE: cannot read certificate-authority .*conf\/missing\/ca\.crt/,
    },
    {
      problem: 'a server that is not a URL',
      kubeconfig: kubeconfig('', '    token: t').replace('https://10.1.2.3:6443', 'not a url'),
      context: undefined,
      error: /KUBE_CREDENTIALS_INVALID: cluster "c" .*server/,
    },
    {
      problem: 'text that is not YAML',
      kubeconfig: 'clusters: [unclosed',
      context: undefined,
      error: 'KUBE_CREDENTIALS_UNREADABLE',
    },
  ])('refuses $problem with an error that names it', ({ kubeconfig: text, context, error }) => {
    const file = write({ 'conf/kubeconfig': text });
    expect(() => kubeconfigCredentials(file, { context, clock: new ManualClock() })).toThrow(error);
  });
});

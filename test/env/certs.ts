import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

export interface KeyPair {
  certFile: string;
  keyFile: string;
}

export interface CertRequest {
  /** File stem: `<dir>/<name>.crt` and `<dir>/<name>.key`. */
  name: string;
  commonName: string;
  /** Subject organisations; Kubernetes reads them as groups. */
  organizations?: readonly string[];
  dnsNames?: readonly string[];
  ipAddresses?: readonly string[];
  usage: 'server' | 'client' | 'server-and-client';
}

function openssl(args: readonly string[], cwd: string): void {
  try {
    execFileSync('openssl', args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (error) {
    const stderr = (error as { stderr?: Buffer }).stderr?.toString() ?? '';
    throw new Error(`openssl ${args[0] ?? ''} failed: ${stderr.trim()}`, { cause: error });
  }
}

function subject(commonName: string, organizations: readonly string[] = []): string {
  return [...organizations.map((o) => `/O=${o}`), `/CN=${commonName}`].join('');
}

/** A self-signed certificate authority (EC P-256, valid ten years). Reused when present. */
export function ensureCa(dir: string, name: string, commonName: string): KeyPair {
  fs.mkdirSync(dir, { recursive: true });
  const pair = { certFile: path.join(dir, `${name}.crt`), keyFile: path.join(dir, `${name}.key`) };
  if (fs.existsSync(pair.certFile) && fs.existsSync(pair.keyFile)) return pair;
  openssl(['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', pair.keyFile], dir);
  openssl(
    ['req', '-x509', '-new', '-key', pair.keyFile, '-sha256', '-days', '3650', '-subj', subject(commonName)]
      .concat([
        '-addext',
        'basicConstraints=critical,CA:TRUE',
        '-addext',
        'keyUsage=critical,keyCertSign,cRLSign',
      ])
      .concat(['-out', pair.certFile]),
    dir,
  );
  return pair;
}

/** A leaf certificate signed by `ca`. Reused when present. */
export function ensureCert(ca: KeyPair, dir: string, request: CertRequest): KeyPair {
  fs.mkdirSync(dir, { recursive: true });
  const pair = {
    certFile: path.join(dir, `${request.name}.crt`),
    keyFile: path.join(dir, `${request.name}.key`),
  };
  if (fs.existsSync(pair.certFile) && fs.existsSync(pair.keyFile)) return pair;
  const csr = path.join(dir, `${request.name}.csr`);
  const ext = path.join(dir, `${request.name}.ext`);
  const sans = [
    ...(request.dnsNames ?? []).map((d) => `DNS:${d}`),
    ...(request.ipAddresses ?? []).map((ip) => `IP:${ip}`),
  ];
  const extendedUsage = {
    server: 'serverAuth',
    client: 'clientAuth',
    'server-and-client': 'serverAuth,clientAuth',
  }[request.usage];
  fs.writeFileSync(
    ext,
    [
      'basicConstraints=critical,CA:FALSE',
      'keyUsage=critical,digitalSignature,keyEncipherment',
      `extendedKeyUsage=${extendedUsage}`,
      ...(sans.length > 0 ? [`subjectAltName=${sans.join(',')}`] : []),
    ].join('\n') + '\n',
  );
  openssl(['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', pair.keyFile], dir);
  openssl(
    [
      'req',
      '-new',
      '-key',
      pair.keyFile,
      '-subj',
      subject(request.commonName, request.organizations),
      '-out',
      csr,
    ],
    dir,
  );
  openssl(
    ['x509', '-req', '-in', csr, '-CA', ca.certFile, '-CAkey', ca.keyFile, '-CAcreateserial'].concat([
      '-days',
      '3650',
      '-sha256',
      '-extfile',
      ext,
      '-out',
      pair.certFile,
    ]),
    dir,
  );
  fs.rmSync(csr);
  fs.rmSync(ext);
  return pair;
}

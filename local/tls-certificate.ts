import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export interface TlsMaterial {
  key: string;
  cert: string;
  /** Where `key` and `cert` are kept (Azurite reads its certificate from files). */
  keyPath: string;
  certPath: string;
}

/**
 * The development host's self-signed certificate (for localhost and 127.0.0.1), made with the
 * `selfsigned` library on first start and kept in a git-ignored folder. Clients that should trust it
 * (tests, the SDKs in them) are given `cert` as their CA.
 */
export async function loadOrCreateCertificate(folder: string): Promise<TlsMaterial> {
  const keyPath = join(folder, 'localhost-key.pem');
  const certPath = join(folder, 'localhost-cert.pem');
  if (existsSync(keyPath) && existsSync(certPath)) {
    return { key: await readFile(keyPath, 'utf8'), cert: await readFile(certPath, 'utf8'), keyPath, certPath };
  }
  const { generate } = await import('selfsigned');
  const notAfterDate = new Date(Date.now() + 365 * 24 * 3600 * 1000);
  const pems = await generate([{ name: 'commonName', value: 'localhost' }], {
    keyType: 'ec',
    curve: 'P-256',
    algorithm: 'sha256',
    notAfterDate,
    extensions: [
      { name: 'basicConstraints', cA: true },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, keyCertSign: true },
      { name: 'extKeyUsage', serverAuth: true },
      { name: 'subjectAltName', altNames: [{ type: 2, value: 'localhost' }, { type: 7, ip: '127.0.0.1' }, { type: 7, ip: '::1' }] },
    ],
  });
  await mkdir(folder, { recursive: true });
  await writeFile(keyPath, pems.private, { mode: 0o600 });
  await writeFile(certPath, pems.cert);
  return { key: pems.private, cert: pems.cert, keyPath, certPath };
}

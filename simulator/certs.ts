/**
 * The simulator's own PKI, created on first start in the data dir and reused afterwards:
 * a CA, a server certificate for `localhost` / `127.0.0.1` signed by it, and the RSA key that signs Entra tokens.
 * Private keys are written 0600. Concurrent first starts (parallel test files) serialise on a lock directory.
 */
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import forge from 'node-forge';

export interface SimulatorPki {
  readonly caCertPath: string;
  readonly caCert: string;
  readonly serverCert: string;
  readonly serverKey: string;
  /** PEM private key that signs access tokens (RS256). */
  readonly signingKey: string;
}

const FILES = {
  caCert: 'ca.pem',
  caKey: 'ca-key.pem',
  serverCert: 'server.pem',
  serverKey: 'server-key.pem',
  signingKey: 'token-signing-key.pem',
} as const;

function rsaKeyPair() {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const privatePem = privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();
  const publicPem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
  return { privatePem, publicPem };
}

function serial(): string {
  // Positive, 16 bytes.
  const b = randomBytes(16);
  b[0] = b[0] & 0x7f;
  return b.toString('hex');
}

function createCa() {
  const keys = rsaKeyPair();
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.publicKeyFromPem(keys.publicPem);
  cert.serialNumber = serial();
  cert.validity.notBefore = new Date(Date.now() - 60_000);
  cert.validity.notAfter = new Date(Date.now() + 10 * 365 * 24 * 3600_000);
  const subject = [
    { name: 'commonName', value: 'cutover local Azure simulator CA' },
    { name: 'organizationName', value: 'cutover' },
  ];
  cert.setSubject(subject);
  cert.setIssuer(subject);
  cert.setExtensions([
    { name: 'basicConstraints', cA: true, critical: true },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
    { name: 'subjectKeyIdentifier' },
  ]);
  cert.sign(forge.pki.privateKeyFromPem(keys.privatePem), forge.md.sha256.create());
  return { cert: forge.pki.certificateToPem(cert), key: keys.privatePem };
}

function createServerCert(caCertPem: string, caKeyPem: string) {
  const keys = rsaKeyPair();
  const ca = forge.pki.certificateFromPem(caCertPem);
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.publicKeyFromPem(keys.publicPem);
  cert.serialNumber = serial();
  cert.validity.notBefore = new Date(Date.now() - 60_000);
  cert.validity.notAfter = new Date(Date.now() + 825 * 24 * 3600_000);
  cert.setSubject([{ name: 'commonName', value: 'localhost' }]);
  cert.setIssuer(ca.subject.attributes);
  cert.setExtensions([
    { name: 'basicConstraints', cA: false },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
    { name: 'extKeyUsage', serverAuth: true },
    {
      name: 'subjectAltName',
      altNames: [
        { type: 2, value: 'localhost' },
        { type: 7, ip: '127.0.0.1' },
      ],
    },
  ]);
  cert.sign(forge.pki.privateKeyFromPem(caKeyPem), forge.md.sha256.create());
  return { cert: forge.pki.certificateToPem(cert), key: keys.privatePem };
}

function writeSecretFile(file: string, content: string) {
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, content, { mode: 0o600 });
  chmodSync(tmp, 0o600);
  renameSync(tmp, file);
}

function writePublicFile(file: string, content: string) {
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, content, { mode: 0o644 });
  renameSync(tmp, file);
}

function stillValid(certPem: string): boolean {
  try {
    const cert = forge.pki.certificateFromPem(certPem);
    return cert.validity.notAfter.getTime() > Date.now() + 24 * 3600_000;
  } catch {
    return false;
  }
}

async function withLock<T>(dir: string, fn: () => T): Promise<T> {
  const lock = path.join(dir, '.pki.lock');
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      // A lock left by a crashed process is stale after a minute.
      if (Date.now() - statSync(lock).mtimeMs > 60_000) rmSync(lock, { recursive: true, force: true });
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${lock}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  try {
    return fn();
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

/** Loads the PKI from `dataDir`, creating whatever is missing or about to expire. */
export async function ensurePki(dataDir: string): Promise<SimulatorPki> {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const file = (name: keyof typeof FILES) => path.join(dataDir, FILES[name]);
  return withLock(dataDir, () => {
    let caCert = existsSync(file('caCert')) ? readFileSync(file('caCert'), 'utf8') : '';
    let caKey = existsSync(file('caKey')) ? readFileSync(file('caKey'), 'utf8') : '';
    let fresh = false;
    if (!caCert || !caKey || !stillValid(caCert)) {
      ({ cert: caCert, key: caKey } = createCa());
      writeSecretFile(file('caKey'), caKey);
      writePublicFile(file('caCert'), caCert);
      fresh = true;
    }
    let serverCert = existsSync(file('serverCert')) ? readFileSync(file('serverCert'), 'utf8') : '';
    let serverKey = existsSync(file('serverKey')) ? readFileSync(file('serverKey'), 'utf8') : '';
    if (fresh || !serverCert || !serverKey || !stillValid(serverCert)) {
      ({ cert: serverCert, key: serverKey } = createServerCert(caCert, caKey));
      writeSecretFile(file('serverKey'), serverKey);
      writePublicFile(file('serverCert'), serverCert);
    }
    let signingKey = existsSync(file('signingKey')) ? readFileSync(file('signingKey'), 'utf8') : '';
    if (!signingKey) {
      signingKey = rsaKeyPair().privatePem;
      writeSecretFile(file('signingKey'), signingKey);
    }
    return { caCertPath: file('caCert'), caCert, serverCert, serverKey, signingKey };
  });
}

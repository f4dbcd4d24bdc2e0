// Encryption at rest for secrets Tacit must use in clear later (webhook signing secrets, tokens):
// AES-256-GCM under a key derived from TACIT_SECRET_KEY. Format: v1.<iv>.<tag>.<ciphertext> (base64url).
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { chmodSync, linkSync, mkdirSync, readFileSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export class SecretBoxError extends Error {
  override readonly name = 'SecretBoxError';
}

export interface SecretBox {
  seal(plaintext: string): string;
  open(sealed: string): string;
}

export function createSecretBox(secretKey: string | undefined): SecretBox {
  const key = secretKey ? createHash('sha256').update(`tacit-secret-box:${secretKey}`).digest() : undefined;
  const need = () => {
    if (!key) throw new SecretBoxError('TACIT_SECRET_KEY is not set; it is needed to store signing secrets (e.g. `openssl rand -hex 32`)');
    return key;
  };
  return {
    seal(plaintext) {
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', need(), iv);
      const ct = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
      return ['v1', iv, cipher.getAuthTag(), ct].map((p) => (typeof p === 'string' ? p : p.toString('base64url'))).join('.');
    },
    open(sealed) {
      const [version, iv, tag, ct] = sealed.split('.');
      if (version !== 'v1' || !iv || !tag || ct === undefined) throw new SecretBoxError('stored secret is not in the v1 format');
      try {
        const decipher = createDecipheriv('aes-256-gcm', need(), Buffer.from(iv, 'base64url'));
        decipher.setAuthTag(Buffer.from(tag, 'base64url'));
        return Buffer.concat([decipher.update(Buffer.from(ct, 'base64url')), decipher.final()]).toString('utf8');
      } catch (err) {
        if (err instanceof SecretBoxError) throw err;
        throw new SecretBoxError('stored secret cannot be decrypted: was TACIT_SECRET_KEY changed?');
      }
    },
  };
}

/** A key Tacit generated for itself (the playground without TACIT_SECRET_KEY): where it is, and whether it is new. */
export interface LocalSecretKey {
  key: string;
  path: string;
  created: boolean;
}

/**
 * The key in `<dataDir>/secret.key` (mode 0600), generated once and reused at every start. Created
 * through a hard link of a finished temporary file, so two processes starting together agree on one key.
 */
export function localSecretKey(dataDir: string): LocalSecretKey {
  const path = join(dataDir, 'secret.key');
  const existing = readKeyFile(path);
  if (existing) return { key: existing, path, created: false };
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const tmp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}`;
  writeFileSync(tmp, `${randomBytes(32).toString('hex')}\n`, { mode: 0o600, flag: 'wx' });
  try {
    linkSync(tmp, path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  } finally {
    unlinkSync(tmp);
  }
  const key = readKeyFile(path);
  if (!key) throw new SecretBoxError(`${path} does not hold a key of at least 32 characters; delete it to have a new one generated`);
  return { key, path, created: true };
}

function readKeyFile(path: string): string | null {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
  // The key protects stored secrets: keep it readable by this user only, even if it was copied in looser.
  if ((statSync(path).mode & 0o077) !== 0) chmodSync(path, 0o600);
  const key = text.trim();
  if (key.length < 32) throw new SecretBoxError(`${path} does not hold a key of at least 32 characters; delete it to have a new one generated`);
  return key;
}

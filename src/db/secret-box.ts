// Encryption at rest for secrets Tacit must use in clear later (webhook signing secrets, tokens):
// AES-256-GCM under a key derived from TACIT_SECRET_KEY. Format: v1.<iv>.<tag>.<ciphertext> (base64url).
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';

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

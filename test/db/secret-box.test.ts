import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SecretBoxError, createSecretBox, localSecretKey } from '../../src/db/secret-box.js';

describe('the local secret key (playground without TACIT_SECRET_KEY)', () => {
  const dirs: string[] = [];
  const tempDir = () => {
    const dir = mkdtempSync(join(tmpdir(), 'tacit-key-'));
    dirs.push(dir);
    return dir;
  };
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  it('generates a key once, readable by this user only, in a data folder it creates', () => {
    const dataDir = join(tempDir(), 'nested', '.tacit');
    const first = localSecretKey(dataDir);
    expect(first.created).toBe(true);
    expect(first.path).toBe(join(dataDir, 'secret.key'));
    expect(first.key).toMatch(/^[0-9a-f]{64}$/);
    expect(statSync(first.path).mode & 0o777).toBe(0o600);
  });

  it('reuses the same key on the next start, so stored secrets still open', () => {
    const dataDir = tempDir();
    const sealed = createSecretBox(localSecretKey(dataDir).key).seal('webhook secret');
    const again = localSecretKey(dataDir);
    expect(again.created).toBe(false);
    expect(createSecretBox(again.key).open(sealed)).toBe('webhook secret');
  });

  it('tightens a key file copied in with looser permissions', () => {
    const dataDir = tempDir();
    writeFileSync(join(dataDir, 'secret.key'), `${'k'.repeat(40)}\n`, { mode: 0o644 });
    expect(localSecretKey(dataDir).key).toBe('k'.repeat(40));
    expect(statSync(join(dataDir, 'secret.key')).mode & 0o777).toBe(0o600);
  });

  it('refuses a key file too short to be a key, saying how to get a new one', () => {
    const dataDir = tempDir();
    writeFileSync(join(dataDir, 'secret.key'), 'short\n', { mode: 0o600 });
    expect(() => localSecretKey(dataDir)).toThrow(SecretBoxError);
    expect(() => localSecretKey(dataDir)).toThrow(/delete it/);
    expect(readFileSync(join(dataDir, 'secret.key'), 'utf8')).toBe('short\n');
  });
});

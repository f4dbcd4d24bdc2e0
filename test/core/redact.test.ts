// Secrets in untrusted text are replaced by `[redacted:<kind>]` before they reach the model, the chat or the logs.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { redactDeep, redactSecrets } from '../../src/core/redact.js';

interface InjectionCase { id: string; text: string; plantedSecret?: string }
const corpus = JSON.parse(readFileSync(new URL('../fixtures/injection/corpus.json', import.meta.url), 'utf8')) as InjectionCase[];

// Fake secrets are assembled at run time so no provider-shaped token sits in the source.
const fake = (prefix: string, body: string, length: number): string => prefix + body.repeat(Math.ceil(length / body.length)).slice(0, length);

describe('redactSecrets', () => {
  it.each([
    ['an AWS access key id', fake('AKIA', 'FAKE2345', 16), 'aws-access-key-id'],
    ['an AWS session key id', fake('ASIA', 'FAKE2345', 16), 'aws-access-key-id'],
    ['a GitHub personal token', fake('ghp_', 'Fake0', 36), 'github-token'],
    ['a GitHub OAuth token', fake('gho_', 'Fake0', 36), 'github-token'],
    ['a GitHub app user token', fake('ghu_', 'Fake0', 36), 'github-token'],
    ['a GitHub installation token', fake('ghs_', 'Fake0', 36), 'github-token'],
    ['a GitHub refresh token', fake('ghr_', 'Fake0', 36), 'github-token'],
    ['a GitHub fine-grained token', fake('github_pat_', '11Fake_0', 82), 'github-token'],
    ['a Slack bot token', fake('xoxb-', '1234-fake-', 40), 'slack-token'],
    ['a Slack user token', fake('xoxp-', '1234-fake-', 40), 'slack-token'],
    ['a Slack app token', fake('xapp-', '1-A0FAKE-', 40), 'slack-token'],
    ['a Stripe live key', fake('sk_' + 'live_', 'Fake0', 24), 'stripe-key'],
    ['a Stripe restricted key', fake('rk_' + 'live_', 'Fake0', 24), 'stripe-key'],
    ['an Anthropic key', fake('sk-ant-api03-', 'Fake0_', 60), 'anthropic-key'],
    ['an OpenAI project key', fake('sk-proj-', 'Fake0', 48), 'openai-key'],
    ['an OpenAI legacy key', fake('sk-', 'Fake0', 48), 'openai-key'],
    ['a Google API key', fake('AIza', 'SyFake0_', 35), 'google-api-key'],
    ['an npm token', fake('npm_', 'Fake0', 36), 'npm-token'],
    ['a JWT', 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ0YWNpdCJ9.c2lnbmF0dXJlLWZha2U', 'jwt'],
  ])('redacts %s', (_name, secret, kind) => {
    const result = redactSecrets(`before ${secret} after`);

    expect(result).toEqual({ text: `before [redacted:${kind}] after`, found: [kind] });
  });

  it('redacts a Slack webhook URL whole', () => {
    const url = `https://hooks.slack.com/services/T0FAKE/B0FAKE/${fake('', 'fakeWebhook', 24)}`;

    expect(redactSecrets(`post to ${url} now`).text).toBe('post to [redacted:slack-webhook] now');
  });

  it('redacts a PEM private key block, and an unterminated one to the end of the text', () => {
    const block = '-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAfake\nAAAA\n-----END RSA PRIVATE KEY-----';

    expect(redactSecrets(`key:\n${block}\nthanks`).text).toBe('key:\n[redacted:private-key]\nthanks');
    expect(redactSecrets('-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANfake').text).toBe('[redacted:private-key]');
  });

  it('keeps the scheme of Authorization headers and redacts their credentials', () => {
    const result = redactSecrets('Authorization: Bearer abc.def-123\n"authorization": "Basic dXNlcjpwYXNz"');

    expect(result.text).toBe('Authorization: Bearer [redacted:bearer-token]\n"authorization": "Basic [redacted:basic-auth]"');
    expect(result.found).toEqual(['bearer-token', 'basic-auth']);
    expect(redactSecrets('Authorization: Bearer abc123. Then retry.').text).toBe('Authorization: Bearer [redacted:bearer-token]. Then retry.');
  });

  it('redacts a bare Bearer token but not the word bearer in prose', () => {
    expect(redactSecrets('curl -H "Bearer tacit0fake0token0123"').text).toBe('curl -H "Bearer [redacted:bearer-token]"');
    expect(redactSecrets('the Bearer of bad news brought a bearer bond').found).toEqual([]);
  });

  it('keeps the user and host of a URL and redacts its password', () => {
    expect(redactSecrets('see https://deploy:s3cret@ci.acme.dev/job/1').text).toBe(
      'see https://deploy:[redacted:url-password]@ci.acme.dev/job/1',
    );
  });

  it.each([
    ['postgres://app:p%40ss@word@db.internal:5432/prod', 'postgres://app:[redacted:connection-string-password]@db.internal:5432/prod'],
    ['mysql://root:hunter2@127.0.0.1/orders', 'mysql://root:[redacted:connection-string-password]@127.0.0.1/orders'],
    ['mongodb+srv://svc:Mong0Pw@cluster0.abc.mongodb.net/app', 'mongodb+srv://svc:[redacted:connection-string-password]@cluster0.abc.mongodb.net/app'],
    ['redis://:r3dis@cache:6379/0', 'redis://:[redacted:connection-string-password]@cache:6379/0'],
    ['amqp://guest:rabbitPw@mq.internal:5672/vhost', 'amqp://guest:[redacted:connection-string-password]@mq.internal:5672/vhost'],
  ])('redacts the password of the connection string %s', (url, expected) => {
    expect(redactSecrets(url).text).toBe(expected);
  });

  it('redacts password, pwd and passwd pairs in DSNs', () => {
    expect(redactSecrets('Server=db;User Id=sa;Password=Pa55w0rd!;Encrypt=true').text).toBe(
      'Server=db;User Id=sa;Password=[redacted:password];Encrypt=true',
    );
    expect(redactSecrets('DRIVER={ODBC};UID=app;PWD=odbcPw;').text).toBe('DRIVER={ODBC};UID=app;PWD=[redacted:password];');
    expect(redactSecrets('host=db user=app passwd=libpqPw dbname=x').text).toBe('host=db user=app passwd=[redacted:password] dbname=x');
  });

  it('redacts env-style secret lines and keeps their names', () => {
    const env = 'DB_PASSWORD=hunter2\nSLACK_SIGNING_SECRET="abc123"\nGITLAB_TOKEN=glpat\nOPENWEATHER_API_KEY = k123\nTACIT_SECRET_KEY=x9';

    expect(redactSecrets(env).text).toBe(
      'DB_PASSWORD=[redacted:password]\nSLACK_SIGNING_SECRET="[redacted:secret]"\nGITLAB_TOKEN=[redacted:secret]\n' +
        'OPENWEATHER_API_KEY = [redacted:secret]\nTACIT_SECRET_KEY=[redacted:secret]',
    );
  });

  it('redacts an aws_secret_access_key assignment as an AWS secret key', () => {
    const result = redactSecrets('aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY');

    expect(result).toEqual({ text: 'aws_secret_access_key = [redacted:aws-secret-key]', found: ['aws-secret-key'] });
  });

  it('redacts quoted JSON and compound YAML secret fields', () => {
    expect(redactSecrets('{"api_key": "k-123", "name": "web"}').text).toBe('{"api_key": "[redacted:secret]", "name": "web"}');
    expect(redactSecrets('db_password: hunter2').text).toBe('db_password: [redacted:password]');
  });

  it('reports a provider token inside a secret assignment once, under its provider kind', () => {
    const result = redactSecrets(`export GITHUB_TOKEN=${fake('ghp_', 'Fake0', 36)}`);

    expect(result).toEqual({ text: 'export GITHUB_TOKEN=[redacted:github-token]', found: ['github-token'] });
  });

  it.each([
    ['the deploy password is hunter2', 'the deploy password is [redacted:password]'],
    ['remember: password: hunter2.', 'remember: password: [redacted:password].'],
    ['Password: "s3cr3t pass"', 'Password: "[redacted:password]"'],
    ['the root password for db1 was Tr0ub4dor', 'the root password for db1 was [redacted:password]'],
    ['the api key is k-12345', 'the api key is [redacted:secret]'],
    ['token=abc123', 'token=[redacted:secret]'],
    ['the secret is opensesame', 'the secret is [redacted:secret]'],
  ])('redacts a secret told in prose: %s', (text, expected) => {
    expect(redactSecrets(text).text).toBe(expected);
  });

  it.each([
    'the password is required',
    'the token is expired, rotate it',
    'the password was rotated yesterday',
    'the secret is in the vault',
    'password: see 1Password',
  ])('leaves prose about secrets alone: %s', (text) => {
    expect(redactSecrets(text)).toEqual({ text, found: [] });
  });

  it.each([
    ['a git SHA', 'reverted 3f786850e387550fdab836ed7e6dc881de23001b on main'],
    ['a UUID', 'request 123e4567-e89b-12d3-a456-426614174000 failed'],
    ['ordinary words', 'the skeleton key task-force asked about tokens, passwords and secrets'],
    ['a URL without credentials', 'https://github.com/acme/app/pull/12 and http://localhost:8080/health'],
    ['an ssh remote', 'git@github.com:acme/app.git'],
    ['numeric settings', 'max_tokens=1024 token_expiry=60 bypass=true timeout_ms=500'],
    ['a base64 blob', 'payload=' + 'QUJD'.repeat(40)],
  ])('leaves %s alone', (_name, text) => {
    expect(redactSecrets(text)).toEqual({ text, found: [] });
  });

  it('is idempotent: redacted text has nothing left to redact', () => {
    for (const { text } of corpus) {
      const once = redactSecrets(text).text;

      expect(redactSecrets(once)).toEqual({ text: once, found: [] });
    }
  });

  it('removes every planted secret of the injection corpus', () => {
    const planted = corpus.filter((c) => c.plantedSecret !== undefined);

    expect(planted.length).toBeGreaterThanOrEqual(10);
    for (const c of planted) {
      expect(redactSecrets(c.text).text, c.id).not.toContain(c.plantedSecret);
    }
  });

  it('stays linear on a long run of token-like characters', () => {
    const started = performance.now();
    redactSecrets('a_b'.repeat(100_000) + ' ' + 'A'.repeat(200_000));

    expect(performance.now() - started).toBeLessThan(1000);
  });
});

describe('redactDeep', () => {
  it('redacts every string in nested objects and arrays and keeps other values', () => {
    const value = { alert: { annotations: { dsn: 'mysql://root:pw@h/db' }, values: [1, true, null, 'ok'] }, labels: ['AKIAIOSFODNN7EXAMPLE'] };

    expect(redactDeep(value)).toEqual({
      alert: { annotations: { dsn: 'mysql://root:[redacted:connection-string-password]@h/db' }, values: [1, true, null, 'ok'] },
      labels: ['[redacted:aws-access-key-id]'],
    });
  });

  it('redacts the whole value under a secret-named key', () => {
    expect(redactDeep({ password: 'hunter2', clientSecret: 'abc', apiKey: 'k', user: 'ann' })).toEqual({
      password: '[redacted:password]',
      clientSecret: '[redacted:secret]',
      apiKey: '[redacted:secret]',
      user: 'ann',
    });
  });

  it('does not change its input and survives a cycle', () => {
    const input: Record<string, unknown> = { token: 'x', note: 'Bearer tacit0fake0token0123' };
    input['self'] = input;

    const out = redactDeep(input) as Record<string, unknown>;

    expect(input['token']).toBe('x');
    expect(out['note']).toBe('Bearer [redacted:bearer-token]');
    expect(out['self']).toBe('[circular]');
  });
});

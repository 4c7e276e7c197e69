import { spawnTs } from '../support/child';

describe('boot with bad configuration', () => {
  it('exits non-zero with one message naming every invalid variable', async () => {
    const child = spawnTs('src/main.ts', { PORT: 'abc', RSB_ROLE: 'foo' });
    const { code } = await child.exited;
    expect(code).toBe(1);
    const stderr = child.stderr();
    expect(stderr.match(/Invalid configuration/g)).toHaveLength(1);
    expect(stderr).toContain('PORT: expected an integer from 1 to 65535; found "abc"');
    expect(stderr).toContain('RSB_ROLE: expected one of api, worker, all; found "foo"');
    expect(child.stdout()).toBe('');
  });

  it('never prints the value of a sensitive variable', async () => {
    const secret = 'tooshort';
    const child = spawnTs('src/main.ts', { RSB_API_TOKENS: `${secret}`, REDIS_URL: 'ftp://admin:s3cr3t-pw@host' });
    expect((await child.exited).code).toBe(1);
    expect(child.stderr()).toContain('RSB_API_TOKENS');
    expect(child.stderr()).toContain('REDIS_URL');
    expect(child.stderr()).not.toContain(secret);
    expect(child.stderr()).not.toContain('s3cr3t-pw');
  });
});

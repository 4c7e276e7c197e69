import { redisSettingWarnings } from '../../../src/health/redis.health';

const info = (aof: string, policy: string) => `# Persistence\r\naof_enabled:${aof}\r\n# Memory\r\nmaxmemory_policy:${policy}\r\n`;

describe('redisSettingWarnings', () => {
  it('is silent for the production settings', () => {
    expect(redisSettingWarnings(info('1', 'noeviction'))).toEqual([]);
  });

  it('warns when AOF is off and when keys may be evicted', () => {
    const warnings = redisSettingWarnings(info('0', 'allkeys-lru'));
    expect(warnings).toHaveLength(2);
    expect(warnings[0]).toMatch(/appendonly yes/);
    expect(warnings[1]).toMatch(/maxmemory-policy is allkeys-lru/);
  });

  it('says nothing about settings a managed Redis does not report', () => {
    expect(redisSettingWarnings('# Server\r\nredis_version:7.0.0\r\n')).toEqual([]);
  });
});

import { Child, freePort, runTs, spawnTs } from '../support/child';
import { deleteKeys, REDIS_URL, uniquePrefix } from '../support/redis';

/** `npm run sandbox` and `npm run sandbox:ticket`, as a new user runs them (on free ports, its own Redis prefix). */
describe('The sandbox', () => {
  let sandbox: Child;
  const prefix = uniquePrefix('sandbox');
  const ports: Record<string, number> = {};

  beforeAll(async () => {
    for (const name of ['PORT', 'APPLIANCE', 'ZENDESK', 'UPSCOPE', 'SERVICENOW', 'RECEIVER']) ports[name] = await freePort();
    sandbox = spawnTs('scripts/sandbox.ts', {
      REDIS_URL,
      RSB_REDIS_PREFIX: prefix,
      PORT: String(ports.PORT),
      SANDBOX_APPLIANCE_PORT: String(ports.APPLIANCE),
      SANDBOX_ZENDESK_PORT: String(ports.ZENDESK),
      SANDBOX_UPSCOPE_PORT: String(ports.UPSCOPE),
      SANDBOX_SERVICENOW_PORT: String(ports.SERVICENOW),
      SANDBOX_RECEIVER_PORT: String(ports.RECEIVER),
      // What a terminal gets; the pipe here would get JSON lines.
      SANDBOX_LOG_FORMAT: 'pretty',
    });
    await sandbox.waitForOutput(/stop: {7}Ctrl\+C/, 90_000);
  }, 120_000);
  afterAll(async () => {
    sandbox.process.kill('SIGTERM');
    await sandbox.exited;
    await deleteKeys(prefix);
  });

  it('prints readable logs, then its banner last, with the queue dashboard and its credentials', async () => {
    const out = sandbox.stdout();
    const banner = out.slice(out.lastIndexOf('rs-bridge sandbox'));
    expect(banner).toMatch(/stop: {7}Ctrl\+C\n+$/);
    // Everything the bridge logged at start-up came before the banner: nothing after it.
    const before = out.slice(0, out.lastIndexOf('rs-bridge sandbox'));
    expect(before).toMatch(/^\[\d\d:\d\d:\d\d\] INFO.*rs-bridge listening on/m);
    expect(before).not.toMatch(/^\{"level"/m);
    const [, user, password] = /queues: {5}\S+\/admin\/queues {2}\(user (\S+), password (\S+)\)/.exec(banner)!;
    const base = `http://127.0.0.1:${ports.PORT}`;
    expect((await fetch(`${base}/admin/queues`)).status).toBe(401);
    const dashboard = await fetch(`${base}/admin/queues/api/queues`, {
      headers: { authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}` },
    });
    expect(dashboard.status).toBe(200);
    for (const system of ['servicenow', 'generic']) expect(banner).toContain(`npm run sandbox:ticket -- ${system}`);
  });

  it('round-trips a ServiceNow incident: key on the record, then transcript and recording', async () => {
    const run = await runTs('scripts/sandbox-ticket.ts', ['servicenow'], {
      SANDBOX_URL: `http://127.0.0.1:${ports.PORT}`,
      SANDBOX_APPLIANCE_URL: `http://127.0.0.1:${ports.APPLIANCE}`,
      SANDBOX_SERVICENOW_URL: `http://127.0.0.1:${ports.SERVICENOW}`,
    });
    expect([run.code, run.stderr]).toEqual([0, '']);
    expect(run.stdout).toMatch(/POST servicenow webhook -> 202/);
    expect(run.stdout).toMatch(/--- additional comment on ticket [0-9a-f]{32} ---\n.*\d{7}/);
    expect(run.stdout).toMatch(/The fake appliance played and ended session \S+ \(external key INC\d+\)/);
    expect(run.stdout).toMatch(/attached: session-\S+\.\w+ \(\d+ bytes\)/);
  }, 90_000);

  it("round-trips a Zendesk ticket: the key in one public reply, then the session's transcript note", async () => {
    const run = await runTs('scripts/sandbox-ticket.ts', ['zendesk'], {
      SANDBOX_URL: `http://127.0.0.1:${ports.PORT}`,
      SANDBOX_APPLIANCE_URL: `http://127.0.0.1:${ports.APPLIANCE}`,
      SANDBOX_ZENDESK_URL: `http://127.0.0.1:${ports.ZENDESK}`,
    });
    expect([run.code, run.stderr]).toEqual([0, '']);
    expect(run.stdout).toMatch(/POST zendesk webhook -> 202/);
    expect(run.stdout).toMatch(/--- public reply on ticket \d+ ---\n.*\d{7}/);
    expect(run.stdout).toMatch(/The fake appliance played and ended session \S+/);
    expect(run.stdout).toMatch(/--- internal note on ticket \d+ ---/);
  }, 90_000);
});

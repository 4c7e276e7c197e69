/**
 * The `demo` profile of docker-compose.yml: the fake BeyondTrust appliance, Zendesk and Upscope of the
 * sandbox, reachable from the api and worker containers as http://fakes:<port>. The fakes listen on
 * loopback (they are test servers); a plain TCP forward opens each on the container's network. Their
 * credentials are the ones compose.demo.env gives the bridge.
 */
import { createConnection, createServer } from 'node:net';
import { FakeAppliance } from '../test/fakes/beyondtrust/fake-appliance';
import { FakeUpscope } from '../test/fakes/upscope/fake-upscope';
import { FakeZendesk } from '../test/fakes/zendesk/fake-zendesk';

export const DEMO_PORTS = { appliance: 3101, zendesk: 3102, upscope: 3103 } as const;

/** 0.0.0.0:<port> → 127.0.0.1:<target>. */
const forward = (port: number, target: number) =>
  new Promise<void>((resolve) => {
    createServer((client) => {
      const upstream = createConnection(target, '127.0.0.1');
      client.pipe(upstream).pipe(client);
      for (const s of [client, upstream]) s.on('error', () => (client.destroy(), upstream.destroy()));
    }).listen(port, '0.0.0.0', resolve);
  });

async function main(): Promise<void> {
  const appliance = await new FakeAppliance().start();
  appliance.controlRoutes = true;
  const zendesk = await new FakeZendesk().start();
  zendesk.autoCreateTickets = true;
  const upscope = await new FakeUpscope().start();
  upscope.addVisitor({ short_id: 'casey01', name: 'Casey Customer', email: 'casey@example.com', lookup_code: '4711' });
  const port = (url: string) => Number(new URL(url).port);
  await forward(DEMO_PORTS.appliance, port(appliance.url));
  await forward(DEMO_PORTS.zendesk, port(zendesk.url));
  await forward(DEMO_PORTS.upscope, port(upscope.url));
  // Outbound events go to the api service, as an HTTP recipient on a real appliance would.
  appliance.sendOutboundEventsTo('http://api:3000/webhooks/beyondtrust', process.env.BT_EVENTS_TOKEN ?? '', 'query', 1000);
  process.stdout.write(
    `demo fakes: appliance :${DEMO_PORTS.appliance} (client rsb-client), zendesk :${DEMO_PORTS.zendesk}, upscope :${DEMO_PORTS.upscope}\n`,
  );
}

if (require.main === module) void main();

/**
 * The dependency rules of rs-bridge, checked by `npm run lint` (dependency-cruiser). Zero violations.
 *
 * The layers, lowest first. A folder may import its own layer's folders (without a cycle) and the
 * layers below it, never one above:
 *
 *   1. foundation      common/ types/ config/ logging/ version.ts
 *                      Pure helpers and the validated configuration: everything reads them, they read nothing.
 *   2. infrastructure  redis/ outbound/ metrics/ lifecycle/
 *                      Redis and its locks, the outbound deadline and callback allow-list, Prometheus,
 *                      the process lifecycle (shutdown, watchdogs, BullMQ plumbing).
 *   3. http/           The inbound HTTP plumbing: bearer guard, body parsing, flood guard, the one
 *                      exception filter, the operator pages. It sits above infrastructure (it counts
 *                      into metrics, lists queues) and below every module that serves a route, so
 *                      nothing below it ever imports it.
 *   4. vendors         beyondtrust/ upscope/ tickets/ (tickets/<system>/)
 *                      One folder a vendor: its client, its errors, its inbound verification. A vendor
 *                      knows no flow: the same client serves every flow that needs it.
 *   5. jobs/           The catalogue of queues, their typed job data (which names vendor types, hence
 *                      above them), job ids and the failure policy every processor runs under.
 *   6. flows           sessions/ session-end/ chat/ cobrowse/ ticket-events/ ticket-sessions/ webhooks/
 *                      The use cases and their adapters (controllers, processors).
 *   7. composition     admin/ health/ doctor/ and the root files (app.module, bootstrap, main):
 *                      they see everything, nothing sees them.
 */
const LAYERS = [
  ['common', 'types', 'config', 'logging', 'version\\.ts$'],
  ['redis', 'outbound', 'metrics', 'lifecycle'],
  ['http'],
  ['beyondtrust', 'upscope', 'tickets'],
  ['jobs'],
  ['sessions', 'session-end', 'chat', 'cobrowse', 'ticket-events', 'ticket-sessions', 'webhooks'],
  ['admin', 'health', 'doctor', '(?!version\\.ts$)[^/]+\\.ts$'],
];
const LAYER_NAMES = ['foundation', 'infrastructure', 'http', 'vendors', 'jobs', 'flows', 'composition'];

const under = (folders) => `^src/(${folders.join('|')})(/|$)`;

const layerRules = LAYERS.slice(0, -1).map((folders, index) => ({
  name: `layer-${LAYER_NAMES[index]}`,
  comment: `${LAYER_NAMES[index]} imports nothing from the layers above it (see the top of .dependency-cruiser.cjs)`,
  severity: 'error',
  from: { path: under(folders) },
  to: { path: under(LAYERS.slice(index + 1).flat()) },
}));

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      comment: 'A file-level import cycle: one of its imports belongs a layer lower, or in a third file both use.',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    {
      name: 'no-circular-folders',
      comment: 'A folder-level import cycle: two modules that lean on each other are one module, or need a third below both.',
      severity: 'error',
      scope: 'folder',
      from: {},
      to: { circular: true },
    },
    {
      name: 'vendor-imports-no-flow',
      comment: 'A vendor module (beyondtrust/, upscope/, tickets/<system>/) serves every flow and imports none.',
      severity: 'error',
      from: { path: under(['beyondtrust', 'upscope', 'tickets']) },
      to: { path: under(['sessions', 'session-end', 'chat', 'cobrowse', 'ticket-events', 'ticket-sessions', 'webhooks']) },
    },
    {
      name: 'nothing-below-http-imports-it',
      comment: 'http/ is the inbound transport; foundation and infrastructure work without a web server (the doctor, the worker).',
      severity: 'error',
      from: { path: under([...LAYERS[0], ...LAYERS[1]]) },
      to: { path: '^src/http/' },
    },
    ...layerRules,
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    // Type-only imports count: a cycle through types is still two modules that cannot be read apart.
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    includeOnly: '^src/',
  },
};

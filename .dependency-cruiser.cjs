// The dependency rule (docs/architecture.md#the-dependency-rule), enforced by `npm run check:deps`
// (part of `npm run check`):
// api -> temporal -> workflow contracts -> domain; activities -> domain + ports; workflows import
// activities as types only; nothing in src imports scripts, tests or benchmarks; no cycles.
// Type-only imports are seen (tsPreCompilationDeps) so rules can tell them from value imports.

/** What clients may take from src/workflows by value: the names and keys shared with the workflows. */
const WORKFLOW_CONTRACTS = '^src/workflows/(messages|search-attributes|workflow-types)\\.ts$';
/** Who may read the configuration and create loggers (value imports); everyone else is handed them. */
const CONFIG_READERS = ['^src/(worker|server|config|logger)\\.ts$', '^src/activities/', '^src/temporal/'];

module.exports = {
  forbidden: [
    {
      name: 'no-cycles',
      comment: 'A cycle makes two modules one; break it by moving the shared part down a layer.',
      severity: 'error',
      from: { path: '^src/' },
      to: { circular: true },
    },
    {
      name: 'src-not-to-scripts-tests-bench',
      comment: 'src is the product; scripts, tests and benchmarks use it, never the other way round.',
      severity: 'error',
      from: { path: '^src/' },
      to: { path: '^(scripts|test|bench|demo-app)/' },
    },
    {
      name: 'domain-is-self-contained',
      comment: 'src/domain is plain types and pure functions: it imports nothing else from src.',
      severity: 'error',
      from: { path: '^src/domain/' },
      to: { path: '^src/', pathNot: '^src/domain/' },
    },
    {
      name: 'deterministic-code-without-node',
      comment:
        'Workflow code runs in a deterministic sandbox and domain code runs inside it: no Node builtins.',
      severity: 'error',
      from: { path: '^src/(domain|workflows)/' },
      to: { dependencyTypes: ['core'] },
    },
    {
      name: 'workflows-sandbox-packages',
      comment:
        'Only the workflow side of the Temporal SDK (and zod, used by domain) belongs in a workflow bundle.',
      severity: 'error',
      from: { path: '^src/workflows/' },
      to: {
        dependencyTypes: ['npm', 'npm-dev'],
        dependencyTypesNot: ['type-only'],
        pathNot: '^node_modules/(@temporalio/(workflow|common)|zod)/',
      },
    },
    {
      name: 'workflows-import-activities-as-types',
      comment: 'Workflows call activities through proxyActivities; a value import would bundle side effects.',
      severity: 'error',
      from: { path: '^src/workflows/' },
      to: { path: '^src/activities/', dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'workflows-inward-only',
      comment: 'Workflows depend on domain (and on activity types): not on clients, the API or entry points.',
      severity: 'error',
      from: { path: '^src/workflows/' },
      to: { path: '^src/', pathNot: '^src/(workflows|domain|activities)/' },
    },
    {
      name: 'config-and-logger-read-by-entry-points',
      comment:
        'Entry points, activities and temporal/ read the configuration and make loggers; the API takes them as types, workflows and domain not at all (settings types live in src/domain/settings.ts).',
      severity: 'error',
      from: { path: '^src/', pathNot: CONFIG_READERS },
      to: { path: '^src/(config|logger)\\.ts$', dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'api-http-only',
      comment: 'src/api talks to Temporal through src/temporal; it never runs activities or workflow code.',
      severity: 'error',
      from: { path: '^src/api/' },
      to: {
        path: ['^src/activities/', '^src/workflows/', '^src/(worker|server)\\.ts$'],
        pathNot: WORKFLOW_CONTRACTS,
      },
    },
    {
      name: 'temporal-below-api',
      comment:
        'Client-side Temporal code knows nothing of HTTP or activities: it throws its own typed errors.',
      severity: 'error',
      from: { path: '^src/temporal/' },
      to: { path: ['^src/api/', '^src/activities/', '^src/(worker|server)\\.ts$'] },
    },
    {
      name: 'temporal-to-workflow-contracts',
      comment: 'Clients take workflow contracts by value and workflow functions or inputs only as types.',
      severity: 'error',
      from: { path: '^src/temporal/' },
      to: { path: '^src/workflows/', pathNot: WORKFLOW_CONTRACTS, dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'activities-on-domain-and-ports',
      comment:
        'Activities depend on domain and on ports (the incident port only as a type), never on callers.',
      severity: 'error',
      from: { path: '^src/activities/' },
      to: { path: ['^src/api/', '^src/workflows/', '^src/(worker|server)\\.ts$'] },
    },
    {
      name: 'activities-use-the-incident-port-as-a-type',
      comment:
        'Activities are handed ports (IncidentPort, HealthyImages: interfaces, so type imports); they never build Temporal clients themselves.',
      severity: 'error',
      from: { path: '^src/activities/' },
      to: { path: '^src/temporal/', pathNot: '^src/temporal/(incident|healthy-image)-port\\.ts$' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      extensions: ['.ts', '.js', '.mjs', '.cjs', '.json'],
    },
  },
};

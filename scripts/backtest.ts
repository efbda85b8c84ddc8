// npm run backtest -- [--policy file.json] [--since 24h] [--target name] [--json]
// What would another policy have done? Replays the recorded decisions of the incidents that ended in the
// window through the workflow's own policy, guard and budget functions (src/domain/backtest.ts), under
// today's settings (the environment, as the worker reads it) and under the policy file's. Without
// --policy, both are today's, and the agreement must be 1: anything less is a bug to explain.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { loadConfig, type MedicConfig } from '../src/config.js';
import { type BacktestPolicy, type BacktestResult, backtest } from '../src/domain/backtest.js';
import { parseDuration } from '../src/domain/duration.js';
import { DEFAULT_RISK_POLICY } from '../src/domain/policy.js';
import { SEVERITIES } from '../src/domain/types.js';
import { connectClient } from '../src/temporal/connection.js';
import { readIncidentHistory } from '../src/temporal/incident-history.js';

const rule = z.enum(['record', 'auto', 'notify', 'approval']);
const ms = z.number().int().min(0);
const severityTable = z.object(Object.fromEntries(SEVERITIES.map((s) => [s, rule.optional()]))).strict();
/** The settings' shape: any part left out keeps today's value. */
const policyFileSchema = z
  .object({
    policy: z
      .object({
        severity: severityTable.optional(),
        minConfidence: z.number().min(0).max(1).optional(),
        /** The low- and high-risk remedies' tables (a declared low-risk action; a rollback, a memory raise). */
        byRisk: z
          .object({ low: severityTable.optional(), high: severityTable.optional() })
          .strict()
          .optional(),
      })
      .strict()
      .optional(),
    guard: z
      .object({
        cooldownMs: ms.optional(),
        maxRestartsPerHour: ms.optional(),
        breakerThreshold: ms.optional(),
        breakerResetMs: ms.optional(),
      })
      .strict()
      .optional(),
    budget: z.object({ perHour: ms.optional(), perDay: ms.optional() }).strict().optional(),
  })
  .strict();

export function todaysPolicy(config: MedicConfig): BacktestPolicy {
  const { policy, guard, budget } = config.incident;
  return { policy, guard, budget };
}

/** Today's policy with the file's changes over it; throws with the file's problems in words. */
export function readPolicyFile(file: string, today: BacktestPolicy): BacktestPolicy {
  const parsed = policyFileSchema.safeParse(JSON.parse(readFileSync(file, 'utf8')));
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.') || '(file)'}: ${i.message}`);
    throw new Error(`${file} is not a policy file:\n  ${problems.join('\n  ')}`);
  }
  const change = parsed.data;
  const over = <T extends Record<string, string>>(
    base: T,
    changes: Record<string, string | undefined> = {},
  ) => {
    const table = { ...base };
    for (const [key, value] of Object.entries(changes))
      if (value) (table as Record<string, string>)[key] = value;
    return table;
  };
  const severity = over(today.policy.severity, change.policy?.severity);
  const base = { ...DEFAULT_RISK_POLICY, ...today.policy.byRisk };
  const byRisk = {
    low: over(base.low, change.policy?.byRisk?.low),
    high: over(base.high, change.policy?.byRisk?.high),
  };
  return {
    policy: { ...today.policy, ...change.policy, severity, byRisk },
    guard: { ...today.guard, ...change.guard },
    budget: { ...today.budget, ...change.budget },
  };
}

export async function runBacktest(options: {
  env: NodeJS.ProcessEnv;
  since: string;
  policyFile?: string;
  target?: string;
}): Promise<BacktestResult & { since: string }> {
  const config = loadConfig(options.env);
  const today = todaysPolicy(config);
  const proposed = options.policyFile ? readPolicyFile(options.policyFile, today) : today;
  const client = await connectClient(config.temporal);
  try {
    const history = await readIncidentHistory(client, {
      namespace: config.temporal.namespace,
      sinceMs: Date.now() - parseDuration(options.since),
      limit: 100_000,
    });
    const states = options.target
      ? history.states.filter((s) => s.target === options.target)
      : history.states;
    return { since: options.since, ...backtest(states, today, proposed) };
  } finally {
    await client.connection.close();
  }
}

function print(result: BacktestResult & { since: string }): string {
  const row = (name: string, c: BacktestResult['current']) =>
    `${name.padEnd(28)} ${String(c.acted).padStart(6)} ${String(c.asked).padStart(6)} ${String(c.recorded).padStart(9)} ${String(c.escalated).padStart(10)}`;
  const lines = [
    `${result.incidents} incident(s), ${result.decisions} decision(s) in the last ${result.since}`,
    `agreement with the recorded decisions: ${(result.agreement * 100).toFixed(1)}%`,
    ...result.disagreements.map(
      (d) => `  ${d.workflowId} at ${d.at}: recorded ${d.recorded}, replayed ${d.replayed}`,
    ),
    '',
    `${''.padEnd(28)} ${'acted'.padStart(6)} ${'asked'.padStart(6)} ${'recorded'.padStart(9)} ${'escalated'.padStart(10)}`,
    row('today', result.current),
    row('proposed', result.proposed),
  ];
  for (const [target, counts] of Object.entries(result.byTarget)) {
    lines.push(row(`${target} today`, counts.current), row(`${target} proposed`, counts.proposed));
  }
  return lines.join('\n');
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      policy: { type: 'string' },
      since: { type: 'string', default: '24h' },
      target: { type: 'string' },
      json: { type: 'boolean', default: false },
    },
  });
  if (!/^\d{1,6}(m|h|d)$/.test(values.since))
    throw new Error(`--since ${values.since}: use e.g. 30m, 24h, 7d`);
  const result = await runBacktest({
    env: process.env,
    since: values.since,
    ...(values.policy ? { policyFile: path.resolve(values.policy) } : {}),
    ...(values.target ? { target: values.target } : {}),
  });
  const { since: _since, disagreements, ...rest } = result;
  console.log(values.json ? JSON.stringify({ ...rest, disagreements }, null, 2) : print(result));
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  main().catch((err) => {
    console.error(`[backtest] ${err instanceof Error ? err.message : err}`);
    process.exit(1);
  });
}

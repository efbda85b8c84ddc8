// The incident's two desks: the question to a person (approval.ts) and the permit to act (permit.ts).
import type { ApprovalDesk } from '../approval.js';
import type { PermitDesk } from '../permit.js';

export interface Desks {
  approvals: ApprovalDesk;
  permits: PermitDesk;
}

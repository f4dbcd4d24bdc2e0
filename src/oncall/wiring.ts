// How main.ts gives the tick what on-call needs: the workspace's PagerDuty integration (decrypted
// only for the call) and, when a model is configured, its report drafter.
import { loadIntegrations } from '../actions/integrations.js';
import type { Db } from '../db/client.js';
import type { SecretBox } from '../db/secret-box.js';
import type { Logger } from '../log.js';
import type { ReportDrafter } from './report.js';
import type { TickOncall } from './tick-oncall.js';

export function tickOncall(opts: { db: Db; secrets: SecretBox; log: Logger; drafter?: ReportDrafter }): TickOncall {
  return {
    who: { pagerduty: async (workspaceId) => (await loadIntegrations(opts.db, opts.secrets, workspaceId)).find((i) => i.kind === 'pagerduty') },
    log: opts.log,
    ...(opts.drafter ? { drafter: opts.drafter } : {}),
  };
}

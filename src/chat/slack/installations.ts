// Bolt's installation store over Postgres (`slack_installations`): one row per installed team (or
// org-wide install), the whole installation — tokens included — sealed with the SecretBox.
import type { Installation, InstallationQuery, InstallationStore } from '@slack/bolt';
import { and, eq, isNull, or } from 'drizzle-orm';
import type { Db } from '../../db/client.js';
import type { SecretBox } from '../../db/secret-box.js';
import { slackInstallations } from '../../db/schema.js';
import { workspaceId } from './types.js';

export type SlackInstallation = Installation<'v1' | 'v2', boolean>;

export class SlackInstallations implements InstallationStore {
  constructor(
    private readonly db: Db,
    private readonly secrets: SecretBox,
  ) {}

  async storeInstallation(installation: SlackInstallation): Promise<void> {
    const teamId = installation.team?.id ?? null;
    const enterpriseId = installation.enterprise?.id ?? null;
    const owner = installation.isEnterpriseInstall ? enterpriseId : teamId;
    if (!owner) throw new Error('a Slack installation without a team or enterprise id cannot be stored');
    const row = {
      teamId: installation.isEnterpriseInstall ? null : teamId,
      enterpriseId,
      botUserId: installation.bot?.userId ?? null,
      installationEncrypted: this.secrets.seal(JSON.stringify(installation)),
      expiresAt: installation.bot?.expiresAt ? new Date(installation.bot.expiresAt * 1000) : null,
      installedBy: installation.user.id,
      updatedAt: new Date(),
    };
    await this.db
      .insert(slackInstallations)
      .values({ workspaceId: workspaceId(owner), ...row })
      .onConflictDoUpdate({ target: slackInstallations.workspaceId, set: row });
  }

  /** Bolt's lookup: throws when there is none, as Bolt expects. */
  async fetchInstallation(query: InstallationQuery<boolean>): Promise<SlackInstallation> {
    const found = await this.find(query.teamId, query.isEnterpriseInstall ? query.enterpriseId : undefined);
    if (!found) throw new Error(`no Slack installation for team ${query.teamId ?? '-'} / enterprise ${query.enterpriseId ?? '-'}`);
    return found;
  }

  async deleteInstallation(query: InstallationQuery<boolean>): Promise<void> {
    if (query.teamId) await this.remove(query.teamId);
    else if (query.enterpriseId) await this.db.delete(slackInstallations).where(eq(slackInstallations.workspaceId, workspaceId(query.enterpriseId)));
  }

  /** The team's own installation, else its enterprise's org-wide one. */
  async find(teamId: string | undefined, enterpriseId?: string): Promise<SlackInstallation | undefined> {
    const byTeam = teamId ? eq(slackInstallations.workspaceId, workspaceId(teamId)) : undefined;
    const byOrg = enterpriseId ? and(eq(slackInstallations.enterpriseId, enterpriseId), isNull(slackInstallations.teamId)) : undefined;
    const where = byTeam && byOrg ? or(byTeam, byOrg) : (byTeam ?? byOrg);
    if (!where) return undefined;
    const rows = await this.db.select().from(slackInstallations).where(where);
    const row = rows.find((r) => r.teamId === teamId) ?? rows[0];
    return row ? (JSON.parse(this.secrets.open(row.installationEncrypted)) as SlackInstallation) : undefined;
  }

  /** Deletes the team's installation, tokens and all; says whether there was one. */
  async remove(teamId: string): Promise<boolean> {
    const gone = await this.db.delete(slackInstallations).where(eq(slackInstallations.workspaceId, workspaceId(teamId))).returning({ id: slackInstallations.workspaceId });
    return gone.length > 0;
  }

  /** Team ids with a team-level installation (what backfill walks). */
  async teams(): Promise<string[]> {
    const rows = await this.db.select({ teamId: slackInstallations.teamId }).from(slackInstallations);
    return rows.map((r) => r.teamId).filter((t): t is string => Boolean(t));
  }
}

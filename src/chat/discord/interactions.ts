// Interactions on Discord: clicks, submitted forms and `/tacit`. Discord wants an answer within 3 s:
// a click gets a moment for the core to answer with a form (a modal can only be the first answer),
// then it is deferred and the work goes on behind it; answers are ephemeral, escaped, ping nobody.
import {
  MessageFlags, PermissionFlagsBits,
  type ButtonInteraction, type ChatInputCommandInteraction, type Interaction, type ModalSubmitInteraction,
} from 'discord.js';
import type { Logger } from '../../log.js';
import type { Actor, InboundHandlers, InteractionResponse } from '../port.js';
import { denyReasonModal, submittedReason } from './modal.js';
import { commandText, TACIT_COMMAND } from './parse.js';
import { renderPrivate, type RenderedFile } from './render.js';
import { channelId, parseCustomId, workspaceId } from './types.js';

/**
 * Discord wants an answer to a click within 3 s, and a form (a modal) must be that answer: the core
 * gets this long to return one before the click is deferred.
 */
const FORM_WAIT_MS = 1_500;

export interface InteractionDeps {
  handlers(): InboundHandlers;
  log: Logger;
}

export async function onInteraction(deps: InteractionDeps, i: Interaction): Promise<void> {
  try {
    if (i.isButton()) await onButton(deps, i);
    else if (i.isModalSubmit()) await onModal(deps, i);
    else if (i.isChatInputCommand() && i.commandName === TACIT_COMMAND.name) await onCommand(deps, i);
  } catch (err) {
    deps.log.error({ err, interactionId: i.id }, 'discord interaction failed');
    if (!i.isRepliable()) return;
    const sorry = { content: 'Something went wrong on my side; it has been logged.', flags: MessageFlags.Ephemeral, allowedMentions: { parse: [] } } as const;
    // Best effort: the failure itself is logged above; a lost apology only leaves Discord's own "failed".
    await (i.deferred || i.replied ? i.followUp(sorry) : i.reply(sorry)).catch((e: unknown) => deps.log.debug({ err: e }, 'could not say sorry on Discord'));
  }
}

async function onButton(deps: InteractionDeps, i: ButtonInteraction): Promise<void> {
  if (!i.guildId) {
    await i.deferUpdate();
    return;
  }
  const { actionId, value } = parseCustomId(i.customId);
  const pending = deps.handlers().interaction({
    workspaceId: workspaceId(i.guildId), channelId: channelId(i.guildId, i.channelId ?? ''), messageId: i.message.id,
    actionId, value, user: actor(i), raw: i,
  });
  // Discord wants an answer within 3 s, and only a first answer can open a form: the core gets a
  // moment to return one, then the click is acknowledged and the work goes on behind it.
  let timer: NodeJS.Timeout | undefined;
  const early = await Promise.race([
    pending.then((response) => ({ response })),
    new Promise<null>((resolve) => (timer = setTimeout(() => resolve(null), FORM_WAIT_MS))),
  ]);
  clearTimeout(timer);
  const form = early?.response.form;
  if (form?.kind === 'deny_reason') {
    await i.showModal(denyReasonModal(form));
    return;
  }
  await i.deferUpdate();
  const response = early?.response ?? (await pending);
  // The core asked for a form too late to open it: nothing was done, and the person can press again.
  if (response.form?.kind === 'deny_reason') await replyPrivately(i, 'That took me too long to open the form; nothing was done. Press the button again.');
  else if (response.privateText) await replyPrivately(i, response.privateText);
}

/** A submitted form (the Deny reason): the interaction its modal's custom id names, with what was typed. */
async function onModal(deps: InteractionDeps, i: ModalSubmitInteraction): Promise<void> {
  if (i.isFromMessage()) await i.deferUpdate();
  else await i.deferReply({ flags: MessageFlags.Ephemeral });
  if (!i.guildId) return;
  const { actionId, value } = parseCustomId(i.customId);
  const response: InteractionResponse = await deps.handlers().interaction({
    workspaceId: workspaceId(i.guildId), channelId: channelId(i.guildId, i.channelId ?? ''), messageId: i.message?.id ?? '',
    actionId, value, text: submittedReason(i.fields), user: actor(i), raw: i,
  });
  if (response.privateText) await replyPrivately(i, response.privateText);
}

async function onCommand(deps: InteractionDeps, i: ChatInputCommandInteraction): Promise<void> {
  await i.deferReply({ flags: MessageFlags.Ephemeral });
  if (!i.guildId) {
    await i.editReply({ content: 'Use `/tacit` in a server channel.', allowedMentions: { parse: [] } });
    return;
  }
  const parent = i.channel?.isThread() ? i.channel.parentId : null;
  const response = await deps.handlers().command({
    workspaceId: workspaceId(i.guildId), channelId: channelId(i.guildId, parent ?? i.channelId), user: actor(i),
    text: commandText(i.options.data), raw: i,
  });
  const { content, files } = renderPrivate(response.privateText ?? 'Done.');
  await i.editReply({ content, files: attachments(files), allowedMentions: { parse: [] } });
}

async function replyPrivately(i: ButtonInteraction | ModalSubmitInteraction, text: string): Promise<void> {
  const { content, files } = renderPrivate(text);
  await i.followUp({ content, files: attachments(files), flags: MessageFlags.Ephemeral, allowedMentions: { parse: [] } });
}

/**
 * Who clicked, with the roles the interaction's member carries (used to authorise approvals) and
 * whether they may manage the server: the interaction's own `member.permissions` (Administrator
 * counts), which Discord computes for the channel, never a cached guess.
 */
function actor(i: ButtonInteraction | ChatInputCommandInteraction | ModalSubmitInteraction): Actor {
  const member = i.member;
  const roles = !member ? [] : Array.isArray(member.roles) ? [...member.roles] : [...member.roles.cache.keys()].filter((id) => id !== i.guildId);
  const admin = i.memberPermissions?.has(PermissionFlagsBits.ManageGuild) ?? false;
  return { id: i.user.id, name: i.user.globalName ?? i.user.username, roles, admin };
}

function attachments(files: RenderedFile[]) {
  return files.map((f) => ({ attachment: f.data, name: f.name }));
}

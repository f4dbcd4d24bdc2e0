// Files into channels and threads with Slack's external upload flow (files.getUploadURLExternal, the
// bytes to the returned URL, files.completeUploadExternal). Only the last step makes the file visible,
// and the title it sets carries a short tag of the outbox key: the one field of a shared file a retry
// after a crash can search for, so a file is never uploaded twice.
import { createHash } from 'node:crypto';
import type { WebClient } from '@slack/web-api';
import { fileBytes, type FileAttachment } from '../../core/message.js';
import { ChatUnreachableError } from '../errors.js';
import { callSlack } from './calls.js';

const UPLOAD_TIMEOUT_MS = 30_000;

/** `incident-report.md · ref 3f9a2c1b7d`: readable, and unique to the outbox row. */
export function fileTitle(filename: string, idempotencyKey: string): string {
  return `${filename} · ref ${createHash('sha256').update(idempotencyKey).digest('hex').slice(0, 10)}`;
}

export interface FileUpload {
  token: string;
  channel: string;
  threadTs?: string;
  file: FileAttachment;
  /** Shown as the file's message (already escaped mrkdwn). */
  comment: string;
  idempotencyKey: string;
}

/** Uploads and shares one file; returns its id (F…), which stands for the message in the outbox. */
export async function uploadFile(client: WebClient, upload: FileUpload): Promise<string> {
  const { token, channel, threadTs, file } = upload;
  const bytes = fileBytes(file);
  const target = await callSlack(() => client.files.getUploadURLExternal({ token, filename: file.filename, length: bytes.length }));
  if (!target.upload_url || !target.file_id) throw new ChatUnreachableError('no_upload_url', 'files.getUploadURLExternal returned no upload URL');
  let res: Response;
  try {
    res = await fetch(target.upload_url, { method: 'POST', body: bytes, headers: { 'content-type': 'application/octet-stream' }, signal: AbortSignal.timeout(UPLOAD_TIMEOUT_MS) });
    await res.arrayBuffer();
  } catch (err) {
    throw new ChatUnreachableError('upload_failed', `uploading ${file.filename} to Slack failed: ${(err as Error).message}`, { cause: err });
  }
  if (!res.ok) throw new ChatUnreachableError('upload_failed', `uploading ${file.filename} to Slack failed with HTTP ${res.status}`);
  const fileId = target.file_id;
  const files: [{ id: string; title: string }] = [{ id: fileId, title: fileTitle(file.filename, upload.idempotencyKey) }];
  await callSlack(() =>
    threadTs
      ? client.files.completeUploadExternal({ token, files, channel_id: channel, thread_ts: threadTs, initial_comment: upload.comment })
      : client.files.completeUploadExternal({ token, files, channel_id: channel, initial_comment: upload.comment }),
  );
  return fileId;
}

export interface MessageWithFiles {
  ts?: string;
  files?: { id?: string; title?: string }[];
}

/** The id of a file among these messages that was shared under this outbox key, if any. */
export function postedFileId(messages: MessageWithFiles[], idempotencyKey: string): string | null {
  const tag = fileTitle('', idempotencyKey);
  for (const m of messages) {
    const file = m.files?.find((f) => f.title?.endsWith(tag));
    if (file?.id) return file.id;
  }
  return null;
}

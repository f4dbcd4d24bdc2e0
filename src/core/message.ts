// The neutral message model every chat adapter renders: plain text plus a few structured blocks.
// Text here is never trusted to ping anyone: adapters neutralise mentions in it.
export interface Button {
  actionId: string;
  /** Carries only an id; the handler looks everything else up. */
  value: string;
  label: string;
  style?: 'primary' | 'danger';
}

export type Block =
  /** `tone` lets each platform colour the header its own way (emoji, embed colour, CSS). */
  | { kind: 'header'; text: string; tone?: 'danger' | 'warning' | 'success' }
  /**
   * `markdown`: standard Markdown written by the model (summaries, answers); Slack shows it in a
   * `markdown` block, other platforms as ordinary text. Mentions and disguised links are still disarmed.
   */
  | { kind: 'section'; text: string; markdown?: boolean }
  | { kind: 'fields'; fields: { label: string; value: string }[] }
  | { kind: 'context'; text: string }
  | { kind: 'actions'; buttons: Button[] };

/** A file delivered with a message: text (incident report, timeline, log excerpt) or binary (a chart). */
export interface FileAttachment {
  /** A safe file name: letters, digits, `.`, `_` and `-` only. */
  filename: string;
  /** The text itself, or with `encoding: 'base64'` the bytes in base64 (outbox rows are JSON). */
  content: string;
  encoding?: 'base64';
  /** e.g. `image/png`; text files leave it unset. */
  contentType?: string;
}

/** The bytes of a file as they are uploaded. */
export function fileBytes(file: FileAttachment): Buffer {
  return Buffer.from(file.content, file.encoding === 'base64' ? 'base64' : 'utf8');
}

export interface OutgoingMessage {
  /** The fallback and notification text; blocks, when present, are what people see. */
  text: string;
  blocks?: Block[];
  /** Uploaded with the message (Slack: files.uploadV2 with the text as its comment; Discord: an attachment). */
  file?: FileAttachment;
  /** The one person this message may ping (a DM's recipient, the approver asked); everyone else is neutralised. */
  notify?: string;
  /**
   * The person whose question this message answers (a mention or DM): platforms that stream answers
   * (Slack chat.startStream) stream it to them in its thread; others post it as usual.
   */
  answerTo?: string;
}

/** Where a delivered message lives, in the platform's own id space (opaque outside the adapter). */
export interface MessageRef {
  channelId: string;
  messageId: string;
}

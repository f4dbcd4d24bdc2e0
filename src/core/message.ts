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
  | { kind: 'section'; text: string }
  | { kind: 'fields'; fields: { label: string; value: string }[] }
  | { kind: 'context'; text: string }
  | { kind: 'actions'; buttons: Button[] };

/** A text file delivered with a message (incident report, timeline, log excerpt). */
export interface FileAttachment {
  /** A safe file name: letters, digits, `.`, `_` and `-` only. */
  filename: string;
  content: string;
}

export interface OutgoingMessage {
  /** The fallback and notification text; blocks, when present, are what people see. */
  text: string;
  blocks?: Block[];
  /** Uploaded with the message (Slack: files.uploadV2 with the text as its comment; Discord: an attachment). */
  file?: FileAttachment;
  /** The one person this message may ping (a DM's recipient, the approver asked); everyone else is neutralised. */
  notify?: string;
}

/** Where a delivered message lives, in the platform's own id space (opaque outside the adapter). */
export interface MessageRef {
  channelId: string;
  messageId: string;
}

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

export interface OutgoingMessage {
  /** The fallback and notification text; blocks, when present, are what people see. */
  text: string;
  blocks?: Block[];
}

/** Where a delivered message lives, in the platform's own id space (opaque outside the adapter). */
export interface MessageRef {
  channelId: string;
  messageId: string;
}

/** `{"eventId":"` plus `","receivedAt":"`: where the envelope's time starts after the event id. */
const RECEIVED_AT_OFFSET = 28;
/** `","data":`: from the time's closing quote to `data`'s first byte. */
const DATA_AFTER_QUOTE = 9;

/**
 * Where `data`'s JSON starts in an envelope (compact, fields in contract order, ASCII event id and
 * time): after the quote that closes `receivedAt`, whose length the envelope's bytes tell.
 */
export function envelopeDataOffset(envelope: Uint8Array, eventIdLength: number): number {
  const closingQuote = envelope.indexOf(0x22, RECEIVED_AT_OFFSET + eventIdLength);
  return closingQuote + DATA_AFTER_QUOTE;
}

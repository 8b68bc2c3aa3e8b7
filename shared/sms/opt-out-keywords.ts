/**
 * Opt-out keywords, handled as ACS (and the US carriers) handle them on toll-free numbers, here on
 * every number of the pool: an inbound message that is exactly one keyword (any case, blanks around
 * it ignored) opts its sender out of (STOP, ...) or back into (START, UNSTOP) messages from that
 * number of the resource, or asks for help (HELP, INFO); the network's standard answer is sent back
 * from the number. The message is still relayed as an SMSReceived event, as ACS relays them.
 */
export type Keyword = 'optOut' | 'optIn' | 'help';

const KEYWORDS: Record<string, Keyword> = {
  STOP: 'optOut',
  STOPALL: 'optOut',
  UNSUBSCRIBE: 'optOut',
  CANCEL: 'optOut',
  END: 'optOut',
  QUIT: 'optOut',
  START: 'optIn',
  UNSTOP: 'optIn',
  HELP: 'help',
  INFO: 'help',
};

export function keywordOf(text: string): Keyword | undefined {
  return KEYWORDS[text.trim().toUpperCase()];
}

/** The answers the network sends (the US toll-free carriers' defaults, as ACS documents them). */
export const KEYWORD_REPLIES: Record<Keyword, string> = {
  optOut: 'NETWORK MSG: You replied with the word "stop" which blocks all texts sent from this number. Text back "unstop" to receive messages again.',
  optIn: 'NETWORK MSG: You have replied "unstop" and will begin receiving messages again from this number.',
  help: 'NETWORK MSG: Reply STOP to stop receiving messages from this number, and START to receive them again.',
};

/** ACS's words for a message not sent because its recipient opted out. */
export const OPTED_OUT_MESSAGE = 'Sender blocked for given recipient.';

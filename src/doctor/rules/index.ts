/** The rules, one file each, keyed by id (the record makes a missing rule a type error). */
import type { RuleId } from '../thresholds.js';
import type { Rule } from '../types.js';
import { acceptQueueOverflow } from './accept-queue-overflow.js';
import { closeWaitLeak } from './close-wait-leak.js';
import { ephemeralPortExhaustion } from './ephemeral-port-exhaustion.js';
import { finWait1Stuck } from './fin-wait-1-stuck.js';
import { finWait2Orphans } from './fin-wait-2-orphans.js';
import { lastAckStuck } from './last-ack-stuck.js';
import { orphanPressure } from './orphan-pressure.js';
import { synRecvFlood } from './syn-recv-flood.js';
import { synSentStalled } from './syn-sent-stalled.js';
import { timeWaitPileup } from './time-wait-pileup.js';

export const RULES: { readonly [K in RuleId]: Rule<K> } = {
  'time-wait-pileup': timeWaitPileup,
  'ephemeral-port-exhaustion': ephemeralPortExhaustion,
  'close-wait-leak': closeWaitLeak,
  'fin-wait-1-stuck': finWait1Stuck,
  'fin-wait-2-orphans': finWait2Orphans,
  'syn-recv-flood': synRecvFlood,
  'accept-queue-overflow': acceptQueueOverflow,
  'syn-sent-stalled': synSentStalled,
  'last-ack-stuck': lastAckStuck,
  'orphan-pressure': orphanPressure,
};

/**
 * ss's filter language over captured connections (`capture FILE FILTER`): a connection
 * matches when either endpoint, seen as a socket on its own host, matches — the
 * originator as local with its final state, or the responder as local with its own. So
 * `state time-wait` finds connections where either side ended in TIME_WAIT, and
 * `dport = :443` those where one side's peer port is 443.
 */
import { STATE_INFO } from '../core/states.js';
import type { Filter } from '../filter/index.js';
import { filterableRecord, type SocketRecord } from '../records/socket.js';
import type { ConnectionRecord } from './connection.js';

function view(r: ConnectionRecord, local: 'orig' | 'resp'): SocketRecord {
  const state = local === 'orig' ? r.states.orig : r.states.resp;
  return filterableRecord(
    state,
    STATE_INFO[state].linux,
    r.family,
    local === 'orig' ? r.originator : r.responder,
    local === 'orig' ? r.responder : r.originator,
  );
}

export function connectionMatches(filter: Filter, r: ConnectionRecord): boolean {
  return filter.predicate(view(r, 'orig')) || filter.predicate(view(r, 'resp'));
}

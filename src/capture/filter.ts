/**
 * ss's filter language over captured connections (`capture FILE FILTER`): a connection
 * matches when either endpoint, seen as a socket on its own host, matches — the
 * originator as local with its final state, or the responder as local with its own. So
 * `state time-wait` finds connections where either side ended in TIME_WAIT, and
 * `dport = :443` those where one side's peer port is 443.
 */
import { STATE_INFO } from '../core/states.js';
import type { Filter } from '../filter/index.js';
import type { SocketRecord } from '../records/socket.js';
import type { ConnectionRecord } from './connection.js';

function view(r: ConnectionRecord, local: 'orig' | 'resp'): SocketRecord {
  const state = local === 'orig' ? r.states.orig : r.states.resp;
  return {
    state,
    linuxState: STATE_INFO[state].linux,
    family: r.family,
    local: local === 'orig' ? r.originator : r.responder,
    remote: local === 'orig' ? r.responder : r.originator,
    recvQueue: 0,
    sendQueue: 0,
    uid: 0,
    inode: 0,
    timer: null,
    netns: null,
    process: null,
    info: null,
  };
}

export function connectionMatches(filter: Filter, r: ConnectionRecord): boolean {
  return filter.predicate(view(r, 'orig')) || filter.predicate(view(r, 'resp'));
}

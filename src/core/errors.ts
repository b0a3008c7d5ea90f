/**
 * One error base class for the whole toolkit. Every error carries a stable
 * machine-readable `code`; the message says what was wrong, where, and what to do.
 */
export class TcpstateError extends Error {
  readonly code: string;

  constructor(code: string, message: string) {
    super(message);
    this.name = 'TcpstateError';
    this.code = code;
  }
}

/** A state name the state table does not know. */
export class UnknownStateError extends TcpstateError {
  readonly input: string;

  constructor(input: string, known: readonly string[]) {
    super(
      'E_UNKNOWN_STATE',
      `unknown TCP state "${input}"; expected one of ${known.join(', ')} ` +
        '(case-insensitive, "-" or "_", ss/netstat spellings such as estab, syn-recv, time-wait)',
    );
    this.input = input;
  }
}

/** A user call (OPEN, SEND, CLOSE, ...) that the RFC rejects in the current state. */
export class ConnectionCallError extends TcpstateError {
  constructor(call: string, state: string, reason: string) {
    super('E_CALL_REJECTED', `${call} in ${state}: ${reason}`);
  }
}

/** A command-line option with a value the command cannot use. */
export class BadOptionError extends TcpstateError {
  constructor(option: string, value: string, expected: string) {
    super('E_BAD_OPTION', `bad value "${value}" for ${option}: expected ${expected}`);
  }
}

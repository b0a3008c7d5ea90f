/**
 * The scenario format: two endpoints `a` and `b`, a simulated network, and timed steps
 * (user calls, dropped segments, injected segments). Parsing validates everything up
 * front and names the field or step at fault.
 */
import { z } from 'zod';
import { TcpstateError } from '../core/errors.js';
import { PROFILE_NAMES, type ProfileName } from '../core/profile.js';
import { flagsFromTcpdump } from '../core/segment.js';

export const ENDPOINT_IDS = ['a', 'b'] as const;
export type EndpointId = (typeof ENDPOINT_IDS)[number];

export const CALLS = ['listen', 'connect', 'send', 'close', 'shutdown', 'abort', 'read'] as const;
export type CallName = (typeof CALLS)[number];

export const SEGMENT_KINDS = ['syn', 'synack', 'ack', 'data', 'fin', 'rst'] as const;
export type SegmentKind = (typeof SEGMENT_KINDS)[number];

export interface CallStep {
  readonly kind: 'call';
  readonly at: number;
  readonly endpoint: EndpointId;
  readonly call: CallName;
  /** For send (octets to queue) and read (octets to read once). */
  readonly bytes?: number;
  /** For read: stop (false) or resume (true) the application's reading. */
  readonly enabled?: boolean;
}

export interface DropStep {
  readonly kind: 'drop';
  readonly from: EndpointId;
  readonly segment: SegmentKind;
  /** 1-based: the nth segment of that kind sent by `from`. */
  readonly nth: number;
}

export interface InjectStep {
  readonly kind: 'inject';
  readonly at: number;
  readonly to: EndpointId;
  readonly flags: number;
  readonly flagsText: string;
  readonly seqOffset: number;
  readonly ackOffset: number;
  readonly len: number;
  readonly window: number | null;
}

export type Step = CallStep | DropStep | InjectStep;

export interface EndpointConfig {
  readonly iss?: number;
  readonly mss?: number;
  readonly rcvBuffer?: number;
  readonly reading?: boolean;
}

export interface Scenario {
  readonly name: string;
  readonly description: string;
  readonly profile: ProfileName;
  readonly network: { readonly delayMs: number };
  readonly endpoints: { readonly a: EndpointConfig; readonly b: EndpointConfig };
  /** The run stops here even if something is still pending (e.g. endless zero-window probing). */
  readonly maxTimeMs: number;
  readonly steps: readonly Step[];
}

export class ScenarioError extends TcpstateError {
  constructor(where: string, message: string, source?: string) {
    super('E_SCENARIO', `${source !== undefined ? `${source}: ` : ''}${where}: ${message}`);
  }
}

const time = z.number().finite().nonnegative();
const endpointId = z.enum(ENDPOINT_IDS);
const u32 = z.number().int().min(0).max(0xffffffff);

const endpointConfigSchema = z
  .object({
    iss: u32.optional(),
    mss: z.number().int().min(1).max(65535).optional(),
    rcvBuffer: z.number().int().min(1).max(0x3fffffff).optional(),
    reading: z.boolean().optional(),
  })
  .strict();

const headerSchema = z
  .object({
    name: z.string().min(1),
    description: z.string().optional(),
    profile: z.enum(PROFILE_NAMES).optional(),
    network: z.object({ delayMs: time.optional() }).strict().optional(),
    endpoints: z.object({ a: endpointConfigSchema.optional(), b: endpointConfigSchema.optional() }).strict().optional(),
    maxTimeMs: z.number().finite().positive().optional(),
    steps: z.array(z.unknown()).min(1),
  })
  .strict();

const callSchema = z
  .object({
    at: time,
    endpoint: endpointId,
    call: z.enum(CALLS),
    bytes: z.number().int().positive().optional(),
    enabled: z.boolean().optional(),
  })
  .strict();

const dropSchema = z
  .object({
    drop: z
      .object({ from: endpointId, kind: z.enum(SEGMENT_KINDS), nth: z.number().int().positive().default(1) })
      .strict(),
  })
  .strict();

const injectSchema = z
  .object({
    at: time,
    inject: z
      .object({
        to: endpointId,
        flags: z.string(),
        seqOffset: z.number().int().default(0),
        ackOffset: z.number().int().default(0),
        len: z.number().int().nonnegative().default(0),
        window: z.number().int().nonnegative().max(0x3fffffff).optional(),
      })
      .strict(),
  })
  .strict();

function where(path: readonly PropertyKey[], prefix: string): string {
  let out = prefix;
  for (const p of path) out += typeof p === 'number' ? `[${p}]` : out === '' ? String(p) : `.${String(p)}`;
  return out === '' ? '(top level)' : out;
}

function parseWith<T>(schema: z.ZodType<T>, value: unknown, prefix: string, source?: string): T {
  const r = schema.safeParse(value);
  if (!r.success) {
    const issue = r.error.issues[0];
    if (issue === undefined) throw new ScenarioError(prefix || '(top level)', 'invalid', source);
    throw new ScenarioError(where(issue.path, prefix), issue.message, source);
  }
  return r.data;
}

/** Parses and validates a scenario object (already decoded from JSON). */
export function parseScenario(value: unknown, source?: string): Scenario {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ScenarioError('(top level)', 'a scenario is a JSON object with "name" and "steps"', source);
  }
  const header = parseWith(headerSchema, value, '', source);
  const steps: Step[] = header.steps.map((raw, i) => parseStep(raw, `steps[${i}]`, source));
  const a = header.endpoints?.a ?? {};
  const b = header.endpoints?.b ?? {};
  return {
    name: header.name,
    description: header.description ?? '',
    profile: header.profile ?? 'rfc9293',
    network: { delayMs: header.network?.delayMs ?? 10 },
    endpoints: { a: stripUndefined(a), b: stripUndefined(b) },
    maxTimeMs: header.maxTimeMs ?? 3_600_000,
    steps,
  };
}

function stripUndefined(c: z.infer<typeof endpointConfigSchema>): EndpointConfig {
  const out: { iss?: number; mss?: number; rcvBuffer?: number; reading?: boolean } = {};
  if (c.iss !== undefined) out.iss = c.iss;
  if (c.mss !== undefined) out.mss = c.mss;
  if (c.rcvBuffer !== undefined) out.rcvBuffer = c.rcvBuffer;
  if (c.reading !== undefined) out.reading = c.reading;
  return out;
}

function parseStep(raw: unknown, at: string, source?: string): Step {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new ScenarioError(at, 'a step is an object with "call", "drop" or "inject"', source);
  }
  if ('drop' in raw) {
    const d = parseWith(dropSchema, raw, at, source);
    return { kind: 'drop', from: d.drop.from, segment: d.drop.kind, nth: d.drop.nth };
  }
  if ('inject' in raw) {
    const s = parseWith(injectSchema, raw, at, source);
    const flags = flagsFromTcpdump(s.inject.flags);
    if (flags === undefined) {
      throw new ScenarioError(
        `${at}.inject.flags`,
        `"${s.inject.flags}" is not tcpdump flag notation (letters F S R P U and "." for ACK, e.g. "S", "S.", "R", "F.")`,
        source,
      );
    }
    return {
      kind: 'inject',
      at: s.at,
      to: s.inject.to,
      flags,
      flagsText: s.inject.flags,
      seqOffset: s.inject.seqOffset,
      ackOffset: s.inject.ackOffset,
      len: s.inject.len,
      window: s.inject.window ?? null,
    };
  }
  if ('call' in raw) {
    const c = parseWith(callSchema, raw, at, source);
    if (c.call === 'send' && c.bytes === undefined) {
      throw new ScenarioError(`${at}.bytes`, 'send needs "bytes" (how many octets to send)', source);
    }
    if (c.call === 'read' && (c.enabled === undefined) === (c.bytes === undefined)) {
      throw new ScenarioError(
        at,
        'read needs either "enabled": true|false (stop or resume reading) or "bytes" (read once)',
        source,
      );
    }
    if (c.call !== 'send' && c.call !== 'read' && c.bytes !== undefined) {
      throw new ScenarioError(`${at}.bytes`, `"bytes" does not apply to ${c.call}`, source);
    }
    if (c.call !== 'read' && c.enabled !== undefined) {
      throw new ScenarioError(`${at}.enabled`, `"enabled" applies only to read`, source);
    }
    const step: { -readonly [K in keyof CallStep]: CallStep[K] } = {
      kind: 'call',
      at: c.at,
      endpoint: c.endpoint,
      call: c.call,
    };
    if (c.bytes !== undefined) step.bytes = c.bytes;
    if (c.enabled !== undefined) step.enabled = c.enabled;
    return step;
  }
  throw new ScenarioError(at, 'a step needs one of "call", "drop" or "inject"', source);
}

/** Decodes JSON text and parses it; JSON syntax errors name the position. */
export function parseScenarioJson(text: string, source?: string): Scenario {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err: unknown) {
    const msg = err instanceof Error ? err.message : String(err);
    throw new ScenarioError('(JSON)', `not valid JSON: ${msg}`, source);
  }
  return parseScenario(value, source);
}

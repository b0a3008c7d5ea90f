/**
 * libc through koffi (a prebuilt FFI: no compiler at install time), loaded at most once
 * per thread and shared by every caller: the socket readers (ffi-libc.ts), the fd scan
 * (processes.ts) and the lab (../lab/sys.ts). Each declares the calls it needs on the one
 * handle; the errno names come from one map.
 *
 * Nothing loads at import: koffi is required on the first call of {@link libc}, so a
 * command that never calls libc never pays for it. Module state is per thread, so a
 * worker thread (process-scan-worker.ts) loads its own copy, when it first calls in.
 */
import { createRequire } from 'node:module';

/** A C function declared through koffi. */
export interface KoffiFunction {
  (...args: unknown[]): unknown;
}
interface KoffiLib {
  func(prototype: string): KoffiFunction;
}
interface Koffi {
  load(path: string): KoffiLib;
  errno(): number;
  os: { errno: Record<string, number> };
}

/** libc, loaded: declare calls on it and read errno. */
export interface SharedLibc {
  /** The function of a C prototype (declared once per prototype and thread). */
  func(prototype: string): KoffiFunction;
  /** errno of the last failed call on this thread. */
  errno(): number;
  /** Symbolic name of an errno value (`EPERM`), or `errno N`. */
  errnoName(n: number): string;
  /** The value of a symbolic errno name on this system, or undefined. */
  errnoValue(name: string): number | undefined;
}

/** Prototypes of the calls more than one caller declares, spelled once so they are declared once. */
export const PROTOTYPES = {
  socket: 'int socket(int domain, int type, int protocol)',
  bind: 'int bind(int fd, const void *addr, uint32_t addrlen)',
  recv: 'intptr_t recv(int fd, void *buf, size_t len, int flags)',
  close: 'int close(int fd)',
  setns: 'int setns(int fd, int nstype)',
} as const;

/** koffi or libc.so.6 did not load: `part` says which, `thrown` is what it threw. */
export class LibcLoadError extends Error {
  constructor(
    readonly part: 'koffi' | 'libc',
    readonly thrown: unknown,
  ) {
    super(
      part === 'koffi'
        ? `the koffi package did not load (${describe(thrown, true)}); reinstall with npm install koffi`
        : `libc.so.6 did not load (${describe(thrown, false)}); musl systems are not supported yet`,
    );
    this.name = 'LibcLoadError';
  }

  /** What was thrown, as text (only the first line of an error's message with `firstLine`). */
  detail(firstLine: boolean): string {
    return describe(this.thrown, firstLine);
  }
}

function describe(thrown: unknown, firstLine: boolean): string {
  if (!(thrown instanceof Error)) return String(thrown);
  return firstLine ? (thrown.message.split('\n')[0] ?? '') : thrown.message;
}

let loaded: SharedLibc | null = null;
let failed: LibcLoadError | null = null;

/** Loads koffi and libc.so.6 on first use; throws the same LibcLoadError every time when they cannot load. */
export function libc(): SharedLibc {
  if (loaded !== null) return loaded;
  if (failed !== null) throw failed;
  let koffi: Koffi;
  let lib: KoffiLib;
  try {
    koffi = createRequire(import.meta.url)('koffi') as Koffi;
  } catch (e) {
    throw (failed = new LibcLoadError('koffi', e));
  }
  try {
    lib = koffi.load('libc.so.6');
  } catch (e) {
    throw (failed = new LibcLoadError('libc', e));
  }
  const declared = new Map<string, KoffiFunction>();
  let names: Map<number, string> | null = null;
  // Arrow functions only: callers may take them off the object (`errnoName: c.errnoName`).
  loaded = {
    func: (prototype) => {
      let f = declared.get(prototype);
      if (f === undefined) {
        f = lib.func(prototype);
        declared.set(prototype, f);
      }
      return f;
    },
    errno: () => koffi.errno(),
    errnoName: (n) => {
      if (names === null) {
        names = new Map();
        for (const [k, v] of Object.entries(koffi.os.errno)) if (!names.has(v)) names.set(v, k);
      }
      return names.get(n) ?? `errno ${n}`;
    },
    errnoValue: (name) => koffi.os.errno[name],
  };
  return loaded;
}

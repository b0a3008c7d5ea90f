/**
 * tcpstate's public library API.
 */
export * from './core/index.js';
export { parseScenario, parseScenarioJson, ScenarioError } from './sim/scenario.js';
export type { Scenario, Step, CallStep, DropStep, InjectStep, EndpointId, SegmentKind } from './sim/scenario.js';
export { simulate } from './sim/simulator.js';
export type { SimResult, SimTransition, SimSegment, SimNotification, SimulateOptions } from './sim/simulator.js';
export { BUILTIN_SCENARIOS, builtinScenarioNames } from './sim/builtin.js';
export { renderSequenceDiagram } from './sim/sequence-diagram.js';
export { streamSnapshot, collectSnapshot } from './live/snapshot.js';
export type { SnapshotOptions, SnapshotReport } from './live/snapshot.js';
export type { SocketRecord, SocketAddress, SocketTimer, ProcessRef, TcpInfoSubset, Family } from './records/socket.js';
export { parseFilter, FilterError } from './filter/index.js';
export type { Filter, FilterOptions } from './filter/index.js';
export { traceTransitions } from './trace/index.js';
export { CaptureAnalyzer } from './capture/analyzer.js';
export { readCaptureFile, readCaptureStream } from './capture/reader.js';

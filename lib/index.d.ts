// Type declarations for ficus. Written by hand; checked by test/types.
/// <reference types="node" />

import type { EventEmitter } from 'node:events';
import type { IncomingMessage, Server as HttpServer } from 'node:http';
import type { Server as HttpsServer } from 'node:https';
import type { Duplex } from 'node:stream';

// Emitters are typed by their event maps (RouterEvents, DispatcherEvents, BridgeEvents): `on`,
// `once`, `off` and the rest check event names and listener arguments.

/** Options shared by both paths, so a client cannot tell them apart. */
export interface DispatcherOptions {
  /** Native worker threads, each with its own event loop. 0 (default) = one per CPU. */
  threads?: number;
  /** false: never start the native core (every connection on the legacy path). Default true. */
  native?: boolean;
  /** Native connections in all; past it upgrades fall back to legacy. 0 (default) = no limit. */
  maxConnections?: number;
  /** Largest client message; larger closes with 1009. Default 65536. */
  maxMessageBytes?: number;
  /** Per-connection bytes queued for the kernel. Default 1048576. */
  maxBufferedBytes?: number;
  /** What a full send buffer does: skip the message ('drop', default) or close with 1008 ('close'). */
  backpressure?: 'drop' | 'close';
  /** Topics per connection; more closes with 1008. Default 64. */
  maxTopicsPerConnection?: number;
  /** Longest topic name in bytes. Default 256. */
  maxTopicBytes?: number;
  /** Largest published event in bytes. Default 65536. */
  maxEventBytes?: number;
  /** Native: a socket that has not completed its upgrade by then is closed. Default 10000. */
  handshakeTimeoutMs?: number;
  /** A connection silent this long is pinged. Default 30000. */
  pingIntervalMs?: number;
  /** ...and dropped when nothing arrives this long after the ping. Default 30000. */
  pongTimeoutMs?: number;
  /** Wait for the peer's close frame after ours. Default 5000. */
  closeTimeoutMs?: number;
  /** close(): time for connections to finish closing. Default 2000. */
  shutdownTimeoutMs?: number;
  /**
   * Subscribes a connection's Grant may refuse (each answered with
   * `{"type":"error","topic":…,"reason":"forbidden"}`); the next refusal closes it with 1008
   * "too many refused subscribes". 0..65535, default 16.
   */
  maxRefusedSubscribes?: number;
  /**
   * Messages (text, binary, ping and pong frames) a subscriber connection may send per second,
   * on average: a token bucket refilled at this rate holding `messageBurst`; the message past it
   * closes the connection with 1008 "message rate limit exceeded" (counted in `rateLimited`).
   * Publisher connections are not limited. 0 = no limit. 0..1000000, default 100.
   */
  maxMessagesPerSecond?: number;
  /** Messages a subscriber connection may send at once (the bucket's size). 1..1000000, default 200. */
  messageBurst?: number;
  /**
   * Events the stream's history keeps for clients resuming with `since` (docs/api.md, "Stream
   * positions and recovery"). 0 = no history: a `since` is answered `complete:false` unless it is
   * the newest position. 0..10000000, default 100000.
   */
  historyMaxEvents?: number;
  /** Age past which the history drops events, in ms; 0 = no age bound. 0..2147483647, default 300000. */
  historyMaxAgeMs?: number;
  /**
   * Events a replay reads per turn of the loop (the legacy path: shared by all replaying
   * connections; the native path: per worker iteration). 1..1000000, default 2000.
   */
  replayEventsPerTick?: number;
}

/** What `authenticate` grants a connection. */
export interface Grant {
  /**
   * Topics to subscribe at open; default: the `topics` query parameter (if `topicsFromQuery`).
   * One ending in `*` is a wildcard subscription (`'order:*'`: every topic starting with `order:`).
   */
  topics?: string[];
  /** Identity for sticky bucketing and close events; default: `key(req)`, else random. */
  identity?: string;
  /**
   * Topic patterns the client may subscribe to (by message or `?topics=`), besides `topics`:
   * exact topics, or prefixes ending in `*` (`'order:*'`). Only a trailing `*` is a wildcard.
   * A client's wildcard subscription (`'order:o1*'`) is allowed only by a prefix pattern its
   * prefix starts with (`'order:*'`), never by an exact topic.
   * At most 64 together with `topics`. Without `allow` (and without `subscribe: 'any'`) a Grant
   * allows only its own `topics`. Refused topics get an error message (docs/security.md).
   */
  allow?: string[];
  /**
   * `'any'`: the client may subscribe to any topic (the behaviour before grants were permissions;
   * not with `allow`). `'granted'` (default): only `topics` and `allow`.
   */
  subscribe?: 'any' | 'granted';
  /**
   * When these credentials expire (a Date or ms since the epoch): the connection is closed with
   * 3005 "token expired" then, unless a refresh message moves it. Already past: 401.
   */
  expiresAt?: Date | number;
}

/**
 * What the authorize and refresh hooks are given about a connection: not the IncomingMessage (kept
 * for the connection's life, its headers would cost memory on every connection), only this.
 */
export interface ConnectionInfo {
  id: number | string;
  path: PathName;
  url: string;
  remoteAddress: string | null;
  /** What `authenticate` returned (true, or the Grant), or the last refresh's Grant. */
  grant: Grant | true;
}

export interface AttachOptions {
  /** Path served (exact match), or a predicate on the pathname. Default '/ws'. */
  path?: string | ((pathname: string) => boolean);
  /**
   * 'publisher': every text message a connection sends is an event; native ones are ingested by the
   * core without touching the JS thread. Default 'subscriber'.
   */
  role?: 'subscriber' | 'publisher';
  /** Share of new upgrades sent to the native core, 0-100. Default 0. */
  nativePercent?: number;
  /**
   * Identity used for sticky bucketing; a random one when it returns nothing. A header read as
   * `req.headers['x-user-id']` may be an array (a repeated header): its values are joined with ", ".
   */
  key?: (req: IncomingMessage) => string | string[] | number | undefined | null;
  /**
   * Runs before any hand-off. Return (or resolve) a Grant or true to accept; anything else
   * (false, null, nothing) answers 401. A throw/rejection answers 401, is counted in
   * rejectedUpgrades.error and emitted as 'error' on the router when it has a listener.
   */
  authenticate?: (req: IncomingMessage) => Grant | boolean | null | Promise<Grant | boolean | null>;
  /**
   * How long (ms) `authenticate` may take before the upgrade is answered 503 and counted in
   * rejectedUpgrades.authTimeout; a later answer is ignored. 0 = no limit. Default 10000.
   */
  authenticateTimeoutMs?: number;
  /**
   * Decides topics a restricted Grant's patterns do not allow; only `true` (or a promise of it)
   * admits. Asked once per topic per connection (answers are cached); meanwhile the topic is not
   * subscribed. A throw, a timeout or any other answer refuses like the Grant would.
   */
  authorize?: (identity: string, topic: string, connection: ConnectionInfo) => boolean | Promise<boolean>;
  /**
   * Handles a client's {"type":"refresh","token":...}: return a Grant (its expiresAt, and its
   * allow/topics/subscribe when present, replace the connection's) or null to refuse.
   */
  refresh?: (token: string, connection: ConnectionInfo) => Grant | null | Promise<Grant | null>;
  /** How long (ms) authorize or refresh may take before it counts as a refusal. Default 5000. */
  authorizeTimeoutMs?: number;
  /** authorize/refresh calls pending at once across this router's connections; more refuse. Default 10000. */
  maxPendingAuthorizations?: number;
  /** Salt of the bucketing hash; change it to reshuffle who is native. Default 'ficus'. */
  salt?: string;
  /** Read topics from `?topics=a,b` when authenticate grants none. Default true. */
  topicsFromQuery?: boolean;
  /** Header that forces a path per request ('native' | 'legacy'), for testing. Off unless set. */
  overrideHeader?: string;
  /** Connections closed per second while draining (native → legacy) or rebalancing (legacy → native). Default 200. */
  drainRatePerSecond?: number;
  /**
   * Whether a higher percent moves the legacy connections whose bucket is now native (1012 with a
   * retry hint, at `drainRatePerSecond`), so the connection split follows. Default false.
   */
  rebalance?: boolean;
  /**
   * [min, max] retry hint (ms), jittered: in the 1012 close reason of a drain, and (in whole
   * seconds) in the Retry-After of an upgrade the rate brakes refused. Default [1000, 10000].
   */
  retryAfterMs?: [number, number];
  /**
   * Bring your own legacy path: every upgrade not routed native (and every native fallback) is
   * handed to this handler untouched, as the server's own 'upgrade' listener would receive it;
   * ficus's legacy path is then unused. The bucket comes from `key(req)` alone.
   */
  legacy?: (req: IncomingMessage, socket: Duplex, head: Buffer) => void;
  /**
   * Upgrades this router takes per second, on average (a token bucket of `upgradeBurst`), checked
   * before `authenticate`: past it an upgrade is answered 503 with `Retry-After` (seconds,
   * jittered in `retryAfterMs`) and counted in rejectedUpgrades.upgradeRate. Upgrades handed to a
   * `legacy` handler are not counted. 0 = no limit. 0..1000000 (fractions allowed), default 5000.
   */
  maxUpgradesPerSecond?: number;
  /** Upgrades this router takes at once. 1..1000000, default 10000. */
  upgradeBurst?: number;
  /**
   * Upgrades per second, on average, for one identity (the Grant's, else `key(req)`'s), checked
   * after `authenticate` accepted it: past it 503 with `Retry-After`, counted in
   * rejectedUpgrades.identityRate. Connections without an identity are not braked.
   * 0 = no limit. 0..1000000 (fractions allowed), default 2.
   */
  maxIdentityUpgradesPerSecond?: number;
  /** Upgrades one identity may make at once. 1..1000000, default 20. */
  identityUpgradeBurst?: number;
}

export type PathName = 'native' | 'legacy';

export interface Rejection {
  /** Position of the event in the input (array index, or non-blank line). */
  index: number;
  /** Which field and what was wrong, e.g. "order_id: expected a non-empty string". */
  reason: string;
}

export interface PublishResult {
  accepted: number;
  rejected: Rejection[];
}

/** A DeliveryEvent (docs/api.md, "Events"); other fields pass through. */
export interface DeliveryEvent {
  order_id: string;
  status: string;
  /** RFC 3339 date-time. */
  timestamp: string;
  driver_id?: string | null;
  sent_ns?: number;
  [field: string]: unknown;
}

export type PublishInput = DeliveryEvent | string | Buffer | Array<DeliveryEvent | string | Buffer>;

export interface LatencyMs {
  count: number;
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  max: number;
}

/** The part of a prom-client `Registry` ficus uses (structural, so prom-client stays optional). */
export interface PromClientRegistry {
  registerMetric(metric: unknown): void;
  removeSingleMetric(name: string): void;
}

/** Delivery latency as histogram counts: the non-empty buckets as [upperBoundNs, count, ...]. */
export interface LatencyHistogramStats {
  count: number;
  sumNs: number;
  buckets: number[];
}

export interface PathStats {
  available: boolean;
  connections: number;
  upgrades: number;
  delivered: number;
  drops: number;
  sendBufferBytes: number;
  latencyMs: LatencyMs;
  latencyHistogram: LatencyHistogramStats;
  closedByCode: Record<string, number>;
  messagesIn?: number;
  /** Upgrades routed to this path whose handshake it refused (bad version, key, topics; shutting down). */
  handshakesRejected?: number;
  /** Topics clients asked for (by message or query) that their Grant did not allow. */
  subscribesRefused?: number;
  /** Connections closed for sending more messages than maxMessagesPerSecond/messageBurst allow. */
  rateLimited?: number;
  /** Calls of the router's authorize hook, those that refused (any reason) and timed out. */
  authorizeCalls?: number;
  authorizeRefusals?: number;
  authorizeTimeouts?: number;
  /** Refresh messages answered "refreshed" and "refresh failed". */
  refreshes?: number;
  refreshesFailed?: number;
  /** Connections closed with 3005 because their credentials expired. */
  grantsExpired?: number;
  /**
   * Events this path never delivered because the stream trimmed them before it read them (a worker
   * or the legacy path stalled past the stream's backlog bound). Replaces `ingestDropped`.
   */
  eventsMissed?: number;
  /** Resumes from a position: replayed to the end, gap not covered (complete:false), closed 1013. */
  recoveries?: RecoveryStats;
  /** Events sent by replays. */
  replayedEvents?: number;
}

export interface RecoveryStats {
  complete: number;
  incomplete: number;
  overtaken: number;
}

/** The stream's history: the core's when it runs, else the JS one (one per process). */
export interface HistoryStats {
  events: number;
  /** Bytes held: with the core, its memory (frames, topics, per-topic index); else the payloads. */
  bytes: number;
  maxEvents: number;
  maxAgeMs: number;
  /** The epoch positions of this process start with (16 hex digits). */
  epoch: string;
}

export interface NativeThreadStats {
  index: number;
  running: boolean;
  healthy: boolean;
  msSinceLastTick: number;
  /** Loop wakeups at least 500 ms late (a blocked loop), since start. */
  stalls: number;
  connections: number;
  topics: number;
  sendBufferBytes: number;
}

export interface NativePathStats extends PathStats {
  error: string | null;
  fallbacks: number;
  fallbacksByReason: Record<string, number>;
  threads: NativeThreadStats[];
  /** Events from native publisher connections. */
  ingested?: number;
  ingestRejected?: number;
  notificationsDropped?: number;
  commandsDropped?: number;
}

export interface Stats {
  closed: boolean;
  nativePercent: number | null;
  events: { published: number; accepted: number; rejected: number; nativeFailures: number };
  rejectedUpgrades: {
    unauthorized: number;
    error: number;
    closedDuringAuth: number;
    authTimeout: number;
    /** Upgrades for a path no router served, answered 400 (only when no other 'upgrade' listener exists). */
    unservedPath: number;
    /** Past the router's maxUpgradesPerSecond/upgradeBurst, answered 503 with Retry-After. */
    upgradeRate: number;
    /** Past maxIdentityUpgradesPerSecond/identityUpgradeBurst for one identity, answered 503 with Retry-After. */
    identityRate: number;
    /** A `since` that is not a stream position, answered 400 before routing. */
    badPosition: number;
  };
  history: HistoryStats;
  /** Rollback drains (native → legacy). */
  drain: { pending: number; closed: number };
  /** Rebalances upward (legacy → native). */
  rebalance: { pending: number; closed: number };
  /** Each router's rollout plan, once it has one (`router`: its position in attach order). */
  rollouts: RolloutStats[];
  /** Each router's probes, once it started some (`router`: its position in attach order). */
  probes: ProbesRouterStats[];
  /** Probe connections are left out of `connections` and `closedByCode` (see `probes`). */
  paths: { native: NativePathStats; legacy: PathStats };
  /** Present once `bridge()` was called. */
  bridge?: BridgeStats;
}

/** Options of `dispatcher.bridge()` in either mode. */
export interface CommonBridgeOptions {
  /** Reconnect backoff: doubles from this (jittered)... Default 100. */
  backoffMinMs?: number;
  /** ...up to this. Default 5000. */
  backoffMaxMs?: number;
  /** One connection attempt. Default 5000. */
  connectTimeoutMs?: number;
  /** Publish-through messages held while Redis is away; past it they are dropped (counted). Default 10000. */
  maxQueuedPublishes?: number;
  /** And their bytes (at least 1 MiB); past it they are dropped (counted). Default 67108864 (64 MiB). */
  maxQueuedPublishBytes?: number;
  /**
   * Publish-through: collect events this long into one message (fewer messages for every instance
   * to wake for, at up to this much latency). 0 (default): one message per event-loop turn.
   */
  batchWindowMs?: number;
}

/**
 * Stream mode (the default): a Redis Stream is the one ordered stream of events; its entry ids are
 * the positions clients resume from, on any gateway sharing it. Everything published goes
 * through Redis. Needs the native core (else `bridge()` throws ERR_FICUS_NATIVE_UNAVAILABLE).
 */
export interface StreamBridgeOptions extends CommonBridgeOptions {
  mode?: 'stream';
  /** Always true in stream mode (false throws a RangeError). */
  publishThrough?: true;
  /** The stream's key; its epoch is in `<stream>:epoch`. Default 'ficus:stream'. */
  stream?: string;
  /** XADD MAXLEN ~ this. Default: the dispatcher's historyMaxEvents (100000), at least 10000. */
  streamMaxLen?: number;
  /** Entries per XREAD. Default 1000. */
  readCount?: number;
  /** How long one XREAD blocks waiting for entries. Default 1000. */
  readBlockMs?: number;
  /**
   * Who reads the stream: 'native' (the core, on a Redis connection of its own, off the JS
   * thread) or 'js'. Default: 'native', unless the URL is rediss:// (the core does not speak
   * TLS; 'native' with rediss:// throws a RangeError).
   */
  reader?: 'native' | 'js';
  /**
   * Who writes what native publisher connections ingest: 'native' (each worker of the core
   * that ingests them, on a Redis connection of its own, off the JS thread) or 'js'.
   * Default: 'native', unless the URL is rediss:// ('native' with rediss:// throws a RangeError).
   */
  writer?: 'native' | 'js';
}

/** Pub/sub mode: at-most-once, no positions shared across gateways. */
export interface PubSubBridgeOptions extends CommonBridgeOptions {
  mode: 'pubsub';
  /** Channels subscribed; publish-through sends to the first. Default ['ficus:events']. */
  channels?: string[];
  /**
   * true: `publish()` validates here and sends the valid events to Redis instead of delivering
   * them; every bridged instance, this one included, delivers them once when they come back.
   * Default false.
   */
  publishThrough?: boolean;
}

/** Options of `dispatcher.bridge()`. */
export type BridgeOptions = StreamBridgeOptions | PubSubBridgeOptions;

export type BridgeMode = 'stream' | 'pubsub';

/** Stream mode's reader (`stats().bridge.stream`). */
export interface BridgeStreamStats {
  key: string;
  /** Who reads now: 'js' after the core's reader met a reply it could not read, malformed or oversized (an 'error' says so). */
  reader: 'native' | 'js';
  /** Who writes native publishers' events: 'native' once the core's writers started (after the first sync). */
  writer: 'native' | 'js';
  /** The stream's epoch (16 hex digits), null before the first connection. */
  epoch: string | null;
  /** The id of the last entry read ("<ms>-<n>"), where reading resumes after a reconnect. */
  lastId: string | null;
  /** Entries read, valid or not. */
  read: number;
  /** Entries that are not one event in a `data` field (also in `rejected`). */
  invalid: number;
  /** Entries at or before the newest already appended: skipped. */
  duplicates: number;
  /** Times Redis had lost the stream (a new epoch): history dropped, clients resuming from the old one get complete:false. */
  epochChanges: number;
  /** Times entries not yet read had been trimmed (MAXLEN): history dropped likewise. */
  gaps: number;
  /** Age of the newest entry read when it was read (Redis's clock against ours). */
  lagMs: number;
}

export type BridgeState = 'connecting' | 'ready' | 'reconnecting' | 'closed';

export interface BridgeStats {
  state: BridgeState;
  mode: BridgeMode;
  /** Pub/sub: the channels; stream mode: []. */
  channels: string[];
  publishThrough: boolean;
  /** Events received from Redis, valid or not. */
  received: number;
  /** Events published to Redis (publish-through), acknowledged by Redis. */
  published: number;
  /** Invalid events received (also in `events.rejected`). */
  rejected: number;
  /** Publish-through events Redis never took (queue full, cut off). */
  dropped: number;
  /** Times Redis came back after being lost. */
  reconnects: number;
  lastError: string | null;
  /** Total time not connected and subscribed, the first connection included. */
  disconnectedMs: number;
  /** Stream mode only. */
  stream?: BridgeStreamStats;
}

export interface BridgeEvents {
  state: [e: { state: BridgeState; previous: BridgeState }];
  /** Invalid events arrived from Redis (count, and the first reason). */
  rejected: [e: { count: number; reason: string }];
  /** A batch from Redis was delivered: its newline-delimited events and the result. */
  events: [e: { data: Buffer; accepted: number; rejected: Rejection[] }];
  /** A connection error (code ERR_FICUS_REDIS; the bridge reconnects by itself). */
  error: [error: FicusError];
}

/** A dispatcher's link to Redis, a stream or pub/sub (`dispatcher.bridge()`). */
export interface Bridge extends EventEmitter<BridgeEvents> {
  readonly state: BridgeState;
  readonly mode: BridgeMode;
  readonly channels: string[];
  /** Resolves once connected and subscribed; rejects with ERR_FICUS_CLOSED if closed first. */
  ready(): Promise<Bridge>;
  stats(): BridgeStats;
  /** Unsubscribes and disconnects; `publish()` delivers locally again. Idempotent. */
  close(): Promise<void>;
}

export interface MessageEvent {
  path: PathName;
  /** number on the native path, string on the legacy path. */
  id: number | string;
  data: string | Buffer;
  binary: boolean;
}

export interface CloseEvent {
  path: PathName;
  id: number | string;
  code: number;
  identity: string;
}

export type RolloutState = 'running' | 'paused' | 'completed' | 'rolledBack' | 'aborted';
export type CheckResultKind = 'pass' | 'fail' | 'inconclusive';
export type RolloutDecisionKind = 'start' | 'advance' | 'hold' | 'rollback' | 'complete' | 'pause' | 'resume' | 'abort';

/** One path's figures over a rollout interval. */
export interface IntervalPathFigures {
  deliveries: number;
  drops: number;
  upgrades: number;
  /** Open at the interval's start plus opened during it. */
  connections: number;
  closes: Record<string, number>;
  latency: { count: number; p99Ms: number };
}

/** What a rollout check judges: the figures of one interval. */
export interface RolloutInterval {
  ms: number;
  step: number;
  nativePercent: number;
  available: boolean;
  native: IntervalPathFigures;
  legacy: IntervalPathFigures;
  fallbacks: Record<string, number>;
  threads: { index: number; running: boolean; stalls: number }[];
  eventLoopDelay: { p99Ms: number; maxMs: number };
  /** The router's probes over the interval; null when none ran at its end. */
  probes: { native: IntervalProbeFigures; legacy: IntervalProbeFigures } | null;
}

/** One path's probe figures over a rollout interval (events resolved in it). */
export interface IntervalProbeFigures {
  /** Probes configured on the path (0: not probed). */
  probes: number;
  /** Probe connections open at the interval's end. */
  open: number;
  sent: number;
  delivered: number;
  lost: number;
  latency: { count: number; p99Ms: number };
}

export interface CheckOutcome {
  result: CheckResultKind;
  figures?: Record<string, unknown>;
  reason?: string;
}

/** A rollout check: true passes, false fails; a throw (or a slower answer than `interval`) fails. */
export type RolloutCheck = (interval: RolloutInterval) => boolean | CheckOutcome | Promise<boolean | CheckOutcome>;

export interface CheckResult {
  name: string;
  result: CheckResultKind;
  figures: Record<string, unknown>;
  reason: string;
  /** The error's message when the check threw or timed out. */
  error?: string;
}

export interface RolloutDecision {
  /** ISO 8601 time. */
  at: string;
  decision: RolloutDecisionKind;
  state: RolloutState;
  step: number;
  previous: number;
  nativePercent: number;
  reason: string;
  checks: CheckResult[];
}

export interface RolloutOptions {
  /** Rising percents, each 0-100. */
  steps: number[];
  /** ms per analysis interval. Default 60000. */
  interval?: number;
  /** Default `checks.defaults({ probes })`: with the probe check while the router runs probes. */
  checks?: RolloutCheck[];
  /** Failed intervals at one step that roll back. Default 2. */
  threshold?: number;
  /** Where a rollback goes. Default 'zero'. */
  rollbackTo?: 'zero' | 'lastGood';
  /** Each step up moves the legacy connections whose bucket is now native. Default true. */
  rebalance?: boolean;
}

export interface RolloutStatus {
  state: RolloutState;
  step: number;
  steps: number[];
  nativePercent: number;
  interval: number;
  threshold: number;
  rollbackTo: 'zero' | 'lastGood';
  rebalance: boolean;
  failedChecks: number;
  lastGoodStep: number;
  checks: string[];
  lastChecks: CheckResult[];
  history: RolloutDecision[];
}

export interface RolloutStats {
  router: number;
  state: RolloutState;
  step: number;
  stepPercent: number;
  failedChecks: number;
  decisions: Record<RolloutDecisionKind, number>;
  lastChecks: { name: string; result: CheckResultKind }[];
}

export interface Rollout {
  readonly state: RolloutState;
  readonly step: number;
  /** Holds at the current step. ERR_FICUS_ROLLOUT unless running. */
  pause(): void;
  /** Starts a fresh interval. ERR_FICUS_ROLLOUT unless paused. */
  resume(): void;
  /** Stops where it stands (the percent stays). ERR_FICUS_ROLLOUT once stopped. */
  abort(): void;
  status(): RolloutStatus;
}

interface PerPathCheckOptions {
  maxRatio?: number;
  minSamples?: number;
}

/** Factories of the built-in rollout checks. */
export declare const checks: {
  latencyP99(options?: PerPathCheckOptions & { maxMs?: number; slackMs?: number }): RolloutCheck;
  drops(options?: PerPathCheckOptions & { maxPer1000?: number; slackPer1000?: number; closeCodes?: number[] }): RolloutCheck;
  abnormalCloses(options?: PerPathCheckOptions & { codes?: number[]; maxPer1000?: number; slackPer1000?: number }): RolloutCheck;
  fallbacks(options?: { max?: number; ignore?: string[] }): RolloutCheck;
  threadHealth(): RolloutCheck;
  eventLoopDelay(options?: { maxP99Ms?: number }): RolloutCheck;
  /** The router's probes: loss per 1,000 probe events, then their P99 (ms); inconclusive without probes. */
  probe(options?: {
    maxLossPer1000?: number; slackLossPer1000?: number; maxP99Ms?: number; slackMs?: number; maxRatio?: number; minSamples?: number;
  }): RolloutCheck;
  /** The six per-path checks; with `{ probes: true }` the probe check too. */
  defaults(options?: { probes?: boolean }): RolloutCheck[];
};

export interface ProbesOptions {
  /** Probe connections per path (1-100). Default 2. */
  count?: number;
  /** Probe events a second (0.01-100), each delivered to every probe. Default 1. */
  ratePerSecond?: number;
  /** A probe event not received within this many ms (10-600000) is lost. Default 2000. */
  lossAfterMs?: number;
  /** The path the probes connect to. Default: the router's `path` (required when that is a function). */
  pathname?: string;
  /** The address to connect to. Default: the server's own (a wildcard address: loopback). */
  host?: string;
}

/** One path's probes, since they started. */
export interface ProbePathStats {
  /** Probes on this path (0: not probed: no native core or a TLS server, or a bring-your-own legacy path). */
  probes: number;
  open: number;
  connects: number;
  /** Attempts that failed (not listening, refused, closed during the handshake); each retried with backoff. */
  connectFailures: number;
  lastFailure: string | null;
  /** Probe events this path's open probes were expected to receive. */
  sent: number;
  delivered: number;
  /** Not received within lossAfterMs, or still awaited when a probe connection ended. */
  lost: number;
  /** Received after being counted lost. */
  late: number;
  /** Awaited now. */
  pending: number;
  latencyMs: LatencyMs;
  latencyHistogram: { count: number; sumNs: number; buckets: number[] };
}

export interface ProbesStats {
  state: 'running' | 'stopped';
  /** The topic the probe events are published on: `order:ficus:probe:<run>`. */
  topic: string;
  count: number;
  ratePerSecond: number;
  lossAfterMs: number;
  published: number;
  publishFailures: number;
  paths: { native: ProbePathStats; legacy: ProbePathStats };
}

export interface ProbesRouterStats extends ProbesStats {
  router: number;
}

export interface Probes {
  readonly state: 'running' | 'stopped';
  readonly topic: string;
  readonly pathname: string;
  /** Closes the probe connections; the counters stay. Idempotent. */
  stop(): void;
  stats(): ProbesStats;
}

export interface RouterEvents {
  routing: [e: { nativePercent: number; previous: number; drain: boolean; rebalance: boolean }];
  /** A rollout plan's decision. */
  rollout: [e: RolloutDecision];
  fallback: [e: { reason: string }];
  /** Once a connection is open: native when the core took the socket, legacy when its handshake succeeded. */
  connection: [e: { path: PathName; id: number | string; identity: string }];
  /** An upgrade refused because `path`, `key` or `authenticate` threw or a Grant was invalid (the cause). */
  error: [error: FicusError];
}

export interface DispatcherEvents {
  message: [e: MessageEvent];
  close: [e: CloseEvent];
  /** Events the native path did not take (ERR_FICUS_BUSY). */
  error: [error: FicusError];
}

export declare class Router extends EventEmitter<RouterEvents> {
  /** Current share of new upgrades routed native. */
  readonly nativePercent: number;
  /**
   * Changes the share for upgrades from now on. With `{ drain: true }` and a lower percent, native
   * connections whose bucket is no longer native are closed with 1012 at `drainRatePerSecond`.
   * With `{ rebalance: true }` (default: the router's `rebalance` option) and a higher percent,
   * legacy connections whose bucket is now native are moved the same way.
   */
  setNativePercent(percent: number, options?: { drain?: boolean; rebalance?: boolean }): this;
  /** Starts a rollout plan; ERR_FICUS_ROLLOUT while this router's last one is running or paused. */
  rollout(plan: RolloutOptions): Rollout;
  /** Starts per-path probes; ERR_FICUS_PROBES while this router's last ones run. Stopped by detach() and close(). */
  probes(options?: ProbesOptions): Probes;
  /** Stops handling upgrades (existing connections stay). */
  detach(): void;
}

/** Rehearsal faults, off by default (docs/operations.md, "Failpoints"). */
export type FaultName = 'native.worker.stall' | 'native.delivery.drop' | 'native.adopt.refuse' | 'router.authenticate.slow';

export interface FaultParams {
  /** Each worker blocks its loop for `ms` every `everyMs` (1..60000 each). */
  'native.worker.stall': { ms: number; everyMs: number };
  /** This share (above 0, at most 1) of native deliveries is skipped and counted as drops. */
  'native.delivery.drop': { share: number };
  /** Native adopts are refused: upgrades meant for native fall back (`stopped-or-busy`). */
  'native.adopt.refuse': Record<string, never>;
  /** `authenticate` answers `ms` later (1..60000), counted against `authenticateTimeoutMs`. */
  'router.authenticate.slow': { ms: number };
}

export type ActiveFault = { [K in FaultName]: { name: K } & FaultParams[K] }[FaultName];

export interface Faults {
  /** Turns a fault on (or changes its parameters). Native ones need the native core. */
  set<K extends FaultName>(name: K, ...params: FaultParams[K] extends Record<string, never> ? [params?: FaultParams[K]] : [params: FaultParams[K]]): this;
  /** Turns one fault off, or all of them without a name. */
  clear(name?: FaultName): this;
  /** The faults on now. */
  list(): ActiveFault[];
}

export declare class Dispatcher extends EventEmitter<DispatcherEvents> {
  /** Rehearsal faults: break the native path on purpose (staging) and watch the guard act. */
  readonly faults: Faults;
  /** true when the native core runs; otherwise see `nativeError`. */
  readonly nativeAvailable: boolean;
  readonly nativeError: FicusError | null;
  /** Handles WebSocket upgrades for a path of `server`; other upgrades are left alone. */
  attach(server: HttpServer | HttpsServer, options?: AttachOptions): Router;
  /** Validates once and delivers to subscribers on both paths. Invalid events are returned, never delivered. */
  publish(input: PublishInput): PublishResult;
  /** Sends to one connection. true when queued (a native id that just closed still gives true); false when the id is certainly unknown. */
  send(id: number | string, data: string | Buffer): boolean;
  /** Closes one connection with a close frame. code: 1000-1003, 1007-1014 or 3000-4999 (default 1000). */
  closeConnection(id: number | string, code?: number, reason?: string): boolean;
  stats(): Stats;
  /** Prometheus text exposition of stats(), labelled by path. */
  metrics(): string;
  /**
   * Registers the same series in a prom-client registry (default: prom-client's global
   * `register`; prom-client is an optional peer dependency). Delivery latency is a histogram
   * (`ficus_delivery_latency_seconds_bucket{path,le}`, `_sum`, `_count`). Returns a function that
   * unregisters them.
   */
  registerMetrics(registry?: PromClientRegistry): () => void;
  /**
   * Runs this dispatcher on Redis. Stream mode (default): reads a Redis Stream in order and
   * delivers each event with its entry id as position; `publish()` goes through it. Pub/sub:
   * subscribes and delivers what arrives (one publish per event-loop turn); with
   * `publishThrough`, `publish()` goes through Redis. One open bridge per dispatcher;
   * `close()` closes it.
   */
  bridge(redisUrl: string, options?: BridgeOptions): Bridge;
  /**
   * `publish()` to this process's subscribers only (what a bridge delivers). `options.ids`: a
   * shared stream's id ("<ms>-<n>") for each event, in order; then the result has `duplicates`
   * (events at or before the newest already appended, skipped).
   */
  publishLocal(input: PublishInput, options?: { ids?: string[] }): PublishResult & { duplicates?: number };
  /**
   * For a stream bridge: from now on positions come from a shared stream whose epoch is `epoch`
   * (16 lowercase hex digits); history of the old epoch is dropped; native publisher
   * connections' events go to `onIngest` instead of being delivered.
   */
  useSharedStream(epoch: string, onIngest: (data: Buffer) => void): void;
  /** Back to a stream of this process's own, on a new epoch. */
  leaveSharedStream(): void;
  /** The newest position in this process's history ("<epoch>-<ms>-<n>"), or null. */
  lastPosition(): string | null;
  /** Closes the bridge and every connection (1001), stops the native threads. Idempotent. */
  close(): Promise<void>;
}

export declare function createDispatcher(options?: DispatcherOptions): Dispatcher;

export type FicusErrorCode =
  | 'ERR_FICUS_NATIVE_UNAVAILABLE'
  | 'ERR_FICUS_CLOSED'
  | 'ERR_FICUS_BUSY'
  | 'ERR_FICUS_BRIDGED'
  | 'ERR_FICUS_PATH_TAKEN'
  | 'ERR_FICUS_UPGRADE_REFUSED'
  | 'ERR_FICUS_REDIS'
  | 'ERR_FICUS_MISSING_PEER'
  | 'ERR_FICUS_ROLLOUT'
  | 'ERR_FICUS_PROBES';

export declare class FicusError extends Error {
  readonly code: FicusErrorCode;
}

export declare const errorCodes: {
  readonly NATIVE_UNAVAILABLE: 'ERR_FICUS_NATIVE_UNAVAILABLE';
  readonly CLOSED: 'ERR_FICUS_CLOSED';
  readonly BUSY: 'ERR_FICUS_BUSY';
  readonly BRIDGED: 'ERR_FICUS_BRIDGED';
  readonly PATH_TAKEN: 'ERR_FICUS_PATH_TAKEN';
  readonly UPGRADE_REFUSED: 'ERR_FICUS_UPGRADE_REFUSED';
  readonly REDIS: 'ERR_FICUS_REDIS';
  readonly MISSING_PEER: 'ERR_FICUS_MISSING_PEER';
  readonly ROLLOUT: 'ERR_FICUS_ROLLOUT';
  readonly PROBES: 'ERR_FICUS_PROBES';
};
export declare const defaults: Readonly<Required<DispatcherOptions>>;
/** Protocol limits both paths share (the addon reports the same; see docs/operations.md). */
export declare const limits: Readonly<{
  /** A close reason's longest length in UTF-8 bytes. */
  maxCloseReasonBytes: number;
  /** JSON nesting an event or a client message may have. */
  maxDepth: number;
  /** Topics one subscribe message may name when no limit is given. */
  maxTopicsPerMessage: number;
  /** The listen backlog the core's own listener uses (and the example gateway). */
  listenBacklog: number;
  /** Patterns one Grant may hold, its `topics` included. */
  maxGrantPatterns: number;
  /** Topics one connection may have waiting for `authorize` at once. */
  maxPendingAuthorizations: number;
  /** `authorize` answers one connection remembers. */
  maxAuthorizeAnswers: number;
  /** How long a recovery waits for a shared stream to be read up to its `since` (ms). */
  mirrorWaitMs: number;
}>;
/** null when valid, else the reason (the same rules both paths apply). */
export declare function validateEvent(event: DeliveryEvent | string | Buffer): string | null;
/** The routing bucket (0-99) an identity falls in for a salt. */
export declare function bucketOf(identity: string, salt: string): number;
/** Whether the addon could be loaded in this process. */
export declare const nativeAvailable: boolean;

'use strict';
// The Redis bridge's stream mode (lib/redis-bridge.js): one Redis Stream is
// the ordered stream of events for every gateway sharing it. Each entry is
// one event, `data` = its JSON text; its id "<ms>-<n>" becomes the event's
// position "<epoch>-<ms>-<n>", the same on every gateway, so a client that
// read up to a position on one gateway resumes on another (since=<pos>).
//
// The reader runs XREAD BLOCK in a loop on its own connection, strictly in
// order, and hands each batch to dispatcher.publishLocal(..., { ids }).
//
// Epoch: `<key>:epoch` holds 16 random hex digits, set by whichever gateway
// comes first (SET NX). It lives and dies with the stream: a Redis restarted
// without persistence has neither, and the next gateway to connect sets a
// new one. A reader that finds an epoch other than its own has lost the
// old stream: it drops its history (useSharedStream: clients resuming from
// the old epoch get complete:false, never a silent gap) and reads the new
// stream from its start ("0-0"), which only holds events published since
// the restart: nothing of the new epoch is missed. On its very first sync
// the reader starts at the stream's current end instead: older entries
// would reach subscribers as if they were new.
//
// Who reads: by default the core itself (`tail`: native/core stream_tail.h,
// XREAD BLOCK on a worker's loop thread, on a connection of its own), so
// no Node thread stands between Redis and the sockets. This class keeps the
// rest (the epoch, where to start, gap checks, reconnects: the core's
// reader stops at its first error and is started again after a re-sync,
// from the last entry it reported). It reads in JavaScript instead (the
// loop below) for TLS, without a `tail`, and for good once the core's
// reader met a reply it could not read.
//
// Gaps: while the reader was away (or behind), MAXLEN may have trimmed
// entries it had not read; XREAD would silently skip them. XINFO STREAM
// tells (trimmedAfter below), checked on every reconnect and after a full
// batch: then the history is dropped as on an epoch change (same epoch),
// and the gap counted.

const { FicusError, codes } = require('./errors');
const { randomEpoch, isEpoch, compareStreamIds, fitsPosition } = require('./shared-stream');
const { resolveHost } = require('./redis-options');

// One command per turn of published events, each its own entry, in order.
// The core's writer sends the same (native/core stream_appender.h).
const APPEND_SCRIPT = `for i = 2, #ARGV do
  redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[1], '*', 'data', ARGV[i])
end
return #ARGV - 1`;

function appendCommand(key, maxLen, lines) {
  return ['EVAL', APPEND_SCRIPT, '1', key, String(maxLen), ...lines];
}

const NEWLINE = Buffer.from('\n');

// Whether forEachLine (lib/events/lines.js) would skip these bytes as a
// blank line: no id may go to one.
function isBlank(bytes) {
  const end = bytes.length > 0 && bytes[bytes.length - 1] === 0x0d ? bytes.length - 1 : bytes.length;
  for (let i = 0; i < end; i += 1) {
    if (bytes[i] !== 0x20 && bytes[i] !== 0x09) return false;
  }
  return true;
}

function fieldOf(fields, name) {
  for (let i = 0; i + 1 < fields.length; i += 2) {
    if (String(fields[i]) === name) return fields[i + 1];
  }
  return undefined;
}

// Whether XINFO STREAM `info` says entries after `lastId` were removed
// before they could be read. Trimming (MAXLEN) removes the oldest entries,
// and Redis 7.0 does not report them in max-deleted-entry-id (only XDEL
// does), so: from the start ("0-0"), any entry ever added and no longer
// there (entries-added, Redis >= 7); else, a first entry after `lastId`
// (lastId itself trimmed, with at least one node of newer entries kept:
// almost surely some of them unread; at worst a resume is answered
// complete:false), or an empty stream whose last id is after it.
function trimmedAfter(info, lastId) {
  const length = Number(fieldOf(info, 'length'));
  if (lastId === '0-0') {
    const added = fieldOf(info, 'entries-added');
    return added !== undefined && Number(added) > length;
  }
  if (length === 0) {
    const last = fieldOf(info, 'last-generated-id');
    return last !== undefined && compareStreamIds(String(last), lastId) > 0;
  }
  const first = fieldOf(info, 'first-entry');
  return Array.isArray(first) && compareStreamIds(String(first[0]), lastId) > 0;
}

function sleep(ms) {
  return new Promise((resolve) => {
    setTimeout(resolve, ms).unref();
  });
}

class StreamReader {
  #bridge;
  #client;
  #key;
  #epochKey;
  #count;
  #blockMs;
  #backoff;
  #asBytes;
  #stopped = false;
  #epoch = null;
  #lastId = null; // the last entry read (or where reading starts)
  #generation = 0; // connections made; a sync belongs to one
  #syncedGeneration = -1;
  #counters = { read: 0, invalid: 0, duplicates: 0, epochChanges: 0, gaps: 0 };
  #lagMs = 0;
  #failures = 0; // reads that failed in a row (the backoff's count)
  #tail; // where the core's reader connects, or null: read here
  #tailTimeoutMs;
  #tailGeneration = 0;
  #tailEnd = null; // the running tail's 'streamEnded' report
  #tailAddressIndex = 0;
  #checkingGap = false;

  // `respTypes`: the `redis` package's RESP_TYPES (loaded by the bridge:
  // an optional peer dependency). `tail`: { hostname, port, username,
  // password, db } for the core's own reader (lib/redis-options.js
  // coreTarget), or null.
  constructor(bridge, client, {
    key, readCount, readBlockMs, backoff, respTypes, tail = null, timeoutMs = 5000,
  }) {
    this.#asBytes = { typeMapping: { [respTypes.BLOB_STRING]: Buffer } };
    this.#bridge = bridge;
    this.#client = client;
    this.#key = key;
    this.#epochKey = `${key}:epoch`;
    this.#count = readCount;
    this.#blockMs = readBlockMs;
    this.#backoff = backoff;
    this.#tail = tail;
    this.#tailTimeoutMs = timeoutMs;
    this.everSynced = false;
    client.on('ready', () => {
      this.#generation += 1;
      this.#wake();
    });
    client.on('end', () => this.#unsync());
    client.on('reconnecting', () => this.#unsync());
  }

  #waiter = null;

  #wake() {
    if (this.#waiter) {
      const resolve = this.#waiter;
      this.#waiter = null;
      resolve();
    }
  }

  #whenReady() {
    if (this.#client.isReady || this.#stopped) return Promise.resolve();
    return new Promise((resolve) => {
      this.#waiter = resolve;
    });
  }

  #unsync() {
    if (this.#bridge.subscribed) {
      this.#bridge.subscribed = false;
      this.#bridge.update();
    }
  }

  start() {
    this.#run().catch((error) => this.#bridge.noteError(error));
  }

  stop() {
    this.#stopped = true;
    if (this.#tail !== null && !this.#bridge.dispatcher.closed) this.#bridge.dispatcher.stopSharedStreamTail();
    this.#wake();
  }

  async #run() {
    while (!this.#stopped) {
      try {
        await this.#whenReady();
        if (this.#stopped) return;
        if (this.#syncedGeneration !== this.#generation) await this.#sync();
        if (this.#tail !== null) {
          await this.#runTail();
          continue;
        }
        // As bytes: invalid UTF-8 must reach the core's decoder as it is
        // (rejected), not turned into U+FFFD by the client.
        const reply = await this.#client.sendCommand([
          'XREAD', 'BLOCK', String(this.#blockMs), 'COUNT', String(this.#count), 'STREAMS', this.#key, this.#lastId],
        this.#asBytes);
        if (this.#stopped) return;
        this.#failures = 0;
        if (reply) {
          const entries = reply[0][1];
          this.#deliver(entries);
          // A full batch: this reader is behind; entries it has not read
          // may have been trimmed meanwhile.
          if (entries.length >= this.#count) await this.#checkGap();
        }
      } catch (error) {
        if (this.#stopped) return;
        this.#syncedGeneration = -1; // whatever happened, learn the epoch again
        this.#unsync();
        this.#bridge.noteError(error);
        if (this.#client.isReady) {
          // Not a lost connection (then 'ready' paces us): do not spin.
          this.#failures += 1;
          await sleep(this.#backoff(this.#failures));
        }
      }
    }
  }

  // The core reads until its reader ends (a connection error is thrown:
  // re-sync after a backoff; an unreadable reply: read here from now on),
  // the control connection is re-made (re-sync) or the bridge stops.
  async #runTail() {
    // A different address of the host's after each lost connection.
    const address = await resolveHost(this.#tail.hostname, this.#tailAddressIndex);
    const generation = this.#generation;
    if (this.#stopped || this.#syncedGeneration !== generation) return;
    this.#tailGeneration += 1;
    const tailGeneration = this.#tailGeneration;
    this.#tailEnd = null;
    try {
      this.#bridge.dispatcher.tailSharedStream({
        generation: tailGeneration,
        epoch: this.#epoch,
        host: address,
        port: this.#tail.port,
        username: this.#tail.username,
        password: this.#tail.password,
        db: this.#tail.db,
        key: this.#key,
        afterId: this.#lastId,
        count: this.#count,
        blockMs: this.#blockMs,
        timeoutMs: this.#tailTimeoutMs,
      }, (report) => this.#onTailReport(report, report.generation === this.#tailGeneration));
    } catch (error) {
      this.#readInJs(error.message);
      return;
    }
    while (!this.#stopped && this.#tailEnd === null && this.#syncedGeneration === generation
      && this.#generation === generation) {
      await new Promise((resolve) => {
        this.#waiter = resolve;
      });
    }
    const end = this.#tailEnd;
    if (end === null) {
      if (!this.#bridge.dispatcher.closed) this.#bridge.dispatcher.stopSharedStreamTail();
      return;
    }
    if (end.end === 'protocol') {
      this.#readInJs(end.reason);
      return;
    }
    this.#tailAddressIndex += 1; // the next address, if the name has several
    throw new FicusError(codes.REDIS, `stream ${this.#key}: the core's reader lost Redis (${end.reason})`);
  }

  #readInJs(why) {
    this.#tail = null;
    this.#bridge.noteError(new FicusError(codes.REDIS,
      `stream ${this.#key}: the core's reader stopped (${why}); reading in JavaScript from now on`));
  }

  // `current`: of the reader started last. An earlier one's last batch
  // (read before it stopped) is in the stream all the same: delivered to
  // listeners here, while the reader started from the earlier last id
  // reads its entries again, as duplicates (an invalid event among them is
  // rejected, and counted, twice).
  #onTailReport(report, current) {
    if (report.type === 'streamEnded') {
      if (current) {
        this.#lastId = report.lastId;
        this.#tailEnd = report;
        this.#wake();
      }
      return;
    }
    const { accepted, rejected, duplicates } = report.result;
    if (!current) {
      if (accepted > 0) this.#bridge.delivered(report.data, { accepted, rejected, duplicates: 0 });
      return;
    }
    this.#lastId = report.lastId;
    this.#failures = 0;
    this.#countRead(report.entries, report.invalid);
    this.#counters.duplicates += duplicates;
    if (accepted + rejected.length > 0) this.#bridge.delivered(report.data, { accepted, rejected, duplicates });
    // A full batch: the core's reader is behind; entries it has not read
    // may have been trimmed meanwhile.
    if (report.full && !this.#checkingGap) {
      this.#checkingGap = true;
      this.#checkGap()
        .catch((error) => this.#bridge.noteError(error))
        .finally(() => {
          this.#checkingGap = false;
        });
    }
  }

  // Learns the stream's epoch and where to read from, then reports ready.
  async #sync() {
    const generation = this.#generation;
    await this.#client.sendCommand(['SET', this.#epochKey, randomEpoch(), 'NX']);
    const epoch = await this.#client.sendCommand(['GET', this.#epochKey]);
    if (!isEpoch(epoch)) {
      throw new FicusError(codes.REDIS, `${this.#epochKey} holds ${JSON.stringify(epoch)}, not an epoch (16 lowercase hex digits)`);
    }
    if (epoch !== this.#epoch) {
      const first = this.#epoch === null;
      // Asked before anything changes: a sync cut off here starts over.
      const start = first ? await this.#endId() : '0-0';
      this.#bridge.dispatcher.useSharedStream(epoch, (data) => this.#bridge.publishIngested(data));
      if (!first) this.#counters.epochChanges += 1;
      this.#epoch = epoch;
      this.#lastId = start;
    } else {
      await this.#checkGap();
    }
    this.#syncedGeneration = generation;
    if (!this.everSynced) {
      this.everSynced = true;
      this.#bridge.releaseHeld();
    }
    this.#bridge.subscribed = true;
    this.#bridge.update();
  }

  // The id the stream's newest entry got, even if since deleted ("0-0"
  // without a stream): XREAD with "$" again after a timeout would skip what
  // came between two calls.
  async #endId() {
    const info = await this.#info();
    const last = info === null ? undefined : fieldOf(info, 'last-generated-id');
    return last === undefined ? '0-0' : String(last);
  }

  // XINFO STREAM as [name, value, ...], or null without a stream.
  async #info() {
    try {
      return await this.#client.sendCommand(['XINFO', 'STREAM', this.#key]);
    } catch (error) {
      if (/no such key/i.test(error.message)) return null;
      throw error;
    }
  }

  async #checkGap() {
    // As of now: the core's reader may read on (past the hole) meanwhile.
    const lastId = this.#lastId;
    const info = await this.#info();
    if (info === null || !trimmedAfter(info, lastId)) return; // no stream: nothing written yet
    // Entries after the last one read are gone: what this core holds can
    // no longer be resumed from without a hole. Same epoch, fresh history.
    this.#counters.gaps += 1;
    this.#bridge.dispatcher.useSharedStream(this.#epoch, (data) => this.#bridge.publishIngested(data));
    this.#bridge.noteError(new FicusError(codes.REDIS,
      `stream ${this.#key}: entries after ${lastId} were trimmed before this gateway read them; history dropped`));
  }

  // A batch read (by either reader) up to this.#lastId: `entries` of
  // them, `invalid` not one event each.
  #countRead(entries, invalid) {
    this.#counters.read += entries;
    this.#lagMs = Math.max(0, Date.now() - Number(this.#lastId.split('-')[0]));
    if (invalid > 0) {
      this.#counters.invalid += invalid;
      this.#bridge.rejectedEntries(invalid, "stream entry: expected one event in a 'data' field");
    }
  }

  // One XREAD batch: every well-formed entry with its id, in order.
  #deliver(entries) {
    const lines = [];
    const ids = [];
    let invalid = 0;
    for (const [id, fields] of entries) {
      this.#lastId = String(id);
      const data = fieldOf(fields, 'data');
      // One event per entry: a newline would make two lines for one id. An
      // id beyond what a position holds would make the core throw, here,
      // at every retry: such an entry is skipped and counted instead.
      if (data === undefined || data.includes(0x0a) || isBlank(data) || !fitsPosition(this.#lastId)) {
        invalid += 1;
        continue;
      }
      lines.push(data, NEWLINE);
      ids.push(this.#lastId);
    }
    this.#countRead(entries.length, invalid);
    if (lines.length === 0 || this.#bridge.dispatcher.closed) return;
    lines.pop();
    const data = Buffer.concat(lines);
    const result = this.#bridge.dispatcher.publishLocal(data, { ids });
    this.#counters.duplicates += result.duplicates;
    this.#bridge.delivered(data, result);
  }

  stats() {
    return {
      key: this.#key,
      reader: this.#tail === null ? 'js' : 'native',
      epoch: this.#epoch,
      lastId: this.#lastId,
      ...this.#counters,
      lagMs: this.#lagMs,
    };
  }
}

module.exports = { StreamReader, appendCommand, APPEND_SCRIPT };

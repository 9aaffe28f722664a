'use strict';
// Handlers (the C++ SaxAdapter and its two derived handlers)

const { isRfc3339Timestamp } = require('./timestamp');
const { KIND_NULL, KIND_STRING, KIND_OBJECT, KIND_ARRAY } = require('./json-reader');

// What a client message is when it is not a (un)subscribe request.
const OTHER = Object.freeze({ type: 'other' });

// RapidJSON encodes an unpaired low-surrogate escape ("\udc00") as ED B0..BF
// xx, which is not UTF-8; validated raw input never contains it, so finding
// one means such an escape (hasEncodedSurrogate in the C++).
function hasEncodedSurrogate(bytes, length) {
  for (let i = 0; i + 1 < length; i += 1) {
    if (bytes[i] === 0xed && bytes[i + 1] >= 0xa0) return true;
  }
  return false;
}

// Depth bookkeeping and the depth limit, shared by both handlers: the
// container is reported to value() before the parser descends into it.
class SaxAdapter {
  reset(maxDepth) {
    this.maxDepth = maxDepth;
    this.depth = 0;
    this.depthExceeded = false;
  }

  startObject() {
    return this.open(KIND_OBJECT);
  }

  startArray() {
    return this.open(KIND_ARRAY);
  }

  open(kind) {
    if (!this.value(kind, null, 0)) return false;
    if (this.depth >= this.maxDepth) {
      this.depthExceeded = true;
      return false;
    }
    this.depth += 1;
    return true;
  }

  endContainer() {
    this.depth -= 1;
    return true;
  }
}

const F_NONE = 0;
const F_ORDER_ID = 1;
const F_STATUS = 2;
const F_TIMESTAMP = 4;
const F_DRIVER_ID = 8;

// Field names as bytes, compared in place: most keys are rejected on their
// length or first byte, without building a string.
const ORDER_ID = Buffer.from('order_id');
const STATUS = Buffer.from('status');
const TIMESTAMP = Buffer.from('timestamp');
const DRIVER_ID = Buffer.from('driver_id');
const TYPE = Buffer.from('type');
const TOPICS = Buffer.from('topics');
const SUBSCRIBE = Buffer.from('subscribe');
const UNSUBSCRIBE = Buffer.from('unsubscribe');

function bytesEqual(bytes, length, name) {
  if (length !== name.length) return false;
  for (let i = 0; i < length; i += 1) {
    if (bytes[i] !== name[i]) return false;
  }
  return true;
}

function eventFieldNamed(bytes, length) {
  if (bytesEqual(bytes, length, ORDER_ID)) return F_ORDER_ID;
  if (bytesEqual(bytes, length, STATUS)) return F_STATUS;
  if (bytesEqual(bytes, length, TIMESTAMP)) return F_TIMESTAMP;
  if (bytesEqual(bytes, length, DRIVER_ID)) return F_DRIVER_ID;
  return F_NONE;
}

const FIELD_NAME = {
  [F_ORDER_ID]: 'order_id',
  [F_STATUS]: 'status',
  [F_TIMESTAMP]: 'timestamp',
  [F_DRIVER_ID]: 'driver_id',
};

class EventHandler extends SaxAdapter {
  reset(maxDepth) {
    super.reset(maxDepth);
    this.error = '';
    this.pending = F_NONE; // the field whose value comes next
    this.seen = 0; // fields seen, as bits
    this.orderTopic = null;
    this.driverTopic = null;
  }

  key(bytes, length) {
    if (this.depth !== 1) return true;
    this.pending = eventFieldNamed(bytes, length);
    if (this.pending === F_NONE) return true;
    if (this.seen & this.pending) return this.failWith(`duplicate field: ${FIELD_NAME[this.pending]}`);
    this.seen |= this.pending;
    return true;
  }

  value(kind, bytes, length) {
    if (this.depth === 0) return kind === KIND_OBJECT || this.failWith('event: expected a JSON object');
    if (this.depth !== 1 || this.pending === F_NONE) return true;
    const field = this.pending;
    this.pending = F_NONE;
    const isString = kind === KIND_STRING;
    switch (field) {
      case F_ORDER_ID:
        if (!isString || length === 0) return this.failWith('order_id: expected a non-empty string');
        if (hasEncodedSurrogate(bytes, length)) return this.failWith('order_id: unpaired UTF-16 surrogate escape');
        this.orderTopic = `order:${bytes.toString('utf8', 0, length)}`;
        return true;
      case F_STATUS:
        return isString || this.failWith('status: expected a string');
      case F_TIMESTAMP:
        if (!isString) return this.failWith('timestamp: expected a string');
        return isRfc3339Timestamp(bytes.toString('latin1', 0, length)) ||
          this.failWith('timestamp: expected an RFC 3339 date-time');
      default: // F_DRIVER_ID
        if (kind === KIND_NULL) return true;
        if (!isString) return this.failWith('driver_id: expected a string or null');
        if (length === 0) return this.failWith('driver_id: expected a non-empty string or null');
        if (hasEncodedSurrogate(bytes, length)) return this.failWith('driver_id: unpaired UTF-16 surrogate escape');
        this.driverTopic = `driver:${bytes.toString('utf8', 0, length)}`;
        return true;
    }
  }

  failWith(message) {
    this.error = message;
    return false;
  }

  // After a successful parse: the first required field that never appeared.
  missingField() {
    if (!(this.seen & F_ORDER_ID)) return 'missing field: order_id';
    if (!(this.seen & F_STATUS)) return 'missing field: status';
    if (!(this.seen & F_TIMESTAMP)) return 'missing field: timestamp';
    return null;
  }
}

const C_NONE = 0;
const C_TYPE = 1;
const C_TOPICS = 2;

class ClientMessageHandler extends SaxAdapter {
  reset(maxDepth, maxTopicBytes, maxTopicsPerMessage) {
    super.reset(maxDepth);
    this.maxTopicBytes = maxTopicBytes;
    this.maxTopicsPerMessage = maxTopicsPerMessage;
    this.pending = C_NONE;
    this.inTopics = false; // depth-2 values are elements of "topics"
    this.controlType = null; // 'subscribe' / 'unsubscribe' once seen
    this.typeKeys = 0;
    this.topicsKeys = 0;
    this.topicCount = 0;
    this.topics = [];
    this.error = ''; // the first problem with "topics"
  }

  key(bytes, length) {
    if (this.depth !== 1) return true;
    this.inTopics = false;
    if (bytesEqual(bytes, length, TYPE)) {
      this.pending = C_TYPE;
      this.typeKeys += 1;
    } else if (bytesEqual(bytes, length, TOPICS)) {
      this.pending = C_TOPICS;
      this.topicsKeys += 1;
    } else {
      this.pending = C_NONE;
    }
    return true;
  }

  value(kind, bytes, length) {
    // Not an object: certainly not a control message; stop reading.
    if (this.depth === 0) return kind === KIND_OBJECT;
    if (this.depth === 1) {
      const field = this.pending;
      this.pending = C_NONE;
      if (field === C_TYPE) this.onType(kind, bytes, length);
      else if (field === C_TOPICS) this.onTopicsValue(kind);
    } else if (this.depth === 2 && this.inTopics) {
      this.onTopic(kind, bytes, length);
    }
    return true;
  }

  onType(kind, bytes, length) {
    if (kind !== KIND_STRING) return;
    if (bytesEqual(bytes, length, SUBSCRIBE)) this.controlType = 'subscribe';
    else if (bytesEqual(bytes, length, UNSUBSCRIBE)) this.controlType = 'unsubscribe';
  }

  onTopicsValue(kind) {
    if (kind === KIND_ARRAY) this.inTopics = true;
    else if (this.error === '') this.error = 'topics: expected an array of non-empty strings';
  }

  // "type" may follow "topics", so topics are checked and kept whatever the
  // type turns out to be; after the first problem they are only counted.
  onTopic(kind, bytes, length) {
    const index = this.topicCount;
    this.topicCount += 1;
    if (this.error !== '') return;
    if (this.topicCount > this.maxTopicsPerMessage) {
      this.error = `topics: more than ${this.maxTopicsPerMessage} topics`;
      return;
    }
    const where = `topics[${index}]: `;
    if (kind !== KIND_STRING || length === 0) {
      this.error = `${where}expected a non-empty string`;
    } else if (length > this.maxTopicBytes) {
      this.error = `${where}longer than ${this.maxTopicBytes} bytes`;
    } else if (hasEncodedSurrogate(bytes, length)) {
      this.error = `${where}unpaired UTF-16 surrogate escape`;
    } else {
      this.topics.push(bytes.toString('utf8', 0, length));
    }
  }

  // After a successful parse.
  result() {
    if (this.controlType === null) return OTHER;
    let error;
    if (this.typeKeys > 1) error = 'duplicate field: type';
    else if (this.topicsKeys === 0) error = 'missing field: topics';
    else if (this.topicsKeys > 1) error = 'duplicate field: topics';
    else error = this.error;
    if (error !== '') return { type: 'invalid', error };
    return { type: this.controlType, topics: this.topics };
  }
}

const eventHandler = new EventHandler();
const clientHandler = new ClientMessageHandler();

module.exports = { eventHandler, clientHandler, OTHER, F_ORDER_ID, F_STATUS, F_TIMESTAMP };

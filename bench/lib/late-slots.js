'use strict';
// When in a phase events were late: each load generator reports, per 50 ms
// of send time (wall clock, so the processes' slots line up), the worst
// latency of the events sent then. A P99 says how many events were late;
// this says whether they came in a few episodes that hit every client at
// once (a stall somewhere every event passes through) or spread out. A
// slot in which nothing was delivered counts 0: lost events are counted
// apart, never as late.

const MAX_SPAN_MS = 3_600_000;

// The processes' slots merged: `worstMs[i]` is the worst latency of the
// events sent in the i-th slot from `startMs` (wall clock).
function mergeSlots(reports) {
  const worstUs = new Map();
  let slotMs = 0;
  for (const r of reports) {
    if (!r.slots || r.slots.length === 0) continue;
    if (!(r.slot_ms > 0)) throw new Error(`a load generator reports slots without their width (slot_ms ${r.slot_ms})`);
    if (slotMs && r.slot_ms !== slotMs) throw new Error(`load generators report slots of ${slotMs} and ${r.slot_ms} ms`);
    slotMs = r.slot_ms;
    for (const [atMs, us] of r.slots) worstUs.set(atMs, Math.max(worstUs.get(atMs) || 0, us));
  }
  if (worstUs.size === 0) return { startMs: 0, slotMs: 0, worstMs: [] };
  const starts = [...worstUs.keys()].sort((a, b) => a - b);
  const startMs = starts[0];
  const spanMs = starts[starts.length - 1] - startMs;
  // A phase is seconds to minutes; a longer span is a clock that jumped.
  if (spanMs > MAX_SPAN_MS) throw new Error(`load generators' slots span ${spanMs} ms (clocks out of step?)`);
  const worstMs = new Array(Math.round((starts[starts.length - 1] - startMs) / slotMs) + 1).fill(0);
  for (const [atMs, us] of worstUs) worstMs[Math.round((atMs - startMs) / slotMs)] = us / 1000;
  return { startMs, slotMs, worstMs };
}

// Runs of consecutive slots whose worst event was later than `thresholdMs`,
// the worst first: { atMs (from the first slot), lengthMs, worstMs }.
function lateEpisodes({ slotMs, worstMs }, thresholdMs) {
  const episodes = [];
  let open = null;
  worstMs.forEach((ms, i) => {
    if (ms <= thresholdMs) {
      open = null;
      return;
    }
    if (!open) {
      open = { atMs: i * slotMs, lengthMs: 0, worstMs: 0 };
      episodes.push(open);
    }
    open.lengthMs += slotMs;
    open.worstMs = Math.max(open.worstMs, ms);
  });
  return episodes.sort((a, b) => b.worstMs - a.worstMs);
}

// One line for a log: how many slots were late and the worst episodes.
function describeLate(timeline, thresholdMs, shown = 4) {
  const episodes = lateEpisodes(timeline, thresholdMs);
  const late = timeline.worstMs.filter((ms) => ms > thresholdMs).length;
  const worst = episodes.slice(0, shown)
    .map((e) => `+${(e.atMs / 1000).toFixed(2)} s for ${e.lengthMs} ms (worst ${e.worstMs.toFixed(1)})`);
  return `${late} of ${timeline.worstMs.length} ${timeline.slotMs}-ms slots had an event later than ${thresholdMs} ms, ` +
    `in ${episodes.length} episode(s)${worst.length ? `; worst: ${worst.join(', ')}` : ''}`;
}

module.exports = { mergeSlots, lateEpisodes, describeLate };

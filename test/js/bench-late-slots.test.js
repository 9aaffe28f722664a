'use strict';
// The scale scenario's "when were events late" (bench/lib/late-slots.js):
// the load generators' per-slot worst latencies merged across processes,
// and runs of late slots told apart.

const { mergeSlots, lateEpisodes, describeLate } = require('../../bench/lib/late-slots');

// Two processes' reports: [slot start in ms (wall clock), worst in µs].
const reports = [
  { slot_ms: 50, slots: [[1000, 4000], [1100, 45000], [1250, 2000]] },
  { slot_ms: 50, slots: [[1050, 52000], [1150, 3000], [1300, 25000]] },
];

test('slots are merged by their start, the worst of every process kept, silent slots 0', () => {
  expect(mergeSlots(reports)).toEqual({ startMs: 1000, slotMs: 50, worstMs: [4, 52, 45, 3, 0, 2, 25] });
  expect(mergeSlots([{ slot_ms: 50, slots: [] }, {}])).toEqual({ startMs: 0, slotMs: 0, worstMs: [] });
  expect(() => mergeSlots([reports[0], { slot_ms: 100, slots: [[1000, 1]] }])).toThrow(/slots of 50 and 100 ms/);
  expect(() => mergeSlots([{ slots: [[1000, 1]] }])).toThrow(/without their width/);
  expect(() => mergeSlots([{ slot_ms: 50, slots: [[1000, 1], [1000 + 7_200_000, 1]] }])).toThrow(/clocks out of step/);
});

test('consecutive late slots are one episode; the worst episode first', () => {
  const timeline = mergeSlots(reports);
  expect(lateEpisodes(timeline, 20)).toEqual([
    { atMs: 50, lengthMs: 100, worstMs: 52 },
    { atMs: 300, lengthMs: 50, worstMs: 25 },
  ]);
  expect(lateEpisodes(timeline, 60)).toEqual([]);
  expect(describeLate(timeline, 20)).toBe(
    '3 of 7 50-ms slots had an event later than 20 ms, in 2 episode(s); worst: +0.05 s for 100 ms (worst 52.0), +0.30 s for 50 ms (worst 25.0)',
  );
});

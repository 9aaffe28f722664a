'use strict';
// A tiny line chart drawn as inline SVG: time on x (the last `windowMs`),
// values on y from 0 to a rounded-up maximum. Colours come from style.css
// classes, so the page needs no inline styles.

(function defineChart(global) {
  const SVG = 'http://www.w3.org/2000/svg';
  const PAD = { left: 48, right: 10, top: 10, bottom: 22 };

  function el(name, attrs, text) {
    const node = document.createElementNS(SVG, name);
    for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, String(value));
    if (text !== undefined) node.textContent = text;
    return node;
  }

  // 1, 2 or 5 times a power of ten, at least `value`.
  function niceMax(value) {
    if (!(value > 0)) return 1;
    const power = 10 ** Math.floor(Math.log10(value));
    for (const step of [1, 2, 5, 10]) if (step * power >= value) return step * power;
    return 10 * power;
  }

  function formatTick(value) {
    if (value === 0) return '0';
    if (value >= 1000) return `${value / 1000}k`;
    return value < 1 ? value.toFixed(value < 0.1 ? 2 : 1) : String(Math.round(value * 10) / 10);
  }

  // series: [{ cls: 'native-p50', points: [{ t: ms, v: number }] }]
  function drawLineChart(svg, series, { windowMs = 60000, now = Date.now() } = {}) {
    const [, , width, height] = svg.getAttribute('viewBox').split(' ').map(Number);
    const plotW = width - PAD.left - PAD.right;
    const plotH = height - PAD.top - PAD.bottom;
    const start = now - windowMs;
    let max = 0;
    for (const s of series) for (const p of s.points) if (p.t >= start && p.v > max) max = p.v;
    const top = niceMax(max);
    const x = (t) => PAD.left + ((t - start) / windowMs) * plotW;
    const y = (v) => PAD.top + plotH - (Math.min(v, top) / top) * plotH;

    svg.replaceChildren();
    for (let i = 0; i <= 4; i += 1) {
      const value = (top * i) / 4;
      svg.append(el('line', { class: 'grid', x1: PAD.left, x2: width - PAD.right, y1: y(value), y2: y(value) }));
      svg.append(el('text', { class: 'tick', x: PAD.left - 6, y: y(value) + 4, 'text-anchor': 'end' }, formatTick(value)));
    }
    for (const secondsAgo of [60, 45, 30, 15, 0]) {
      const label = secondsAgo === 0 ? 'now' : `-${secondsAgo}s`;
      svg.append(el('text', { class: 'tick', x: x(now - secondsAgo * 1000), y: height - 6, 'text-anchor': 'middle' }, label));
    }
    for (const s of series) {
      const visible = s.points.filter((p) => p.t >= start);
      if (visible.length < 2) continue;
      const d = visible.map((p, i) => `${i === 0 ? 'M' : 'L'}${x(p.t).toFixed(1)},${y(p.v).toFixed(1)}`).join(' ');
      svg.append(el('path', { class: `line ${s.cls}`, d }));
    }
  }

  global.drawLineChart = drawLineChart;
}(window));

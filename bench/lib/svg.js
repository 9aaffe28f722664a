'use strict';
// A small line chart as a standalone SVG (no dependency): linear x axis,
// logarithmic y axis, one polyline with markers per series.

const W = 720;
const H = 420;
const M = { left: 70, right: 170, top: 44, bottom: 56 };

const esc = (s) => String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

function niceStep(range, ticks) {
  const raw = range / ticks;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const norm = raw / mag;
  return (norm < 1.5 ? 1 : norm < 3 ? 2 : norm < 7 ? 5 : 10) * mag;
}

function fmtX(v) {
  return v >= 1000 ? `${v / 1000}k` : String(v);
}

function fmtY(v) {
  return v >= 1 ? String(v) : v.toString();
}

// series: [{ name, color, dash, points: [[x, y], ...], failed: [[x, y]] }]
// y values outside [yMin, yMax] are clamped and drawn hollow.
function lineChart({ title, subtitle, xLabel, yLabel, series, xMax, yMin = 0.05, yMax = 2000, hLines = [] }) {
  const pw = W - M.left - M.right;
  const ph = H - M.top - M.bottom;
  const lx = (x) => M.left + (x / xMax) * pw;
  const ly = (y) => {
    const c = Math.min(Math.max(y, yMin), yMax);
    return M.top + ph - ((Math.log10(c) - Math.log10(yMin)) / (Math.log10(yMax) - Math.log10(yMin))) * ph;
  };
  const out = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="Helvetica, Arial, sans-serif" font-size="12">`);
  out.push(`<rect width="${W}" height="${H}" fill="#ffffff"/>`);
  out.push(`<text x="${M.left}" y="20" font-size="15" font-weight="bold">${esc(title)}</text>`);
  if (subtitle) out.push(`<text x="${M.left}" y="36" fill="#555">${esc(subtitle)}</text>`);
  // Grid and axes.
  const step = niceStep(xMax, 8);
  for (let x = 0; x <= xMax + 1e-9; x += step) {
    out.push(`<line x1="${lx(x)}" y1="${M.top}" x2="${lx(x)}" y2="${M.top + ph}" stroke="#eee"/>`);
    out.push(`<text x="${lx(x)}" y="${M.top + ph + 16}" text-anchor="middle">${fmtX(x)}</text>`);
  }
  for (let e = Math.ceil(Math.log10(yMin)); e <= Math.floor(Math.log10(yMax)); e += 1) {
    const y = 10 ** e;
    out.push(`<line x1="${M.left}" y1="${ly(y)}" x2="${M.left + pw}" y2="${ly(y)}" stroke="#ddd"/>`);
    out.push(`<text x="${M.left - 6}" y="${ly(y) + 4}" text-anchor="end">${fmtY(y)}</text>`);
  }
  for (const h of hLines) {
    out.push(`<line x1="${M.left}" y1="${ly(h.y)}" x2="${M.left + pw}" y2="${ly(h.y)}" stroke="${h.color || '#c00'}" stroke-dasharray="2,3"/>`);
    out.push(`<text x="${M.left + pw - 4}" y="${ly(h.y) - 4}" text-anchor="end" fill="${h.color || '#c00'}">${esc(h.label)}</text>`);
  }
  out.push(`<rect x="${M.left}" y="${M.top}" width="${pw}" height="${ph}" fill="none" stroke="#888"/>`);
  out.push(`<text x="${M.left + pw / 2}" y="${H - 14}" text-anchor="middle">${esc(xLabel)}</text>`);
  out.push(`<text transform="translate(18 ${M.top + ph / 2}) rotate(-90)" text-anchor="middle">${esc(yLabel)}</text>`);
  // Series.
  series.forEach((s, i) => {
    const pts = s.points.filter(([, y]) => y !== null && y !== undefined);
    if (pts.length) {
      out.push(`<polyline fill="none" stroke="${s.color}" stroke-width="2" ${s.dash ? `stroke-dasharray="${s.dash}"` : ''} points="${pts.map(([x, y]) => `${lx(x).toFixed(1)},${ly(y).toFixed(1)}`).join(' ')}"/>`);
      for (const [x, y] of pts) {
        const clipped = y > yMax || y < yMin;
        out.push(`<circle cx="${lx(x).toFixed(1)}" cy="${ly(y).toFixed(1)}" r="3" fill="${clipped ? '#fff' : s.color}" stroke="${s.color}"/>`);
      }
    }
    for (const [x, y] of s.failed || []) {
      out.push(`<text x="${lx(x).toFixed(1)}" y="${(ly(y) + 4).toFixed(1)}" text-anchor="middle" fill="${s.color}" font-weight="bold">×</text>`);
    }
    const ly0 = M.top + 10 + i * 18;
    out.push(`<line x1="${M.left + pw + 14}" y1="${ly0}" x2="${M.left + pw + 40}" y2="${ly0}" stroke="${s.color}" stroke-width="2" ${s.dash ? `stroke-dasharray="${s.dash}"` : ''}/>`);
    out.push(`<text x="${M.left + pw + 46}" y="${ly0 + 4}">${esc(s.name)}</text>`);
  });
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}

module.exports = { lineChart };

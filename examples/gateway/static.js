'use strict';
// The dashboard's static files. Only the files listed here are served, read
// once at start: no path from the URL ever reaches the file system.

const fs = require('node:fs');
const path = require('node:path');
const { send } = require('./http-util');

const PUBLIC = path.join(__dirname, 'public');
const FILES = {
  '/': ['index.html', 'text/html; charset=utf-8'],
  '/index.html': ['index.html', 'text/html; charset=utf-8'],
  '/http.js': ['http.js', 'text/javascript; charset=utf-8'],
  '/resume.js': ['resume.js', 'text/javascript; charset=utf-8'],
  '/app.js': ['app.js', 'text/javascript; charset=utf-8'],
  '/chart.js': ['chart.js', 'text/javascript; charset=utf-8'],
  '/rollout.js': ['rollout.js', 'text/javascript; charset=utf-8'],
  '/style.css': ['style.css', 'text/css; charset=utf-8'],
};

function staticRoutes() {
  return Object.entries(FILES).map(([urlPath, [file, type]]) => {
    const body = fs.readFileSync(path.join(PUBLIC, file));
    return {
      method: 'GET',
      path: urlPath,
      name: 'static',
      handle(req, res) {
        // A page only ever talks to this origin.
        send(res, 200, body, type, {
          'Content-Security-Policy': "default-src 'self'; connect-src 'self' ws: wss:; img-src 'self' data:",
          'X-Content-Type-Options': 'nosniff',
        });
      },
    };
  });
}

module.exports = { staticRoutes };

'use strict';
// /proc readings taken by the harness itself (the load generator samples
// the same files during runs), and a description of the machine.

const fs = require('node:fs');
const path = require('node:path');
const os = require('node:os');
const { execFileSync } = require('node:child_process');

const TICK_NS = 1e9 / 100; // USER_HZ is 100 on Linux

function readProc(pid) {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // fields[0] is field 3 (state): utime is field 14, stime 15.
    const cpuNs = (Number(fields[11]) + Number(fields[12])) * TICK_NS;
    const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (name) => {
      const m = new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status);
      return m ? Number(m[1]) * 1024 : null;
    };
    const fdCount = (() => {
      try {
        return fs.readdirSync(`/proc/${pid}/fd`).length;
      } catch {
        return null;
      }
    })();
    return { cpuNs, rss: kb('VmRSS'), hwm: kb('VmHWM'), threads: Number(/^Threads:\s+(\d+)/m.exec(status)?.[1]), fds: fdCount };
  } catch {
    return null;
  }
}

// Whole-machine CPU time from /proc/stat, in nanoseconds: busy (user,
// nice, system, irq, softirq, steal) and total.
function readSystemCpu() {
  try {
    const line = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0];
    const [user, nice, system, idle, iowait, irq, softirq, steal] = line.trim().split(/\s+/).slice(1, 9).map(Number);
    const busy = user + nice + system + irq + softirq + (steal || 0);
    return { busyNs: busy * TICK_NS, totalNs: (busy + idle + iowait) * TICK_NS };
  } catch {
    return null;
  }
}

function tryRun(cmd, args) {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 5000 }).trim();
  } catch {
    return null;
  }
}

// Which addon the gateways load, and the optimisation flags it was compiled
// with (node-gyp keeps each object's command line in build/Release/.deps).
function addonInfo(root, addon) {
  const file = addon || path.join(root, 'build', 'Release', 'ficus.node');
  const buildDir = path.resolve(path.dirname(file), '..');
  const dep = path.join(buildDir, 'Release', '.deps', 'Release', 'obj.target', 'ficus', 'native', 'core', 'src', 'core.o.d');
  let optimization;
  try {
    const cmd = fs.readFileSync(dep, 'utf8').split('\n')[0];
    const flags = cmd.match(/\s-O[0-3sgz]?(?=\s)/g);
    optimization = flags ? [...new Set(flags.map((f) => f.trim()))].join(' ') : 'none given (g++ default: -O0)';
  } catch {
    optimization = 'unknown';
  }
  let mtime = null;
  try {
    mtime = fs.statSync(file).mtime.toISOString();
  } catch {
    // missing
  }
  return { path: path.relative(root, file).startsWith('..') ? file : path.relative(root, file), optimization, builtAt: mtime };
}

function machine(root, addon = null) {
  const cpuinfo = fs.readFileSync('/proc/cpuinfo', 'utf8');
  const model = /^model name\s*:\s*(.*)$/m.exec(cpuinfo);
  let limits = null;
  try {
    limits = /^Max open files\s+(\S+)\s+(\S+)/m.exec(fs.readFileSync('/proc/self/limits', 'utf8'));
  } catch {
    // not Linux
  }
  const osRelease = (() => {
    try {
      return /^PRETTY_NAME="?([^"\n]*)"?/m.exec(fs.readFileSync('/etc/os-release', 'utf8'))[1];
    } catch {
      return os.type();
    }
  })();
  return {
    cpu: model ? model[1] : os.cpus()[0]?.model,
    cores: os.availableParallelism(),
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    os: osRelease,
    kernel: os.release(),
    node: process.version,
    gxx: tryRun('g++', ['-dumpfullversion']),
    openFilesLimit: limits ? { soft: limits[1], hard: limits[2] } : null,
    loadAverageAtStart: os.loadavg().map((x) => Math.round(x * 100) / 100),
    addon: addonInfo(root, addon),
    gitCommit: tryRun('git', ['-C', root, 'rev-parse', '--short', 'HEAD']),
    // Changes to the code, not to the files the bench itself writes as it goes.
    gitDirty: (tryRun('git', ['-C', root, 'status', '--porcelain', '--', '.', ':(exclude)bench/results', ':(exclude)docs/benchmarks.md',
      ':(exclude)docs/benchmarks-*.svg']) || '').length > 0,
  };
}

module.exports = { readProc, readSystemCpu, machine, addonInfo };

'use strict';
// Waiting on forked test processes (test/js/fixtures/*) over IPC.

// The first message from `child` that has `key`; rejects if the child
// exits first or reports { error } (a fixture's crash, with its stack).
function once(child, key) {
  return new Promise((resolve, reject) => {
    const cleanUp = () => {
      child.off('message', onMessage);
      child.off('exit', onExit);
    };
    const onExit = (code) => {
      cleanUp();
      reject(new Error(`child exited (${code}) before sending ${key}`));
    };
    const onMessage = (m) => {
      if (m && m.error !== undefined && key !== 'error') {
        cleanUp();
        reject(new Error(`child failed before sending ${key}: ${m.error}`));
      } else if (m && m[key] !== undefined) {
        cleanUp();
        resolve(m);
      }
    };
    child.on('message', onMessage);
    child.once('exit', onExit);
  });
}

module.exports = { once };

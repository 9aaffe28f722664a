'use strict';
// The dashboard's rollout panel: starts, pauses, resumes and aborts a plan
// through POST /admin/rollout, polls GET /admin/rollout for its state and
// decisions (each with the check figures behind it) and the split of open
// connections; turns failpoints on and off through PUT /admin/faults.
// Independent of app.js: its own elements (ids rollout-*, fault-*), its
// own poll; requests through http.js.

(function rolloutPanel() {
  const POLL_MS = 1000;
  const MAX_TIMELINE = 50; // newest first

  const $ = (id) => document.getElementById(id);
  let faultsOn = []; // [{ name, ...params }] as the gateway last said
  let presets = [];
  let shownDecisions = ''; // key of the rendered timeline, to redraw only on change

  const requestJson = window.ficusRequestJson; // http.js

  function say(text, isError) {
    const node = $('rollout-message');
    node.textContent = text;
    node.classList.toggle('error', Boolean(isError));
  }

  function element(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  // { native: 3, legacy: 4, byReason: { tls: 1 } } -> "native 3 · legacy 4 · byReason {"tls":1}"
  function figuresText(figures) {
    return Object.entries(figures || {})
      .map(([key, value]) => `${key} ${typeof value === 'object' && value !== null ? JSON.stringify(value) : value}`)
      .join(' · ');
  }

  // ---- the plan -------------------------------------------------------------

  function planFromForm() {
    const steps = $('rollout-steps').value.split(/[\s,]+/).filter(Boolean).map(Number);
    const checks = {};
    for (const box of document.querySelectorAll('#rollout-checks input[type=checkbox]')) {
      if (box.checked) checks[box.value] = true;
    }
    return {
      steps,
      interval: Math.round(Number($('rollout-interval').value) * 1000),
      threshold: Number($('rollout-threshold').value),
      rollbackTo: $('rollout-rollback-to').value,
      checks,
    };
  }

  async function command(body, done) {
    try {
      render(await requestJson('POST', '/admin/rollout', body));
      say(done);
    } catch (err) {
      say(err.message, true);
    }
  }

  function renderState(plan, nativePercent) {
    const active = plan && (plan.state === 'running' || plan.state === 'paused');
    $('rollout-start').disabled = Boolean(active);
    $('rollout-pause').disabled = !plan || plan.state !== 'running';
    $('rollout-resume').disabled = !plan || plan.state !== 'paused';
    $('rollout-abort').disabled = !active;
    const state = $('rollout-state');
    state.dataset.state = plan ? plan.state : 'none';
    if (!plan) {
      state.textContent = `no plan yet — ${nativePercent}% native`;
      return;
    }
    const steps = plan.steps.map((s, i) => (i === plan.step ? `[${s}]` : String(s))).join(' → ');
    state.textContent = `${plan.state} — step ${plan.step + 1} of ${plan.steps.length} (${steps} %) — ` +
      `${plan.nativePercent}% native — failed intervals ${plan.failedChecks} of ${plan.threshold} — every ${plan.interval / 1000} s`;
  }

  // Buckets say where new upgrades go; connections where clients are.
  function renderConnections(nativePercent, { native, legacy }) {
    const all = native + legacy;
    const share = all > 0 ? Math.round((native * 1000) / all) / 10 : 0;
    $('rollout-share-native').style.width = `${share}%`;
    $('rollout-share-legacy').style.width = all > 0 ? `${100 - share}%` : '0';
    $('rollout-connections').textContent = `buckets ${nativePercent}% native · connections ${native.toLocaleString('en-US')} native / ` +
      `${legacy.toLocaleString('en-US')} legacy (${share}% native)`;
  }

  function decisionItem(entry) {
    const item = element('li', `decision ${entry.decision}`);
    item.dataset.decision = entry.decision;
    const head = element('div', 'decision-head');
    head.append(
      element('time', 'muted', entry.at.slice(11, 19)),
      element('span', `tag ${entry.decision}`, entry.decision),
      element('span', 'percent', entry.previous === entry.nativePercent ? `${entry.nativePercent}%` : `${entry.previous}% → ${entry.nativePercent}%`),
      element('span', 'reason', entry.reason),
    );
    item.append(head);
    if (entry.checks.length > 0) {
      const checks = element('ul', 'checks');
      for (const check of entry.checks) {
        const line = element('li', `check ${check.result}`);
        line.append(element('b', null, `${check.name} ${check.result}`), ` — ${check.reason}`);
        const figures = figuresText(check.figures);
        if (figures) line.append(element('span', 'figures muted', ` (${figures})`));
        checks.append(line);
      }
      item.append(checks);
    }
    return item;
  }

  function renderTimeline(plan) {
    const history = plan ? plan.history : [];
    const key = history.length ? `${history.length} ${history[history.length - 1].at} ${history[history.length - 1].decision}` : '';
    if (key === shownDecisions) return;
    shownDecisions = key;
    const list = $('rollout-timeline');
    list.replaceChildren(...history.slice(-MAX_TIMELINE).reverse().map(decisionItem));
  }

  function render({ plan, nativePercent, connections }) {
    renderState(plan, nativePercent);
    renderConnections(nativePercent, connections);
    renderTimeline(plan);
  }

  // ---- failpoints -------------------------------------------------------------

  const faultId = (name) => `fault-${name.replace(/\./g, '-')}`;
  const paramsOf = (fault) => Object.fromEntries(Object.entries(fault).filter(([key]) => key !== 'name'));

  function renderFaults(view) {
    faultsOn = view.faults;
    presets = view.presets;
    const box = $('rollout-faults');
    if (box.children.length !== presets.length) {
      box.replaceChildren(...presets.map(({ name }) => {
        const button = element('button', 'fault');
        button.type = 'button';
        button.id = faultId(name);
        button.addEventListener('click', () => toggleFault(name));
        return button;
      }));
    }
    for (const { name, params } of presets) {
      const on = faultsOn.find((f) => f.name === name);
      const button = $(faultId(name));
      button.classList.toggle('on', Boolean(on));
      button.setAttribute('aria-pressed', on ? 'true' : 'false');
      // On: the parameters it runs with; off: those a click would set.
      const shown = figuresText(on ? paramsOf(on) : params);
      button.textContent = `${name}: ${on ? 'on' : 'off'}${shown ? ` (${shown})` : ''}`;
      button.disabled = !view.nativeAvailable && name.startsWith('native.');
    }
  }

  async function toggleFault(name) {
    const on = faultsOn.some((f) => f.name === name);
    const preset = presets.find((p) => p.name === name);
    const next = on ? faultsOn.filter((f) => f.name !== name) : [...faultsOn, { name, ...preset.params }];
    try {
      renderFaults(await requestJson('PUT', '/admin/faults', { faults: next }));
      say(`${name} turned ${on ? 'off' : 'on'}`);
    } catch (err) {
      say(err.message, true);
    }
  }

  // ---- wiring -------------------------------------------------------------------

  async function poll() {
    try {
      render(await requestJson('GET', '/admin/rollout'));
      renderFaults(await requestJson('GET', '/admin/faults'));
    } catch (err) {
      say(`cannot read the rollout: ${err.message}`, true);
    } finally {
      setTimeout(poll, POLL_MS);
    }
  }

  $('rollout-form').addEventListener('submit', (e) => {
    e.preventDefault();
    command({ action: 'start', plan: planFromForm() }, 'rollout started');
  });
  $('rollout-pause').addEventListener('click', () => command({ action: 'pause' }, 'paused'));
  $('rollout-resume').addEventListener('click', () => command({ action: 'resume' }, 'resumed'));
  $('rollout-abort').addEventListener('click', () => command({ action: 'abort' }, 'aborted: the percent stays where it is'));
  poll();
}());

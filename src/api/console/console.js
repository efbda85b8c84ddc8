// Medic's approval console: plain browser JavaScript, no build step, no library. It reads the same JSON
// API as everyone else with the token the person typed, polls every few seconds, decides through
// POST /incidents/:id/approve|reject and turns runbook fixes off or on through POST /runbook/:id/disable|enable.
// Every text from an incident or the runbook goes in with textContent, never as markup.

const REFRESH_MS = 3000;
const TOKEN_KEY = 'medic.console.token';
const RECENT_LIMIT = 20;
const DECISION_ATTEMPTS = 3;
const MAX_CHANGES = 8;
/** Each read of the runbook is a short workflow on Temporal: read it seldom, and after each change. */
const RUNBOOK_REFRESH_MS = 30_000;

const $ = (id) => document.getElementById(id);

/** One element with attributes and children (strings become text nodes). */
function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === false) continue;
    if (name === 'class') node.className = value;
    else node.setAttribute(name, value === true ? '' : String(value));
  }
  for (const child of children.flat(Number.POSITIVE_INFINITY)) {
    if (child === undefined || child === null || child === false) continue;
    node.append(typeof child === 'string' ? document.createTextNode(child) : child);
  }
  return node;
}

// ---- the token: typed once, kept in sessionStorage for this tab, sent as a bearer token ----

const token = {
  get: () => sessionStorage.getItem(TOKEN_KEY) ?? '',
  set: (value) => sessionStorage.setItem(TOKEN_KEY, value),
  forget: () => sessionStorage.removeItem(TOKEN_KEY),
};

function showTokenState(message = '', { askAnyway = false } = {}) {
  const has = token.get() !== '';
  $('token-form').hidden = has && !askAnyway;
  $('token-set').hidden = !has;
  $('token-message').textContent = message;
}

/**
 * Shows the token field with why it is needed. A token Medic refused is forgotten; one that may read but
 * not decide (a viewer token) is kept until another is typed. The cursor moves there only the first time,
 * so a refresh every few seconds never pulls it away from what the person is doing.
 */
function askForToken(message, { forget = true } = {}) {
  const wasHidden = $('token-form').hidden;
  if (forget) token.forget();
  showTokenState(message, { askAnyway: true });
  if (wasHidden) $('token-input').focus();
}

function authHeaders() {
  const value = token.get();
  return value ? { Authorization: `Bearer ${value}` } : {};
}

// ---- talking to Medic ----

class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

async function apiError(res) {
  let body;
  try {
    body = await res.json();
  } catch {
    body = undefined;
  }
  const error = body?.error ?? {};
  return new ApiError(res.status, error.code ?? 'http_error', error.message ?? `HTTP ${res.status}`);
}

/** GET a JSON resource; 401/403 ask for a token and throw. */
async function getJson(path) {
  const res = await fetch(path, { headers: { Accept: 'application/json', ...authHeaders() } });
  if (res.ok) return res.json();
  const err = await apiError(res);
  if (res.status === 401) askForToken(`Medic needs a token to show incidents: ${err.message}`);
  if (res.status === 403) askForToken(`That token was refused: ${err.message}`);
  throw err;
}

const incidentPath = (id) => `/incidents/${encodeURIComponent(id)}`;

// ---- words for times and numbers ----

function duration(ms) {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${s % 60} s`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h} h ${m % 60} min`;
  return `${Math.floor(h / 24)} days`;
}

const clock = (iso) => (iso ? new Date(iso).toLocaleString() : '');

/** When the incident began to wait: its last AWAITING_APPROVAL timeline entry. */
function waitingSince(state) {
  const entries = state.timeline.filter((t) => t.event === 'AWAITING_APPROVAL');
  return entries.length > 0 ? entries[entries.length - 1].at : state.openedAt;
}

// ---- settings and links ----

let settings = { temporalUiUrl: 'http://127.0.0.1:8233', namespace: 'default' };

function temporalUiLink(workflowId, runId) {
  const base = `${settings.temporalUiUrl}/namespaces/${encodeURIComponent(settings.namespace)}/workflows/${encodeURIComponent(workflowId)}`;
  return runId ? `${base}/${encodeURIComponent(runId)}/history` : base;
}

function linksFor(workflowId, runId, title) {
  const report = el('a', { href: `${incidentPath(workflowId)}/report` }, 'Report');
  report.addEventListener('click', (event) => {
    event.preventDefault();
    void openReport(workflowId, title);
  });
  const ui = el(
    'a',
    { href: temporalUiLink(workflowId, runId), target: '_blank', rel: 'noopener noreferrer' },
    'Temporal Web UI',
  );
  return el('span', { class: 'links' }, ui, ' · ', report);
}

/** The Markdown report, fetched with the token (a plain link could not send it). */
async function openReport(workflowId, title) {
  const dialog = $('report-dialog');
  $('report-title').textContent = `Report: ${title}`;
  $('report-text').textContent = 'Loading…';
  dialog.showModal();
  try {
    const res = await fetch(`${incidentPath(workflowId)}/report`, { headers: authHeaders() });
    $('report-text').textContent = res.ok ? await res.text() : (await apiError(res)).message;
  } catch (err) {
    $('report-text').textContent = `Could not load the report: ${err.message}`;
  }
}

// ---- what changed: a short visible log that screen readers hear (aria-live) ----

function announce(text) {
  const list = $('changes');
  list.querySelector('.muted')?.remove();
  list.prepend(el('li', {}, el('time', {}, new Date().toLocaleTimeString()), ` ${text}`));
  while (list.children.length > MAX_CHANGES) list.lastElementChild.remove();
}

// ---- one waiting incident ----

function guardText(guardView) {
  if (guardView.missing) return `No guard yet: ${guardView.message}.`;
  if (guardView.error) return `The guard could not be read: ${guardView.error}`;
  const { guard, budget } = guardView;
  const parts = [
    `${guard.restartsLastHour} of ${guard.limits.maxRestartsPerHour} restarts this hour`,
    guard.cooldownRemainingMs > 0 ? `cooldown ${duration(guard.cooldownRemainingMs)} left` : 'no cooldown',
    guard.breaker.open ? `circuit breaker OPEN (${guard.breaker.reason ?? 'failures'})` : 'breaker closed',
  ];
  if (guard.holder) parts.push(`lease held by ${guard.holder.incidentWorkflowId}`);
  if (budget?.limits) parts.push(`global budget ${budget.lastHour} of ${budget.limits.perHour} this hour`);
  return `${parts.join(' · ')}.`;
}

function evidenceLines(state) {
  const d = state.diagnosis;
  const o = d?.observed;
  const lines = [];
  if (state.evidence)
    lines.push(`engine (${state.evidence.via} ${state.evidence.check}): ${state.evidence.detail}`);
  if (o) {
    const facts = [
      o.state && `state ${o.state}`,
      o.health && `health ${o.health}`,
      o.restartCount !== undefined && `restart count ${o.restartCount}`,
      o.exitCode !== undefined && `exit code ${o.exitCode}`,
      o.oomKilled && 'OOM-killed',
      o.startedAt && `started ${o.startedAt}`,
    ].filter(Boolean);
    lines.push(`container ${o.name}: ${facts.join(', ') || 'not found'}`);
  }
  if (d?.errorSignature) lines.push(`error signature: ${d.errorSignature}`);
  for (const note of d?.evidenceNotes ?? []) lines.push(`not gathered: ${note}`);
  const alerts = state.timeline.filter((t) => /^alert/.test(t.event)).slice(-3);
  for (const t of alerts) lines.push(`${t.at} ${t.event}: ${t.detail}`);
  return lines.length > 0 ? lines.join('\n') : 'No evidence recorded yet.';
}

function trailList(trail) {
  return el(
    'ol',
    { class: 'trail' },
    trail.map((step) =>
      el('li', {}, `${step.provider}: ${step.outcome}, ${step.detail} (${step.latencyMs} ms)`),
    ),
  );
}

/** The plan's step being decided, in words ("step 2 of 3: restart payments"), or the diagnosis's action. */
function proposedText(state) {
  const plan = state.plan;
  const step = plan?.steps?.[plan.at];
  if (!step) return state.diagnosis ? state.diagnosis.action : 'not diagnosed yet';
  const words = `${step.name} (${step.words}, ${step.risk} risk)`;
  return plan.steps.length > 1 ? `step ${plan.at + 1} of ${plan.steps.length}: ${words}` : words;
}

/** What the plan tried so far, and what it planned. */
function planText(state) {
  const plan = state.plan;
  if (!plan || plan.steps.length < 2) return '';
  const tried = (state.steps ?? []).slice(-plan.steps.length).map((s) => `${s.remedy}: ${s.outcome}`);
  return `${plan.steps.map((s) => s.name).join(', then ')}${tried.length ? ` (so far ${tried.join('; ')})` : ''}`;
}

function factsList(state, guardView) {
  const d = state.diagnosis;
  const rows = [
    ['Proposed action', proposedText(state)],
    ['Plan', planText(state)],
    ['Why a person decides', state.approval?.reason ?? ''],
    [
      'Diagnosis',
      d ? `${d.rootCause} (source ${d.source}, confidence ${Math.round(d.confidence * 100)} %)` : '',
    ],
    ['Justification', d?.justification ?? ''],
    ['Also decides', (state.approval?.with ?? []).map((w) => `${w.workflowId} (${w.alertType})`).join(', ')],
    ['Guard', guardText(guardView)],
    ['Escalated to', (state.escalatedTo ?? []).join(', ')],
  ].filter(([, value]) => value);
  return el(
    'dl',
    { class: 'facts' },
    rows.map(([name, value]) => [el('dt', {}, name), el('dd', {}, value)]),
  );
}

/** An incident's title; one that others joined names their alert types too (one question, one card). */
const titleOf = (state) =>
  [state.target, [state.alertType, ...(state.approval?.with ?? []).map((w) => w.alertType)].join(' + ')].join(
    ' · ',
  );

function cardDetails(state, guardView) {
  return el(
    'div',
    {},
    el(
      'p',
      { class: 'meta' },
      el('span', { class: `badge severity-${state.severity}` }, `severity: ${state.severity}`),
      el('span', { class: 'waited' }),
      el('span', {}, `alerts: ${state.alertCount}`),
      linksFor(state.workflowId, undefined, titleOf(state)),
    ),
    factsList(state, guardView),
    state.diagnosis ? el('h4', {}, 'Diagnosis trail') : undefined,
    state.diagnosis ? trailList(state.diagnosis.trail) : undefined,
    el('h4', {}, 'Evidence'),
    el('pre', { class: 'evidence' }, evidenceLines(state)),
  );
}

let cardCount = 0;

function decisionForm(workflowId, title) {
  const n = ++cardCount;
  const comment = el('textarea', { id: `comment-${n}`, rows: 2, maxlength: 2000 });
  const outcome = el('p', { class: 'outcome', role: 'status' });
  const approve = el('button', { type: 'button', class: 'approve' }, 'Approve');
  const reject = el('button', { type: 'button', class: 'reject' }, 'Reject');
  const buttons = [approve, reject];
  const run = (verdict) => decide({ workflowId, title, verdict, comment, buttons, outcome });
  approve.addEventListener('click', () => run('approve'));
  reject.addEventListener('click', () => run('reject'));
  return el(
    'div',
    { class: 'decide', role: 'group', 'aria-label': `Decide on ${title}` },
    el('label', { for: `comment-${n}` }, 'Comment (optional)'),
    comment,
    el('div', { class: 'row' }, approve, reject),
    outcome,
  );
}

function newCard(state) {
  const title = titleOf(state);
  const card = el('article', { id: state.workflowId, tabindex: -1, 'aria-label': title });
  card.append(
    el('h3', {}, title),
    el('p', { class: 'workflow-id' }, state.workflowId),
    el('div', { class: 'details' }),
    decisionForm(state.workflowId, title),
  );
  return el('li', {}, card);
}

/** Rebuilds the facts only when they changed, so a comment being typed and the focus are never lost. */
function updateCard(item, state, guardView) {
  const card = item.firstElementChild;
  const signature = JSON.stringify([state, guardView.missing ?? guardView.error ?? guardView.guard]);
  if (card.dataset.signature !== signature) {
    card.dataset.signature = signature;
    card.querySelector('h3').textContent = titleOf(state);
    card.querySelector('.details').replaceChildren(cardDetails(state, guardView));
  }
  card.querySelector('.waited').textContent =
    `waiting ${duration(Date.now() - Date.parse(waitingSince(state)))} (since ${clock(waitingSince(state))})`;
}

// ---- deciding ----

/** A random id for one click; its retries reuse it, so Medic takes that click once. */
function idempotencyKey() {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return `console-${Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('')}`;
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Sends one decision, retrying with the same key when Medic could not be reached or took nothing. */
async function postDecision(workflowId, verdict, body, key) {
  let lastError;
  for (let attempt = 0; attempt < DECISION_ATTEMPTS; attempt++) {
    if (attempt > 0) await sleep(1000 * 2 ** (attempt - 1));
    try {
      const res = await fetch(`${incidentPath(workflowId)}/${verdict}`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', 'Idempotency-Key': key, ...authHeaders() },
        body: JSON.stringify(body),
      });
      if (res.ok) return { ok: true, body: await res.json().catch(() => ({})) };
      const err = await apiError(res);
      if (res.status < 500) return { ok: false, error: err };
      lastError = err;
    } catch (err) {
      lastError = err;
    }
  }
  return { ok: false, error: lastError };
}

async function decide({ workflowId, title, verdict, comment, buttons, outcome }) {
  if (!token.get()) {
    outcome.textContent = 'Type your approver token first (above).';
    outcome.dataset.needsToken = 'yes';
    askForToken('Deciding needs an approver token.');
    return;
  }
  delete outcome.dataset.needsToken;
  const text = comment.value.trim();
  for (const b of buttons) b.disabled = true;
  outcome.textContent = verdict === 'approve' ? 'Sending the approval…' : 'Sending the rejection…';
  const result = await postDecision(workflowId, verdict, text ? { comment: text } : {}, idempotencyKey());
  for (const b of buttons) b.disabled = false;
  if (result.ok) {
    const by = result.body.by ? ` by ${result.body.by}` : '';
    const status = result.body.status ? `; now ${result.body.status}` : '';
    const done = `${verdict === 'approve' ? 'Approved' : 'Rejected'}${by}${status}.`;
    outcome.textContent = done;
    announce(`${title}: ${done}`);
    void refresh();
    return;
  }
  const err = result.error;
  if (err?.status === 401) askForToken(`Deciding needs an approver token: ${err.message}`);
  if (err?.status === 403)
    askForToken(`This token cannot decide; type an approver token: ${err.message}`, { forget: false });
  outcome.textContent = `Not decided: ${err?.message ?? 'Medic could not be reached'}`;
  announce(`${title}: not decided: ${err?.message ?? 'Medic could not be reached'}`);
}

// ---- the waiting list ----

/** The guard of each target once per refresh: 404 means Medic has not acted on it yet. */
async function guardView(target) {
  try {
    return await getJson(`/guards/${encodeURIComponent(target)}`);
  } catch (err) {
    if (err.status === 404) return { missing: true, message: `Medic has not acted on ${target}` };
    return { error: err.message };
  }
}

async function waitingIncidents() {
  const { incidents } = await getJson('/incidents?status=AWAITING_APPROVAL&limit=100');
  const states = await Promise.all(
    incidents.map((i) => getJson(incidentPath(i.workflowId)).catch(() => undefined)),
  );
  // The list comes from Temporal's visibility, which can lag: the incident's own state has the last word.
  const asking = states.filter((s) => s?.status === 'AWAITING_APPROVAL');
  // An incident that joined another's question is decided on that one's card (the decision is passed on).
  const owners = new Set(asking.map((s) => s.workflowId));
  const waiting = asking.filter((s) => !(s.approval?.joined && owners.has(s.approval.joined)));
  waiting.sort((a, b) => Date.parse(waitingSince(a)) - Date.parse(waitingSince(b)));
  const targets = [...new Set(waiting.map((s) => s.target))];
  const guards = new Map(await Promise.all(targets.map(async (t) => [t, await guardView(t)])));
  return waiting.map((state) => ({ state, guard: guards.get(state.target) }));
}

const shown = new Map();

function renderWaiting(entries) {
  const list = $('waiting-list');
  const ids = new Set(entries.map((e) => e.state.workflowId));
  for (const [id, item] of shown) {
    if (ids.has(id)) continue;
    item.remove();
    shown.delete(id);
    announce(`${item.firstElementChild.getAttribute('aria-label')} no longer waits for approval.`);
  }
  for (const [index, { state, guard }] of entries.entries()) {
    let item = shown.get(state.workflowId);
    if (!item) {
      item = newCard(state);
      shown.set(state.workflowId, item);
      announce(`${titleOf(state)} waits for approval (severity ${state.severity}).`);
    }
    updateCard(item, state, guard);
    // Move only what is out of place: moving a node would take the focus from its comment field.
    if (list.children[index] !== item) list.insertBefore(item, list.children[index] ?? null);
  }
  $('waiting-summary').textContent =
    entries.length === 0
      ? 'Nothing waits for a decision.'
      : `${entries.length} incident${entries.length === 1 ? '' : 's'} waiting, oldest first.`;
}

// ---- recent incidents ----

function recentRow(summary) {
  const title = `${summary.target ?? '?'} · ${summary.alertType ?? '?'}`;
  const status = summary.status ?? summary.workflowStatus;
  return el(
    'tr',
    { id: `recent-${summary.workflowId}`, 'data-workflow-id': summary.workflowId },
    el(
      'td',
      {},
      el('span', { class: 'title' }, title),
      el('br'),
      el('span', { class: 'workflow-id' }, summary.workflowId),
    ),
    el('td', {}, summary.severity ?? ''),
    el('td', {}, el('span', { class: `badge status-${status}` }, status)),
    el('td', {}, clock(summary.startedAt)),
    el('td', {}, clock(summary.closedAt)),
    el('td', {}, linksFor(summary.workflowId, summary.runId, title)),
  );
}

async function renderRecent() {
  // Ended ones only: running incidents sort ahead of every closed one, and would push outcomes off the list.
  const { incidents } = await getJson(`/incidents?closed=true&limit=${RECENT_LIMIT}`);
  incidents.sort((a, b) => Date.parse(b.startedAt) - Date.parse(a.startedAt));
  const signature = JSON.stringify(incidents);
  const body = $('recent-body');
  if (body.dataset.signature !== signature) {
    body.dataset.signature = signature;
    body.replaceChildren(...incidents.map(recentRow));
  }
  $('recent-summary').textContent =
    incidents.length === 0 ? 'No incidents yet.' : `The last ${incidents.length}, newest first.`;
}

// ---- the runbook: what Medic learned, and whether it may use it without a model ----

const runbookPath = (id) => `/runbook/${encodeURIComponent(id)}`;

function standingWord(fix) {
  if (!fix.enabled) return 'disabled';
  if (fix.setAside) return 'set aside';
  return fix.trusted ? 'trusted' : 'not trusted';
}

function fixCells(fix) {
  const { stats } = fix;
  const last = fix.lastOutcome ? `last: ${fix.lastOutcome} (incident ${fix.lastIncidentId})` : 'never used';
  const word = standingWord(fix);
  const toggled = fix.toggled
    ? `turned ${fix.toggled.enabled ? 'on' : 'off'} by ${fix.toggled.by}, ${clock(fix.toggled.at)}${fix.toggled.note ? `: ${fix.toggled.note}` : ''}`
    : undefined;
  return [
    el(
      'td',
      {},
      el('span', { class: 'title' }, `${fix.target} · ${fix.alertType}`),
      el('br'),
      el('span', { class: 'workflow-id' }, fix.id),
      el('br'),
      el('span', { class: 'muted' }, `signature: ${fix.errorSignature}`),
    ),
    el('td', {}, fix.action),
    el(
      'td',
      {},
      `${stats.resolved} resolved, ${stats.failed} failed, ${stats.rejected} rejected, ${stats.didNotStick} did not stick`,
      el('br'),
      el('span', { class: 'muted' }, last),
    ),
    el('td', {}, fix.uses === 0 ? 'no uses yet' : `${Math.round(fix.rate * 100)} % of ${fix.uses}`),
    el('td', {}, el('span', { class: `badge standing-${word.replace(' ', '-')}` }, word), ' ', fix.standing),
    el(
      'td',
      { class: 'enabled' },
      fix.enabled ? 'yes' : 'no',
      toggled ? [el('br'), el('span', { class: 'muted' }, toggled)] : [],
    ),
  ];
}

function toggleControl(fixId, title) {
  const n = ++cardCount;
  const note = el('input', { id: `note-${n}`, type: 'text', maxlength: 2000, autocomplete: 'off' });
  const button = el('button', { type: 'button', class: 'toggle' });
  const outcome = el('p', { class: 'outcome', role: 'status' });
  button.addEventListener('click', () => toggleFix({ fixId, title, note, button, outcome }));
  return el(
    'td',
    { class: 'toggle-fix', role: 'group', 'aria-label': `Turn ${title} off or on` },
    el('label', { for: `note-${n}` }),
    note,
    button,
    outcome,
  );
}

const fixTitle = (fix) => `${fix.target} · ${fix.alertType} (${fix.action})`;

function newRunbookRow(fix) {
  const row = el('tr', { id: `runbook-${fix.id}`, 'data-fix-id': fix.id });
  row.append(...fixCells(fix), toggleControl(fix.id, fixTitle(fix)));
  row.dataset.signature = JSON.stringify(fix);
  return row;
}

/** Replaces the facts only, cell by cell: the note being typed and the focus stay where they are. */
function updateRunbookRow(row, fix) {
  const signature = JSON.stringify(fix);
  if (row.dataset.signature !== signature) {
    row.dataset.signature = signature;
    for (const [i, cell] of fixCells(fix).entries()) row.children[i].replaceWith(cell);
  }
  const control = row.lastElementChild;
  const button = control.querySelector('button');
  button.dataset.op = fix.enabled ? 'disable' : 'enable';
  button.textContent = fix.enabled ? 'Disable' : 'Enable';
  control.querySelector('label').textContent = fix.enabled ? 'Note (why; required)' : 'Note (optional)';
}

const runbookRows = new Map();

function renderRunbook({ fixes, trust }) {
  const body = $('runbook-body');
  const ids = new Set(fixes.map((f) => f.id));
  for (const [id, row] of runbookRows) {
    if (ids.has(id)) continue;
    row.remove();
    runbookRows.delete(id);
  }
  for (const [index, fix] of fixes.entries()) {
    let row = runbookRows.get(fix.id);
    if (!row) {
      row = newRunbookRow(fix);
      runbookRows.set(fix.id, row);
    }
    updateRunbookRow(row, fix);
    if (body.children[index] !== row) body.insertBefore(row, body.children[index] ?? null);
  }
  const rule = `A fix is used without a model once at least ${Math.round(trust.minSuccessRate * 100)} % of at least ${trust.minUses} uses resolved; one whose last two uses failed is set aside.`;
  $('runbook-summary').textContent =
    fixes.length === 0
      ? `Nothing learned yet. ${rule}`
      : `${fixes.length} fix${fixes.length === 1 ? '' : 'es'}. ${rule}`;
}

let runbookTimer;

async function refreshRunbook() {
  clearTimeout(runbookTimer);
  runbookTimer = setTimeout(refreshRunbook, RUNBOOK_REFRESH_MS);
  try {
    renderRunbook(await getJson('/runbook'));
  } catch (err) {
    $('runbook-summary').textContent =
      err.status === 401 || err.status === 403
        ? 'Waiting for a token to read the runbook.'
        : `Cannot read the runbook: ${err.message}`;
  }
}

async function postToggle(fixId, op, note) {
  try {
    const res = await fetch(`${runbookPath(fixId)}/${op}`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', ...authHeaders() },
      body: JSON.stringify(note ? { note } : {}),
    });
    if (res.ok) return { ok: true, body: await res.json() };
    return { ok: false, error: await apiError(res) };
  } catch (err) {
    return { ok: false, error: err };
  }
}

async function toggleFix({ fixId, title, note, button, outcome }) {
  const op = button.dataset.op;
  if (!token.get()) {
    outcome.textContent = 'Type your approver token first (above).';
    outcome.dataset.needsToken = 'yes';
    askForToken('Changing the runbook needs an approver token.');
    return;
  }
  delete outcome.dataset.needsToken;
  const text = note.value.trim();
  if (op === 'disable' && !text) {
    outcome.textContent = 'Say in the note why the fix is turned off.';
    note.focus();
    return;
  }
  button.disabled = true;
  outcome.textContent = op === 'disable' ? 'Turning the fix off…' : 'Turning the fix on…';
  const result = await postToggle(fixId, op, text);
  button.disabled = false;
  if (result.ok) {
    const { fix, changed } = result.body;
    const done = changed
      ? `${op === 'disable' ? 'Disabled' : 'Enabled'} by ${fix.toggled?.by ?? 'you'}.`
      : `Already ${op === 'disable' ? 'disabled' : 'enabled'}; nothing changed.`;
    outcome.textContent = done;
    note.value = '';
    announce(`Runbook ${title}: ${done}`);
    void refreshRunbook();
    return;
  }
  const err = result.error;
  if (err?.status === 401) askForToken(`Changing the runbook needs an approver token: ${err.message}`);
  if (err?.status === 403)
    askForToken(`This token cannot change the runbook; type an approver token: ${err.message}`, {
      forget: false,
    });
  const why = err?.message ?? 'Medic could not be reached';
  outcome.textContent = `Not changed: ${why}`;
  announce(`Runbook ${title}: not changed: ${why}`);
}

// ---- the refresh loop ----

let firstRender = true;

/** A link such as /console#<workflowId> (from a notification) brings that incident into view once. */
function followHash() {
  const id = decodeURIComponent(location.hash.slice(1));
  if (!id) return;
  const target = document.getElementById(id) ?? document.getElementById(`recent-${id}`);
  if (!target) return;
  target.classList.add('linked');
  target.scrollIntoView({ block: 'start' });
  if (target.tagName === 'ARTICLE') target.focus();
}

async function refresh() {
  try {
    const [entries] = await Promise.all([waitingIncidents(), renderRecent()]);
    renderWaiting(entries);
    $('connection').textContent = `Live: updated ${new Date().toLocaleTimeString()}.`;
    if (firstRender) {
      firstRender = false;
      followHash();
    }
  } catch (err) {
    $('connection').textContent =
      err.status === 401 || err.status === 403
        ? 'Waiting for a token to read incidents.'
        : `Cannot read incidents: ${err.message}. Retrying every ${REFRESH_MS / 1000} s.`;
  }
}

async function loop() {
  await refresh();
  setTimeout(loop, REFRESH_MS);
}

async function start() {
  try {
    settings = await (await fetch('/console/settings.json')).json();
  } catch {
    // the defaults stand: the dev server's Web UI in the default namespace
  }
  $('token-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const value = $('token-input').value.trim();
    if (!value) return;
    token.set(value);
    $('token-input').value = '';
    showTokenState();
    // The prompts to type a token have been answered.
    for (const outcome of document.querySelectorAll('.outcome[data-needs-token]')) {
      outcome.textContent = '';
      delete outcome.dataset.needsToken;
    }
    void refresh();
    void refreshRunbook();
  });
  $('token-forget').addEventListener('click', () => {
    token.forget();
    showTokenState('Token forgotten.');
  });
  $('report-close').addEventListener('click', () => $('report-dialog').close());
  $('runbook-refresh').addEventListener('click', () => void refreshRunbook());
  window.addEventListener('hashchange', followHash);
  showTokenState();
  void loop();
  void refreshRunbook();
}

void start();

'use strict';
// The Agora dashboard: plain JavaScript over the public HTTP API (no framework, nothing from a CDN).
const $ = id => document.getElementById(id);
const TERMINAL = ['COMPLETED', 'FAILED', 'NO_CONSENSUS', 'EXPIRED', 'CANCELLED', 'REJECTED'];
const esc = s => String(s ?? '').replace(/[&<>"']/g, c => ({'&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;'}[c]));
const short = s => s && s.length > 18 ? s.slice(0, 14) + '…' : (s ?? '');
const time = t => t ? new Date(t).toLocaleTimeString() : '';
const cls = s => { s = String(s ?? '').toLowerCase(); return /healthy|ready|completed|succeeded/.test(s) ? 'ok' : /degraded|full|draining|submitted|queued|accepted|assigned|started|running|reassigned|replica_finished|verdict|disputed/.test(s) ? 'warn' : 'bad'; };
// liveStatus: the status the job's event stream last told; the read model may lag behind it
const state = {key: localStorage.getItem('agoraKey') || '', cursor: null, job: null, stream: null, liveStatus: null,
  series: {throughput: [], latency: [], price: []}};

/** One API call; a problem details answer (RFC 9457) becomes an Error with its detail. */
async function api(path, {method = 'GET', body, auth = true} = {}) {
  const headers = {};
  if (auth && state.key) headers.Authorization = 'Bearer ' + state.key;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const r = await fetch(path, {method, headers, body: body === undefined ? undefined : JSON.stringify(body)});
  const text = await r.text();
  const json = text ? JSON.parse(text) : null;
  if (!r.ok) {
    const problems = (json && json.problems || []).map(p => (p.field ? p.field + ': ' : '') + p.message);
    throw new Error([(json && json.detail) || r.status].concat(problems).join('; '));
  }
  return json;
}

function show(view) {
  document.querySelectorAll('.view').forEach(v => v.hidden = v.id !== 'view-' + view);
  document.querySelectorAll('nav a[data-view]').forEach(a => a.classList.toggle('on', a.dataset.view === view));
  if (view === 'market') loadMarket();
}

async function login() {
  state.key = $('key').value.trim();
  localStorage.setItem('agoraKey', state.key);
  if (!state.key) { $('who').textContent = ''; return; }
  try {
    const b = await api('/api/v1/accounts/me');
    $('who').textContent = b.clientId;
    $('balance').textContent = `balance ${b.balanceMicros} µ, in escrow ${b.heldMicros} µ, available ${b.availableMicros} µ`;
    await loadJobs(true);
  } catch (e) { $('who').textContent = 'refused: ' + e.message; }
}

async function loadJobs(first) {
  if (!state.key) return;
  const page = await api('/api/v1/jobs?limit=20' + (first || !state.cursor ? '' : '&cursor=' + encodeURIComponent(state.cursor)));
  const rows = page.jobs.map(j => `<tr class="pick" data-job="${esc(j.jobId)}"><td><code>${esc(short(j.jobId))}</code></td>`
    + `<td class="${cls(j.status)}">${esc(j.status)}</td><td>${esc(j.pool)}</td><td>${j.costMicros ?? ''}</td>`
    + `<td>${j.refundMicros ?? ''}</td><td>${esc(time(j.submittedAt))}</td><td>details</td></tr>`).join('');
  const body = $('jobs').tBodies[0];
  body.innerHTML = (first ? '' : body.innerHTML) + rows || '<tr><td colspan="7">no jobs yet</td></tr>';
  state.cursor = page.nextCursor;
  $('more').hidden = !page.nextCursor;
}

/** A job's detail: its state, replicas and events, kept live by its event stream. */
async function openJob(id) {
  if (state.stream) state.stream.abort();
  state.job = id;
  state.liveStatus = null;
  $('job').hidden = false;
  $('job-id').textContent = id;
  $('events').tBodies[0].innerHTML = '';
  show('jobs');
  await refreshJob(id);
  follow(id, null);
}

async function refreshJob(id) {
  const j = await api('/api/v1/jobs/' + encodeURIComponent(id));
  const decided = TERMINAL.includes(String(j.status).toUpperCase());
  if (!state.liveStatus || decided) setStatus(j.status);
  $('job-summary').textContent = [j.pool && 'pool ' + j.pool, j.escrowMicros != null && 'escrow ' + j.escrowMicros + ' µ',
    j.costMicros != null && 'cost ' + j.costMicros + ' µ' + costParts(j.costBreakdown), j.refundMicros != null && 'refund ' + j.refundMicros + ' µ',
    j.agreeing && j.agreeing.length && 'agreeing ' + j.agreeing.map(short).join(', '), j.reason].filter(Boolean).join(' · ');
  $('job-output').hidden = j.output == null;
  $('job-output').textContent = j.output ?? '';
  $('cancel').disabled = decided;
  const x = await api('/api/v1/jobs/' + encodeURIComponent(id) + '/executions');
  $('executions').tBodies[0].innerHTML = x.executions.map(e => `<tr><td>${e.replica}</td><td>${e.attempt}</td>`
    + `<td><code>${esc(short(e.workerId))}</code></td><td>${esc(time(e.assignedAt))}</td><td>${esc(time(e.startedAt))}</td>`
    + `<td>${esc(time(e.endedAt))}</td><td class="${cls(e.outcome || 'running')}">${esc(e.outcome || 'running')}</td>`
    + `<td>${esc(e.endReason ? 'moved: ' + e.endReason : e.assignedBecause ? 'moved here: ' + e.assignedBecause : '')}</td></tr>`).join('')
    || '<tr><td colspan="8">no replica placed yet</td></tr>';
  return decided;
}

/** " (cpu …, gpu …, memory …)" when GPUs or memory were paid for; nothing when the cost was all cpu. */
function costParts(b) {
  if (!b || (!b.gpuMicros && !b.memoryMicros)) return '';
  return ' (cpu ' + b.cpuMicros + ', gpu ' + b.gpuMicros + ', memory ' + b.memoryMicros + ')';
}

function setStatus(s) {
  $('job-status').textContent = s;
  $('job-status').className = 'status ' + cls(s);
}

/**
 * Reads the job's server-sent events with fetch (EventSource cannot send the API key); after a
 * dropped connection it resumes with Last-Event-ID, so no event is missed or shown twice.
 */
async function follow(id, lastEventId) {
  const ctl = new AbortController();
  state.stream = ctl;
  const headers = {Authorization: 'Bearer ' + state.key, Accept: 'text/event-stream'};
  if (lastEventId) headers['Last-Event-ID'] = lastEventId;
  $('live').textContent = 'live';
  let ended = false;
  try {
    const r = await fetch('/api/v1/jobs/' + encodeURIComponent(id) + '/events', {headers, signal: ctl.signal});
    const reader = r.body.getReader();
    const decoder = new TextDecoder();
    let buf = '';
    for (;;) {
      const {value, done} = await reader.read();
      if (done) break;
      buf += decoder.decode(value, {stream: true});
      let cut;
      while ((cut = buf.indexOf('\n\n')) >= 0) {
        const block = buf.slice(0, cut);
        buf = buf.slice(cut + 2);
        const msg = {event: 'message', data: ''};
        for (const line of block.split('\n')) {
          const i = line.indexOf(':');
          if (i === 0) continue; // a comment: the keep-alive
          const field = i < 0 ? line : line.slice(0, i);
          const v = i < 0 ? '' : line.slice(i + 1).replace(/^ /, '');
          if (field === 'data') msg.data += v; else msg[field] = v;
        }
        if (msg.id) lastEventId = msg.id;
        if (!msg.data.trim()) continue;
        const data = JSON.parse(msg.data);
        if (msg.event === 'status' && !state.liveStatus) setStatus(data.status);
        if (msg.event === 'job-event') {
          addEvent(data);
          if (TERMINAL.includes(data.type)) ended = true;
        }
      }
    }
    ended = ended || TERMINAL.includes(String($('job-status').textContent).toUpperCase());
  } catch (e) {
    if (ctl.signal.aborted) return;
  }
  if (state.job !== id) return;
  if (ended) {
    // the ledger sink records the verdict (output, cost) a moment after its event: look until it has
    for (let i = 0; i < 20 && state.job === id && !(await refreshJob(id)); i++) {
      await new Promise(done => setTimeout(done, 500));
    }
    $('live').textContent = 'ended';
    loadJobs(true);
  } else {
    $('live').textContent = 'reconnecting…';
    setTimeout(() => state.job === id && follow(id, lastEventId), 1000);
  }
}

function addEvent(e) {
  $('events').tBodies[0].insertAdjacentHTML('beforeend', `<tr data-event="${esc(e.eventId)}"><td>${esc(time(e.timestamp))}</td>`
    + `<td class="${cls(e.type)}">${esc(e.type)}</td><td><code>${esc(short(e.workerId))}</code></td>`
    + `<td>${e.replica >= 0 ? e.replica : ''}</td><td>${e.attempt >= 0 ? e.attempt : ''}</td><td>${esc(e.reason)}</td></tr>`);
  state.liveStatus = e.type;
  setStatus(e.type);
  if (['ASSIGNED', 'REASSIGNED', 'STARTED', 'REPLICA_FINISHED'].includes(e.type)) refreshJob(state.job).catch(() => {});
}

async function submit(ev) {
  ev.preventDefault();
  const f = new FormData($('submit-form'));
  const num = k => f.get(k) === '' ? undefined : Number(f.get(k));
  try {
    const job = {image: f.get('image'), command: JSON.parse(f.get('command')), redundancy: num('redundancy'),
      quorum: num('quorum'), timeoutMs: num('timeoutMs'), maxPricePerCpuSecondMicros: num('maxPricePerCpuSecondMicros'),
      requirements: {pool: f.get('pool') || 'public'}};
    const r = await api('/api/v1/jobs', {method: 'POST', body: job});
    $('submit-result').textContent = 'submitted ' + r.jobId;
    location.hash = 'jobs';
    await openJob(r.jobId);
  } catch (e) { $('submit-result').textContent = 'refused: ' + e.message; }
}

async function loadMarket() {
  try {
    const pools = await api('/api/v1/pools', {auth: false});
    $('pools').tBodies[0].innerHTML = pools.map(p => `<tr><td>${esc(p.pool)}</td><td class="${cls(p.status)}">${esc(p.status)}</td>`
      + `<td>${p.workers}</td><td>${p.activeWorkers}</td><td>${p.capacity}</td>`
      + `<td>${p.averageLatencyMs == null ? '–' : p.averageLatencyMs.toFixed(0) + ' ms'}</td>`
      + `<td>${p.consensusReliability == null ? '–' : (100 * p.consensusReliability).toFixed(1) + '%'}</td></tr>`).join('')
      || '<tr><td colspan="7">no pools</td></tr>';
    const ws = await api('/api/v1/workers', {auth: false});
    $('workers').tBodies[0].innerHTML = ws.map(w => `<tr><td><code title="${esc(w.workerId)}">${esc(short(w.workerId))}</code></td>`
      + `<td>${esc(w.pool)}</td><td>${esc(w.region)}</td><td class="${cls(w.status)}">${esc(w.status)}</td>`
      + `<td>${w.freeSlots}/${w.maxConcurrent}</td><td>${(100 * w.load).toFixed(0)}%</td><td>${w.pricePerCpuSecondMicros}</td>`
      + `<td>${w.reputation}</td><td>${w.resultLatencyMs == null ? '–' : w.resultLatencyMs + ' ms'}</td></tr>`).join('')
      || '<tr><td colspan="9">no workers</td></tr>';
  } catch (e) { $('pools').tBodies[0].innerHTML = `<tr><td colspan="7">${esc(e.message)}</td></tr>`; }
}

async function earnings(ev) {
  ev.preventDefault();
  try {
    const e = await api('/api/v1/workers/' + encodeURIComponent($('worker-id').value.trim()) + '/earnings', {auth: false});
    $('earnings').tBodies[0].innerHTML = `<tr><td>${e.todayMicros}</td><td>${e.weekMicros}</td><td>${e.monthMicros}</td>`
      + `<td>${e.totalMicros}</td><td>${e.balanceMicros}</td></tr>`;
  } catch (err) { $('earnings').tBodies[0].innerHTML = `<tr><td colspan="5">${esc(err.message)}</td></tr>`; }
}

/** A line chart of the samples taken since the page opened, as inline SVG. */
function chart(svg, points, label) {
  const w = 300, h = 80, pad = 12;
  const vs = points.map(p => p.v).filter(v => v != null);
  if (vs.length === 0) { $(svg).innerHTML = '<text x="4" y="40">no data yet</text>'; return; }
  const max = Math.max(...vs, 1), n = points.length;
  const xy = points.map((p, i) => p.v == null ? null
    : `${(pad + (w - 2 * pad) * (n === 1 ? 1 : i / (n - 1))).toFixed(1)},${(h - pad - (h - 2 * pad) * p.v / max).toFixed(1)}`)
    .filter(Boolean).join(' ');
  $(svg).innerHTML = `<polyline points="${xy}"/><text x="2" y="9">${Math.round(max)}</text><text x="2" y="${h - 2}">0</text>`;
  $('now-' + label).textContent = 'now ' + Math.round(vs[vs.length - 1]);
}

async function sample() {
  try {
    const [s, ws] = await Promise.all([api('/api/v1/stats', {auth: false}), api('/api/v1/workers', {auth: false})]);
    const t = Date.now();
    const prices = ws.map(w => w.pricePerCpuSecondMicros);
    const push = (k, v) => { state.series[k].push({t, v}); if (state.series[k].length > 120) state.series[k].shift(); };
    push('throughput', s.decidedLastHour);
    push('latency', s.meanLatencyMsLastHour);
    push('price', prices.length ? prices.reduce((a, b) => a + b, 0) / prices.length : null);
    for (const k of Object.keys(state.series)) chart('chart-' + k, state.series[k], k);
    $('updated').textContent = `updated ${new Date().toLocaleTimeString()} · jobs by status ${JSON.stringify(s.jobsByStatus)}`
      + ` · workers by status ${JSON.stringify(s.workersByStatus)}`;
  } catch (e) { $('updated').textContent = 'market unavailable: ' + e.message; }
}

$('login').onsubmit = ev => { ev.preventDefault(); login(); };
$('submit-form').onsubmit = submit;
$('earnings-form').onsubmit = earnings;
$('more').onclick = () => loadJobs(false);
$('cancel').onclick = async () => {
  try { await api('/api/v1/jobs/' + encodeURIComponent(state.job), {method: 'DELETE'}); $('live').textContent = 'cancel requested'; }
  catch (e) { $('live').textContent = 'cancel refused: ' + e.message; }
};
$('jobs').onclick = ev => { const tr = ev.target.closest('tr[data-job]'); if (tr) openJob(tr.dataset.job); };
window.onhashchange = () => show((location.hash || '#jobs').slice(1));
$('key').value = state.key;
show((location.hash || '#jobs').slice(1));
if (state.key) login();
sample();
setInterval(sample, 5000);
setInterval(() => { if (!$('view-market').hidden) loadMarket(); }, 5000);

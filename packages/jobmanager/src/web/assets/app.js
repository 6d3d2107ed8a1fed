// Weir dashboard: plain JS over the REST API, redrawn from fresh data every second.
'use strict';

const POLL_MS = 1000;
const HISTORY_ROWS = 100;
const app = document.getElementById('app');
const statusEl = document.getElementById('status');
// What the user picked survives redraws.
const ui = { selectedCheckpoint: 0, details: null };

function esc(v) {
  return String(v ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);
}
function badge(state) {
  return `<span class="badge ${esc(state)}">${esc(state)}</span>`;
}
function time(ms) {
  return ms ? new Date(ms).toLocaleTimeString() : '–';
}
function dateTime(ms) {
  return ms ? new Date(ms).toLocaleString() : '–';
}
function duration(ms) {
  if (!ms && ms !== 0) return '–';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(s < 10 ? 2 : 1)} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${Math.floor(s % 60)}s`;
  return `${Math.floor(m / 60)}h ${m % 60}m`;
}
function bytes(n) {
  if (!n) return '0 B';
  const units = ['B', 'KiB', 'MiB', 'GiB'];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) { n /= 1024; i++; }
  return `${n.toFixed(i ? 1 : 0)} ${units[i]}`;
}
function count(n) {
  return Number(n ?? 0).toLocaleString();
}
/** Redraws the page but keeps where the user had scrolled each table to. */
function render(html) {
  const scrolls = [...app.querySelectorAll('.scroll')].map((el) => el.scrollTop);
  app.innerHTML = html;
  app.querySelectorAll('.scroll').forEach((el, i) => { el.scrollTop = scrolls[i] || 0; });
}
function card(label, value, id) {
  return `<div class="card"${id ? ` id="${id}"` : ''}><div class="value">${value}</div><div class="label">${esc(label)}</div></div>`;
}

// With security.auth.token set, open the dashboard as /#token=<token>: the token stays in this tab.
const token = new URLSearchParams(location.hash.slice(1)).get('token') || sessionStorage.getItem('weir-token') || '';
if (token) sessionStorage.setItem('weir-token', token);
async function get(path) {
  const res = await fetch(path, { cache: 'no-store', headers: token ? { authorization: `Bearer ${token}` } : {} });
  const body = await res.json();
  if (!res.ok) throw Object.assign(new Error((body.errors || [res.statusText]).join('; ')), { status: res.status });
  return body;
}

// ---------- cluster overview ----------

async function renderOverview() {
  const [overview, jobs, tms] = await Promise.all([get('/overview'), get('/jobs'), get('/taskmanagers')]);
  const now = Date.now();
  const jobRows = jobs.jobs.map((j) => `
    <tr class="clickable" onclick="location.hash='#/jobs/${esc(j.job_id)}'">
      <td><a href="#/jobs/${esc(j.job_id)}">${esc(j.name)}</a></td>
      <td class="mono">${esc(j.job_id)}</td>
      <td>${badge(j.state)}</td>
      <td>${dateTime(j.start_time)}</td>
      <td class="num">${duration((j.end_time || now) - j.start_time)}</td>
      <td class="num">${j.parallelism}</td>
      <td class="num">${j.restarts}</td>
    </tr>`).join('');
  const tmRows = tms.taskmanagers.map((t) => `
    <tr>
      <td class="mono">${esc(t.id)}</td><td>${esc(t.host)}</td><td class="num">${t.pid}</td>
      <td class="num">${t.slots}</td><td class="num">${t.free_slots}</td>
      <td class="num">${t.metrics_port || '–'}</td>
      <td class="num">${duration(now - t.last_heartbeat)} ago</td>
      <td>${dateTime(t.registered_at)}</td>
    </tr>`).join('');
  render(`
    <h1>Cluster overview</h1>
    <div class="facts"><span>Weir <b>${esc(overview.weir_version)}</b></span></div>
    <div class="cards">
      ${card('TaskManagers', overview.taskmanagers, 'card-taskmanagers')}
      ${card('Slots free / total', `${overview.slots_available} / ${overview.slots_total}`, 'card-slots')}
      ${card('Jobs running', overview.jobs_running)}
      ${card('Jobs finished', overview.jobs_finished)}
      ${card('Jobs failed', overview.jobs_failed)}
      ${card('Jobs cancelled', overview.jobs_cancelled)}
    </div>
    <div class="panel"><h2>Jobs</h2>
      ${jobs.jobs.length ? `<table id="jobs"><thead><tr><th>Name</th><th>Job ID</th><th>State</th><th>Started</th><th class="num">Duration</th><th class="num">Parallelism</th><th class="num">Restarts</th></tr></thead><tbody>${jobRows}</tbody></table>` : '<p class="muted">No jobs yet. Submit one with <span class="mono">weir run</span>.</p>'}
    </div>
    <div class="panel"><h2>TaskManagers</h2>
      ${tms.taskmanagers.length ? `<table id="taskmanagers"><thead><tr><th>ID</th><th>Host</th><th class="num">PID</th><th class="num">Slots</th><th class="num">Free</th><th class="num">Metrics port</th><th class="num">Last heartbeat</th><th>Registered</th></tr></thead><tbody>${tmRows}</tbody></table>` : '<p class="muted">No TaskManager has registered.</p>'}
    </div>`);
}

// ---------- job page ----------

/** Vertices placed in columns by their longest distance from a source. */
function graphSvg(job) {
  const vertices = job.vertices;
  const level = new Map(vertices.map((v) => [v.id, 0]));
  for (let i = 0; i < vertices.length; i++) {
    for (const e of job.edges) level.set(e.target, Math.max(level.get(e.target), level.get(e.source) + 1));
  }
  const columns = new Map();
  for (const v of vertices) {
    const l = level.get(v.id);
    if (!columns.has(l)) columns.set(l, []);
    columns.get(l).push(v);
  }
  const W = 250, H = 58, GX = 70, GY = 24, PAD = 10;
  const pos = new Map();
  let rows = 1;
  for (const [l, vs] of columns) {
    rows = Math.max(rows, vs.length);
    vs.forEach((v, i) => pos.set(v.id, { x: PAD + l * (W + GX), y: PAD + i * (H + GY) }));
  }
  const width = PAD * 2 + columns.size * W + (columns.size - 1) * GX;
  const height = PAD * 2 + rows * H + (rows - 1) * GY;
  const edges = job.edges.map((e) => {
    const a = pos.get(e.source), b = pos.get(e.target);
    if (!a || !b) return '';
    const x1 = a.x + W, y1 = a.y + H / 2, x2 = b.x, y2 = b.y + H / 2, mx = (x1 + x2) / 2;
    return `<path class="graph-edge" d="M${x1},${y1} C${mx},${y1} ${mx},${y2} ${x2 - 6},${y2}" marker-end="url(#arrow)"/>
      <text x="${mx}" y="${(y1 + y2) / 2 - 6}" text-anchor="middle" font-size="10" fill="#66737f">${esc(e.partitioning)}</text>`;
  }).join('');
  const boxes = vertices.map((v) => {
    const p = pos.get(v.id);
    const name = v.name.length > 32 ? `${v.name.slice(0, 31)}…` : v.name;
    const running = v.subtasks.filter((s) => s.state === 'RUNNING').length;
    return `<g class="graph-vertex ${esc(v.state)}" transform="translate(${p.x},${p.y})"><title>${esc(v.name)} (${esc(v.id)})</title>
      <rect width="${W}" height="${H}"/>
      <text x="10" y="20" font-size="12" font-weight="600">${esc(name)}</text>
      <text x="10" y="38" font-size="11" fill="#66737f">parallelism ${v.parallelism} · ${running}/${v.subtasks.length} running</text>
      <text x="10" y="52" font-size="10" fill="#66737f">${esc(v.state || '–')}</text>
    </g>`;
  }).join('');
  return `<svg id="job-graph" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">
    <defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto"><path d="M0,0 L10,5 L0,10 z" fill="#8aa0b6"/></marker></defs>
    ${edges}${boxes}</svg>`;
}

/** Duration (line, left axis) and state size (bars, right axis) of completed checkpoints, oldest left. */
function checkpointChart(history, restored) {
  const points = history.filter((h) => h.status === 'COMPLETED').slice(0, 60).reverse();
  if (points.length === 0) return '<p class="muted">No completed checkpoint yet.</p>';
  const W = 620, H = 200, L = 56, R = 66, T = 12, B = 28;
  const iw = W - L - R, ih = H - T - B;
  const maxD = Math.max(1, ...points.map((p) => p.end_to_end_duration_ms));
  const maxS = Math.max(1, ...points.map((p) => p.state_size));
  const step = iw / points.length;
  const bars = points.map((p, i) => {
    const h = (p.state_size / maxS) * ih;
    return `<rect x="${L + i * step + step * 0.15}" y="${T + ih - h}" width="${Math.max(1, step * 0.7)}" height="${h}" fill="#c9dcef"><title>#${p.id}: ${bytes(p.state_size)}</title></rect>`;
  }).join('');
  const line = points.map((p, i) => `${L + i * step + step / 2},${T + ih - (p.end_to_end_duration_ms / maxD) * ih}`).join(' ');
  const dots = points.map((p, i) => `<circle cx="${L + i * step + step / 2}" cy="${T + ih - (p.end_to_end_duration_ms / maxD) * ih}" r="2.5" fill="#2f6fb3"><title>#${p.id}: ${duration(p.end_to_end_duration_ms)}</title></circle>`).join('');
  // A dashed line where the job was last restored: checkpoints right of it ran on the new attempt.
  const after = restored ? points.findIndex((p) => p.trigger_timestamp >= restored.restore_timestamp) : -1;
  const restoreMark = after > 0 ? `<line x1="${L + after * step}" y1="${T}" x2="${L + after * step}" y2="${T + ih}" stroke="#c0392b" stroke-dasharray="4 3"/>
      <text x="${L + after * step + (after > points.length / 2 ? -4 : 4)}" y="${T + 10}" font-size="10" fill="#c0392b" text-anchor="${after > points.length / 2 ? 'end' : 'start'}">restored from #${restored.id}</text>` : '';
  const labelEvery = Math.ceil(points.length / 8);
  const xLabels = points.map((p, i) => (i % labelEvery === 0 ? `<text x="${L + i * step + step / 2}" y="${H - 10}" font-size="10" text-anchor="middle" fill="#66737f">${p.id}</text>` : '')).join('');
  return `<div class="legend"><span><i style="background:#2f6fb3"></i>end-to-end duration</span><span><i style="background:#c9dcef"></i>state size</span><span>x: checkpoint id</span></div>
    <svg id="checkpoint-chart" width="100%" viewBox="0 0 ${W} ${H}" preserveAspectRatio="xMinYMin meet">
      <line x1="${L}" y1="${T + ih}" x2="${W - R}" y2="${T + ih}" stroke="#dde3e8"/>
      <line x1="${L}" y1="${T}" x2="${W - R}" y2="${T}" stroke="#eef1f4"/>
      ${bars}${restoreMark}
      <polyline points="${line}" fill="none" stroke="#2f6fb3" stroke-width="1.8"/>${dots}
      <text x="${L - 6}" y="${T + 4}" font-size="10" text-anchor="end" fill="#2f6fb3">${duration(maxD)}</text>
      <text x="${L - 6}" y="${T + ih}" font-size="10" text-anchor="end" fill="#2f6fb3">0</text>
      <text x="${W - R + 6}" y="${T + 4}" font-size="10" fill="#5b87b0">${bytes(maxS)}</text>
      <text x="${W - R + 6}" y="${T + ih}" font-size="10" fill="#5b87b0">0</text>
      ${xLabels}
    </svg>`;
}

function checkpointDetails(jobId, d) {
  if (!d) return '';
  // The subtask that acknowledged last held the checkpoint up: its row is marked.
  const rows = (d.subtasks ?? []).map((t) => `<tr class="${t.critical_path ? 'critical' : ''}"><td class="mono">${esc(t.task)}${t.critical_path ? ' <span class="badge critical" title="acknowledged last: the checkpoint waited for this subtask">slowest</span>' : ''}</td>
    <td class="num">${duration(t.end_to_end_duration_ms)}</td><td class="num">${duration(t.start_delay_ms)}</td>
    <td class="num">${duration(t.alignment_duration_ms)}</td><td class="num">${duration(t.sync_duration_ms)}</td><td class="num">${duration(t.async_duration_ms)}</td>
    <td class="num">${bytes(t.state_size)}</td><td class="num">${bytes(t.persisted_data_bytes)}</td><td>${t.unaligned ? 'unaligned' : 'aligned'}</td></tr>`).join('');
  return `<div class="panel" id="checkpoint-details"><h2>Checkpoint ${d.id} ${badge(d.status)} <span class="muted">· ${d.acknowledged}/${d.total} acknowledged · ${esc(d.path || d.failure_reason)}</span></h2>
    <table><thead><tr><th>Subtask</th><th class="num">End to end</th><th class="num">Start delay</th><th class="num">Alignment</th><th class="num">Sync</th><th class="num">Async</th><th class="num">State size</th><th class="num">In-flight data</th><th>Barriers</th></tr></thead>
    <tbody>${rows || '<tr><td colspan="9" class="muted">No task acknowledged it.</td></tr>'}</tbody></table></div>`;
}

async function renderJob(jobId) {
  const [job, cps, exc] = await Promise.all([
    get(`/jobs/${jobId}`), get(`/jobs/${jobId}/checkpoints?limit=${HISTORY_ROWS}`), get(`/jobs/${jobId}/exceptions`),
  ]);
  if (ui.selectedCheckpoint && (!ui.details || ui.details.id !== ui.selectedCheckpoint || ui.details.status === 'IN_PROGRESS')) {
    ui.details = await get(`/jobs/${jobId}/checkpoints/details/${ui.selectedCheckpoint}`).catch(() => null);
  }
  const s = job.summary;
  const now = job.now || Date.now();
  const taskRows = job.vertices.flatMap((v) => v.subtasks.map((t) => `<tr>
      <td>${esc(v.name)}</td><td class="num">${t.subtask}</td><td>${badge(t.state)}</td><td class="num">${t.attempt}</td>
      <td class="mono">${esc(t.taskmanager_id) || '–'}</td><td class="num">${count(t.records_in)}</td><td class="num">${count(t.records_out)}</td></tr>`)).join('');
  const c = cps.counts;
  const sum = cps.summary;
  const restored = cps.latest.restored;
  const historyRows = cps.history.map((h) => `<tr class="clickable${h.id === ui.selectedCheckpoint ? ' selected' : ''}" data-id="${h.id}">
      <td class="num">${h.id}${h.final ? ' (final)' : ''}${h.is_savepoint ? ' <span class="savepoint">savepoint</span>' : ''}</td><td>${badge(h.status)}</td><td class="num">${h.acknowledged}/${h.total}</td>
      <td>${time(h.trigger_timestamp)}</td><td class="num">${h.status === 'IN_PROGRESS' ? '…' : duration(h.end_to_end_duration_ms)}</td>
      <td class="num">${bytes(h.state_size)}</td><td class="num">${duration(h.max_alignment_ms)}</td>
      <td class="wrap">${esc(h.failure_reason)}</td></tr>`).join('');
  const excRows = exc.exceptions.map((e) => `<tr><td>${dateTime(e.timestamp)}</td><td class="mono wrap">${esc(e.task) || '–'}</td>
      <td class="mono">${esc(e.taskmanager_id) || '–'}</td><td class="wrap">${esc(e.root_cause)}</td></tr>`).join('');
  render(`
    <h1>${esc(s.name)} ${badge(s.state)}</h1>
    <div class="facts">
      <span>Job <b class="mono">${esc(s.job_id)}</b></span>
      <span>Started <b>${dateTime(s.start_time)}</b></span>
      <span>Duration <b>${duration((s.end_time || now) - s.start_time)}</b></span>
      <span>Restarts <b id="restarts">${s.restarts}</b></span>
      <span>Attempt <b>${job.attempt}</b></span>
      <span>Last restore <b>${job.last_restore_checkpoint_id ? `checkpoint ${job.last_restore_checkpoint_id} (completed at ${time(job.last_restore_checkpoint_timestamp)}), restored at ${time(job.last_restore_timestamp)}` : 'never'}</b></span>
      ${job.last_savepoint_path ? `<span>Last savepoint <b class="mono">${esc(job.last_savepoint_path)}</b></span>` : ''}
    </div>
    ${job.failure_cause ? `<div class="error-box">${esc(job.failure_cause)}</div>` : ''}
    <div class="panel"><h2>Job graph</h2><div class="scroll">${graphSvg(job)}</div></div>
    <div class="panel"><h2>Tasks</h2><div class="scroll"><table id="tasks"><thead><tr><th>Vertex</th><th class="num">Subtask</th><th>State</th><th class="num">Attempt</th><th>TaskManager</th><th class="num">Records in</th><th class="num">Records out</th></tr></thead><tbody>${taskRows}</tbody></table></div></div>
    <div class="cards">
      ${card('Checkpoints completed', c.completed, 'cp-completed')}
      ${card('Failed', c.failed, 'cp-failed')}
      ${card('In progress', c.in_progress)}
      ${card('Restored', c.restored, 'cp-restored')}
      ${card('Latest restored', restored ? `#${restored.id}` : '–')}
      ${card('Duration min / avg / max', `<span style="font-size:16px">${duration(sum.end_to_end_duration_ms.min)} / ${duration(sum.end_to_end_duration_ms.avg)} / ${duration(sum.end_to_end_duration_ms.max)}</span>`)}
      ${card('Size min / avg / max', `<span style="font-size:16px">${bytes(sum.state_size.min)} / ${bytes(sum.state_size.avg)} / ${bytes(sum.state_size.max)}</span>`)}
    </div>
    <div class="row">
      <div class="panel"><h2>Checkpoint duration and size</h2>${checkpointChart(cps.history, restored)}</div>
      <div class="panel"><h2>Restarts and exceptions <span class="muted">(${exc.exceptions.length}, ${exc.restarts} restart${exc.restarts === 1 ? '' : 's'})</span></h2>
        ${exc.exceptions.length ? `<div class="scroll"><table id="exceptions"><thead><tr><th>Time</th><th>Task</th><th>TaskManager</th><th>Cause</th></tr></thead><tbody>${excRows}</tbody></table></div>` : '<p class="muted">No failures.</p>'}
      </div>
    </div>
    ${checkpointDetails(jobId, ui.details)}
    <div class="panel"><h2>Checkpoint history <span class="muted">(newest first, ${cps.history.length} of ${c.total}; click a row for its tasks)</span></h2>
      <div class="scroll"><table id="checkpoint-history"><thead><tr><th class="num">ID</th><th>Status</th><th class="num">Acks</th><th>Triggered</th><th class="num">Duration</th><th class="num">State size</th><th class="num">Alignment</th><th>Failure</th></tr></thead>
      <tbody>${historyRows}</tbody></table></div></div>`);
  for (const tr of app.querySelectorAll('#checkpoint-history tr[data-id]')) {
    tr.addEventListener('click', () => {
      const id = Number(tr.dataset.id);
      ui.selectedCheckpoint = ui.selectedCheckpoint === id ? 0 : id;
      ui.details = null;
      refresh();
    });
  }
}

// ---------- routing and polling ----------

let inFlight = false;
async function refresh() {
  if (inFlight) return;
  inFlight = true;
  const route = location.hash.replace(/^#/, '') || '/';
  try {
    const m = /^\/jobs\/([^/]+)$/.exec(route);
    if (m) await renderJob(m[1]);
    else await renderOverview();
    statusEl.textContent = `updated ${new Date().toLocaleTimeString()}`;
    statusEl.className = 'status';
  } catch (err) {
    if (err.status === 404) app.innerHTML = `<div class="error-box">${esc(err.message)}</div><p><a href="#/">Back to the overview</a></p>`;
    statusEl.textContent = `cannot reach the JobManager: ${err.message}`;
    statusEl.className = 'status error';
  } finally {
    inFlight = false;
  }
}

window.addEventListener('hashchange', () => {
  ui.selectedCheckpoint = 0;
  ui.details = null;
  refresh();
});
refresh();
setInterval(refresh, POLL_MS);

// gpuq's operator dashboard: the fleet (workers, classes, recent jobs) and a page per job, kept live by the
// server-sent events of /dashboard/api/stream. Plain DOM and template strings: no build step, no framework.

const main = document.getElementById('main');
const live = document.getElementById('live');
const logoutButton = document.getElementById('logout');
const state = { fleet: undefined, jobs: [], job: undefined, stream: undefined };
const TERMINAL = new Set(['completed', 'failed', 'cancelled']);

/** Escapes text for HTML: every value shown comes from workers and tenants. */
const esc = (value) => String(value ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);
const gb = (bytes) => (bytes === undefined || bytes === null ? '—' : `${(bytes / 1e9).toFixed(bytes >= 1e10 ? 1 : 2)} GB`);
const pct = (x) => `${(x * 100).toFixed(1)} %`;
const ms = (x) => (x === undefined || x === null ? '—' : x >= 10_000 ? `${(x / 1000).toFixed(1)} s` : `${Math.round(x)} ms`);
const ago = (iso) => (iso ? `${ms(Date.now() - Date.parse(iso))} ago` : '—');
const badge = (text, cls = '') => `<span class="badge ${esc(cls)}">${esc(text)}</span>`;
const jobId = () => /^\/dashboard\/jobs\/([A-Za-z0-9_-]+)$/.exec(location.pathname)?.[1];

async function api(path) {
  const res = await fetch(`/dashboard/api/${path}`, { credentials: 'same-origin' });
  if (res.status === 401) throw Object.assign(new Error('login needed'), { login: true });
  if (!res.ok) throw new Error(`${res.status}: ${(await res.json().catch(() => ({}))).detail ?? res.statusText}`);
  return res.json();
}

// ---- login -------------------------------------------------------------------------------------------------

function showLogin(message = '') {
  state.stream?.close();
  logoutButton.hidden = true;
  main.innerHTML = `
    <form class="card login" id="login">
      <h2>Operator login</h2>
      <p class="muted">The dashboard shows every tenant's jobs. API keys do not open it.</p>
      <label for="user">User</label><input id="user" name="user" autocomplete="username" value="admin" required>
      <label for="password">Password</label><input id="password" name="password" type="password" autocomplete="current-password" required>
      <p class="error" id="login-error">${esc(message)}</p>
      <button type="submit">Log in</button>
    </form>`;
  document.getElementById('login').addEventListener('submit', async (event) => {
    event.preventDefault();
    const form = new FormData(event.target);
    const res = await fetch('/dashboard/login', {
      method: 'POST', headers: { 'content-type': 'application/json' }, credentials: 'same-origin',
      body: JSON.stringify({ user: form.get('user'), password: form.get('password') }),
    });
    if (res.status === 204) return start();
    const problem = await res.json().catch(() => ({}));
    document.getElementById('login-error').textContent = problem.detail ?? `login failed (${res.status})`;
  });
}

logoutButton.addEventListener('click', async () => {
  await fetch('/dashboard/logout', { method: 'POST', credentials: 'same-origin' });
  showLogin('Logged out.');
});

// ---- live stream -------------------------------------------------------------------------------------------

function connect() {
  state.stream?.close();
  const stream = new EventSource('/dashboard/api/stream');
  state.stream = stream;
  stream.onopen = () => { live.textContent = 'live'; live.classList.remove('off'); };
  stream.onerror = async () => {
    live.textContent = 'reconnecting'; live.classList.add('off');
    // A stream refused for want of a session: back to the login (EventSource would retry forever).
    try { await api('session'); } catch (err) { if (err.login) showLogin('Your session ended.'); }
  };
  stream.addEventListener('fleet', (e) => { state.fleet = JSON.parse(e.data); if (!jobId()) renderFleet(); });
  stream.addEventListener('jobs', (e) => {
    state.jobs = JSON.parse(e.data);
    const id = jobId();
    if (!id) return renderFleet();
    // A job page follows its job on the stream's beat until the job is finished.
    const shown = state.job?.job;
    if (!shown || shown.id !== id || !TERMINAL.has(shown.state)) loadJob(id);
  });
}

async function start() {
  try {
    await api('session');
  } catch (err) {
    if (err.login) return showLogin();
    main.innerHTML = `<p class="error">${esc(err.message)}</p>`;
    return;
  }
  logoutButton.hidden = false;
  connect();
  const id = jobId();
  if (id) return loadJob(id);
  state.fleet = await api('fleet');
  state.jobs = await api('jobs');
  renderFleet();
}

// ---- fleet page --------------------------------------------------------------------------------------------

function memoryBar(total, free, reserved) {
  const used = Math.max(0, total - free);
  const w = (x) => `${Math.max(0, Math.min(100, (x / total) * 100)).toFixed(1)}%`;
  return `<div class="bar" title="used ${gb(used)} · reserved ${gb(reserved)} · free ${gb(free)} of ${gb(total)}">
      <span class="used" style="width:${w(used)}"></span><span class="reserved" style="width:${w(reserved)}"></span></div>
    <div class="legend"><span><i style="background:var(--used)"></i>used ${gb(used)}</span>
      <span><i style="background:var(--reserved)"></i>reserved ${gb(reserved)}</span>
      <span><i style="background:var(--free)"></i>free ${gb(Math.max(0, free - reserved))}</span><span>of ${gb(total)}</span></div>`;
}

function selfTests(device) {
  const rows = (device.selfTests ?? []).map((t) => `<tr><td>${esc(t.provider)}</td><td>${esc(t.precision)}</td>
      <td>${t.passed ? badge('passed', 'ok') : badge('failed', 'bad')}</td>
      <td class="num">${t.maxAbsError === undefined ? '—' : `${t.maxAbsError.toExponential(1)} ≤ ${t.tolerance?.toExponential(1) ?? '?'}`}</td>
      <td>${esc(t.error ?? '')}</td></tr>`).join('');
  return rows ? `<table><tr><th>provider</th><th>precision</th><th>self-test</th><th class="num">max error</th><th></th></tr>${rows}</table>` : '<p class="muted">no self-tests (declared)</p>';
}

function variantChecks(device) {
  const rows = (device.variantChecks ?? []).map((c) => `<tr><td>${esc(c.model)}</td><td>${esc(c.precision)}</td>
      <td>${c.passed ? badge('passed', 'ok') : badge('failed', 'bad')}</td>
      <td>${c.measured ? `${esc(c.measured.computedIn)} ${pct(c.measured.share)} on ${esc(c.measured.provider)}` : '—'}</td>
      <td>${(c.keptFp32 ?? []).map((k) => `<span title="${esc(k.reason)}">${esc(k.op)}</span>`).join(', ') || '—'}</td>
      <td>${esc(c.error ?? '')}</td></tr>`).join('');
  return rows ? `<table><tr><th>model</th><th>precision</th><th>check</th><th>measured</th><th>kept fp32</th><th></th></tr>${rows}</table>` : '<p class="muted">no variant checks</p>';
}

function workerCard(w) {
  const d = w.device;
  const s = w.stats ?? {};
  const name = d.gpu?.name ?? 'CPU';
  const running = (s.running ?? []).map((r) => `<a href="/dashboard/jobs/${esc(r.jobId)}">${esc(r.jobId.slice(0, 8))}</a> in ${esc(r.className)}${r.batchSize ? ` · batch ${r.batchSize}` : ''}`);
  return `<article class="card worker" data-worker="${esc(w.workerId)}">
    <h3>${esc(name)} ${badge(d.source, d.source === 'declared' ? 'declared' : 'ok')} ${badge(w.status, w.status === 'ready' ? 'ok' : 'bad')}</h3>
    <div class="meta">${esc(w.workerId)} · ${d.gpu ? `compute capability ${esc(d.gpu.computeCapability)} · ` : ''}provider ${esc(d.provider)} · since ${esc(ago(w.startedAt))}</div>
    ${memoryBar(d.totalBytes, w.freeBytes, w.reservedBytes)}
    <div class="chips">${d.provenPrecisions.map((p) => badge(`${p} proven`, 'ok')).join('')}</div>
    <div class="chips">${w.classes.map((c) => badge(c)).join('')}</div>
    <div class="stats">
      <div><b>${s.imagesPerSecond ?? 0}</b><small>images/s</small></div>
      <div><b>${s.images ?? 0}</b><small>images</small></div>
      <div><b>${s.ooms ?? 0}</b><small>OOM</small></div>
      <div><b>${s.waits ?? 0}</b><small>waits</small></div>
      <div><b>${s.drifts ?? 0}</b><small>drift</small></div>
    </div>
    <div class="meta">running: ${running.length ? running.join('; ') : 'nothing'} · ${s.completed ?? 0} completed · ${s.failed ?? 0} failed · ${s.calibrations ?? 0} calibrations</div>
    <details><summary>how its precisions were proven</summary>${selfTests(d)}${variantChecks(d)}</details>
  </article>`;
}

function classesTable(classes) {
  if (!classes.length) return '<p class="muted">No class has a queue or a worker yet.</p>';
  const rows = classes.map((c) => `<tr data-class="${esc(c.className)}"><td>${esc(c.className)}</td><td class="num depth">${c.depth}</td>
      <td class="num">${c.waiting}</td><td class="num">${c.prioritized}</td><td class="num">${c.delayed}</td><td class="num">${c.active}</td>
      <td class="num">${ms(c.oldestWaitMs)}</td><td class="num">${c.workers}</td><td class="num">${c.imagesPerSecond}</td>
      <td class="num">${c.completed}</td><td class="num">${c.failed}</td></tr>`).join('');
  return `<table><tr><th>class</th><th class="num">depth</th><th class="num">waiting</th><th class="num">prioritized</th><th class="num">delayed</th>
      <th class="num">active</th><th class="num">oldest wait</th><th class="num">workers</th><th class="num">images/s</th><th class="num">completed</th><th class="num">failed</th></tr>${rows}</table>`;
}

function precisionText(p) {
  if (!p) return '—';
  return `${esc(p.promised)}${p.used ? ` → ${esc(p.used)}` : ''}${p.source ? ` (${esc(p.source)})` : ''}`;
}

function jobsTable(jobs) {
  if (!jobs.length) return '<p class="muted">No jobs yet.</p>';
  const rows = jobs.map((j) => `<tr data-job="${esc(j.id)}"><td><a href="/dashboard/jobs/${esc(j.id)}">${esc(j.id.slice(0, 8))}</a></td>
      <td>${esc(j.tenant ?? '—')}</td><td>${badge(j.state, `state-${j.state}`)}</td><td>${esc(j.className)}</td><td>${esc(j.model)}</td>
      <td class="num">${j.progress.done}/${j.progress.total}</td><td>${precisionText(j.precision)}</td>
      <td class="num">${j.timings?.imagesPerSecond ?? '—'}</td><td>${esc(ago(j.createdAt))}</td></tr>`).join('');
  return `<table><tr><th>job</th><th>tenant</th><th>state</th><th>class</th><th>model</th><th class="num">images</th><th>precision</th><th class="num">images/s</th><th>submitted</th></tr>${rows}</table>`;
}

function renderFleet() {
  const fleet = state.fleet;
  if (!fleet) return;
  main.innerHTML = `
    <h2>Workers <span class="muted">(${fleet.workers.length} live)</span></h2>
    <div class="grid" id="workers">${fleet.workers.map(workerCard).join('') || '<p class="muted">No live worker.</p>'}</div>
    <h2>Classes</h2><div id="classes">${classesTable(fleet.classes)}</div>
    <h2>Recent jobs <span class="muted">(every tenant)</span></h2><div id="jobs">${jobsTable(state.jobs)}</div>`;
}

// ---- job page ----------------------------------------------------------------------------------------------

async function loadJob(id) {
  try {
    state.job = await api(`jobs/${id}`);
    renderJob();
  } catch (err) {
    if (err.login) return showLogin();
    main.innerHTML = `<p><a href="/dashboard">← fleet</a></p><p class="error">${esc(err.message)}</p>`;
  }
}

function measuredText(m) {
  if (!m) return '—';
  const shares = Object.entries(m.flopsShare).map(([p, x]) => `${esc(p)} ${pct(x)}`).join(', ');
  const placement = Object.entries(m.placement).map(([p, n]) => `${esc(p)}: ${n}`).join(', ');
  return `${shares} of the arithmetic; nodes ${placement}${m.exceptions.length ? `; ${m.exceptions.length} exception(s)` : ''}`;
}

function imageFigure(job, image, result) {
  const polygons = (result?.boxes ?? []).map((b) => `<polygon points="${b.points.map(([x, y]) => `${x},${y}`).join(' ')}"><title>score ${b.score.toFixed(2)}</title></polygon>`).join('');
  return `<figure data-image="${image.index}">
    <div class="overlay"><img src="/dashboard/api/jobs/${esc(job.id)}/images/${image.index}" alt="${esc(image.filename ?? `image ${image.index}`)}" width="${image.width}" height="${image.height}">
      <svg viewBox="0 0 ${image.width} ${image.height}" preserveAspectRatio="none">${polygons}</svg></div>
    <figcaption>${esc(image.filename ?? `image ${image.index}`)} · ${image.width}×${image.height} ·
      ${result ? `${result.boxes.length} boxes · batch ${result.batchSize} · ${esc(result.precision)} (${esc(result.precisionSource)}) on ${esc(result.device)} · ${esc(result.workerId)} · ${ms(result.ms)}` : 'not yet run'}</figcaption>
  </figure>`;
}

function renderJob() {
  const { job, results } = state.job;
  const byIndex = new Map(results.map((r) => [r.index, r]));
  const p = job.precision ?? {};
  const t = job.timings ?? {};
  const batches = [...new Set([...results.map((r) => r.batchSize), ...job.events.filter((e) => e.kind === 'batch').map((e) => e.data?.batchSize)].filter(Boolean))];
  const peakMax = Math.max(job.peakBytes ?? 0, job.predictedPeakBytes ?? 0) || 1;
  const placements = job.placements.map((pl) => `<tr><td>${esc(pl.className)}</td><td>${esc(pl.at)}</td><td>${esc(pl.workerId ?? '—')}</td><td>${esc(pl.reason)}</td></tr>`).join('');
  const events = job.events.map((e) => `<tr><td>${esc(e.at.slice(11, 23))}</td><td>${badge(e.kind, e.kind === 'oom' || e.kind === 'failed' || e.kind === 'drift' ? 'bad' : '')}</td>
      <td>${esc(e.workerId ?? '')}</td><td>${esc(e.message)}</td></tr>`).join('');
  main.innerHTML = `
    <p><a href="/dashboard">← fleet</a></p>
    <h2 id="job-title">Job ${esc(job.id)} ${badge(job.state, `state-${job.state}`)}</h2>
    <div class="meta">tenant ${esc(job.tenant ?? '—')} · model ${esc(job.model)} · class ${esc(job.className)} · priority ${job.priority} · submitted ${esc(job.createdAt)}</div>
    <div class="bar"><span class="done" style="width:${((job.progress.done / job.progress.total) * 100).toFixed(1)}%"></span></div>
    <div class="meta" id="job-progress">${job.progress.done} of ${job.progress.total} images${job.error ? ` · <span class="error">${esc(job.error.code)}: ${esc(job.error.message)}</span>` : ''}</div>
    <div class="two">
      <section class="card"><h3>Precision</h3><dl class="kv">
        <dt>policy</dt><dd>${esc(p.policy)}</dd><dt>promised</dt><dd>${esc(p.promised)}</dd>
        <dt>computed in</dt><dd id="precision-used">${esc(p.used ?? '—')}${p.source ? ` (${esc(p.source)})` : ''}${p.provider ? ` on ${esc(p.provider)}` : ''}</dd>
        <dt>measured</dt><dd>${measuredText(p.measured)}</dd><dt>why</dt><dd>${esc(p.reason)}</dd></dl></section>
      <section class="card"><h3>Timings and memory</h3><dl class="kv">
        <dt>queued</dt><dd>${ms(t.queueMs)}</dd><dt>run</dt><dd>${ms(t.runMs)}</dd><dt>inference</dt><dd>${ms(t.inferenceMs)}</dd>
        <dt>preprocess</dt><dd>${ms(t.preprocessMs)}</dd><dt>images/s</dt><dd>${t.imagesPerSecond ?? '—'}</dd>
        <dt>batch sizes</dt><dd id="batch-sizes">${batches.join(', ') || '—'}</dd>
        <dt>memory predicted</dt><dd>${gb(job.predictedPeakBytes)}<div class="bar"><span class="reserved" style="width:${(((job.predictedPeakBytes ?? 0) / peakMax) * 100).toFixed(1)}%"></span></div></dd>
        <dt>memory measured</dt><dd>${gb(job.peakBytes)}${job.driftFlagged ? ` ${badge('drift', 'bad')}` : ''}<div class="bar"><span class="used" style="width:${(((job.peakBytes ?? 0) / peakMax) * 100).toFixed(1)}%"></span></div></dd>
      </dl></section>
    </div>
    <h2>Placements</h2><table><tr><th>class</th><th>at</th><th>worker</th><th>why</th></tr>${placements}</table>
    <h2>Events</h2><table><tr><th>at</th><th>kind</th><th>worker</th><th>what</th></tr>${events}</table>
    <h2>Images and boxes</h2><div class="images">${job.images.map((image) => imageFigure(job, image, byIndex.get(image.index))).join('')}</div>`;
}

start();

// app.js — jiko's dashboard: open incidents counting down to "serious", an
// incident's page (time line, KPI chart, reasons, notices, versions), the
// yearly statistics.  Plain JavaScript without a build step; every datum
// comes from the API (docs/api.md) with the token kept for this tab only.
// Text from the registry is only ever set as text, never parsed as HTML.
'use strict';

(function () {
  const TEXT = window.JIKO_TEXT;
  const state = {
    token: sessionStorage.getItem('jiko.token'),
    lang: sessionStorage.getItem('jiko.lang') ||
      ((navigator.language || 'ja').toLowerCase().startsWith('ja') ? 'ja' : 'en'),
    who: null,
    refresh: null, // the current view's periodic reload
    view: 0,       // bumped on every navigation: late answers of an old view are dropped
  };
  const main = document.getElementById('main');

  // ---- small helpers ----------------------------------------------------

  function t(key, vars) {
    let s = (TEXT[state.lang] && TEXT[state.lang][key]) || TEXT.en[key] || key;
    for (const k in vars || {}) s = s.split('{' + k + '}').join(String(vars[k]));
    return s;
  }

  // h('td', {class: 'n'}, 'text', node, ...): an element; strings become text nodes
  function h(tag, attrs, ...kids) {
    const el = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === null || v === undefined || v === false) continue;
      if (k === 'on') for (const [ev, fn] of Object.entries(v)) el.addEventListener(ev, fn);
      else el.setAttribute(k, v === true ? '' : String(v));
    }
    for (const kid of kids.flat()) {
      if (kid === null || kid === undefined || kid === false) continue;
      el.append(kid instanceof Node ? kid : document.createTextNode(String(kid)));
    }
    return el;
  }

  const enc = encodeURIComponent;

  class ApiError extends Error {
    constructor(status, body) {
      super((body && body.error && body.error.message) || ('HTTP ' + status));
      this.status = status;
    }
  }

  async function api(path, opts) {
    opts = opts || {};
    const headers = Object.assign({ Authorization: 'Bearer ' + state.token }, opts.headers || {});
    const r = await fetch(path, Object.assign({}, opts, { headers }));
    if (r.status === 401) {
      logout();
      throw new ApiError(401, null);
    }
    const type = r.headers.get('Content-Type') || '';
    const body = type.startsWith('application/json') ? await r.json() : await r.text();
    if (!r.ok) throw new ApiError(r.status, body);
    return body;
  }

  // Times are shown in JST, as the law counts them.  The formatters are
  // made once per language and form (the cache key holds both).
  const fmtCache = {};
  function fmtJst(d, withDate) {
    const key = state.lang + (withDate === false ? 't' : 'd');
    if (!fmtCache[key]) {
      const o = { timeZone: 'Asia/Tokyo', hour: '2-digit', minute: '2-digit', hour12: false };
      if (withDate !== false) Object.assign(o, { year: 'numeric', month: '2-digit', day: '2-digit' });
      // ja: 2021/10/14 17:37; en: ISO order (2021-10-14 17:37), never day/month ambiguity
      fmtCache[key] = new Intl.DateTimeFormat(state.lang === 'ja' ? 'ja-JP' : 'sv-SE', o);
    }
    return fmtCache[key].format(d);
  }

  // a time for text: English says which zone
  function fmtTime(iso, withDate) {
    if (!iso) return '—';
    return fmtJst(new Date(iso), withDate) + (state.lang === 'ja' ? '' : ' JST');
  }

  function fmtUsers(n) {
    if (n === null || n === undefined) return '—';
    return t('units.users', { n: Number(n).toLocaleString(state.lang === 'ja' ? 'ja-JP' : 'en-US') });
  }

  function fmtDuration(ms) {
    const m = Math.max(0, Math.floor(ms / 60000));
    return m >= 60 ? t('dur.h', { h: Math.floor(m / 60), m: m % 60 }) : t('dur.m', { m });
  }

  // "01:23:45" left until `until` (ms), by the page's clock
  function fmtLeft(untilMs) {
    let s = Math.max(0, Math.floor((untilMs - Date.now()) / 1000));
    const hh = Math.floor(s / 3600);
    s -= hh * 3600;
    const mm = Math.floor(s / 60);
    const ss = s - mm * 60;
    return String(hh).padStart(2, '0') + ':' + String(mm).padStart(2, '0') + ':' +
      String(ss).padStart(2, '0');
  }

  // A countdown cell: the seconds move with the page's clock; the moment
  // comes from the server's classification as of now.
  function countdown(cls, ongoing) {
    const el = h('span', { class: 'countdown', 'data-testid': 'countdown' });
    if (!ongoing) {
      el.textContent = t('cd.ended');
    } else if (cls.report === 'serious' || !cls.becomes_serious_at) {
      el.textContent = cls.report === 'serious'
        ? t('cd.serious_since', { t: fmtTime(cls.due && cls.due.prompt, false) })
        : t('cd.never');
      el.classList.add(cls.report === 'serious' ? 'serious' : 'calm');
    } else {
      const at = Date.parse(cls.becomes_serious_at);
      if (at <= Date.now()) {
        el.textContent = t('cd.serious_since', { t: fmtTime(cls.becomes_serious_at, false) });
        el.classList.add('serious');
      } else {
        el.dataset.until = String(at);
        el.textContent = fmtLeft(at);
      }
    }
    return el;
  }

  function tickCountdowns() {
    for (const el of document.querySelectorAll('[data-until]')) {
      const at = Number(el.dataset.until);
      el.textContent = fmtLeft(at);
      const left = at - Date.now();
      el.classList.toggle('soon', left <= 30 * 60000 && left > 0);
      if (left <= 0) {
        el.classList.add('serious');
        el.textContent = t('cd.serious_since', { t: fmtTime(new Date(at).toISOString(), false) });
        delete el.dataset.until;
      }
    }
  }

  function clauseText(cls) {
    const c = cls.becomes_serious_clause;
    if (cls.report === 'serious') return (cls.serious_categories || []).join(', ');
    return c ? c.name + ' (' + c.threshold + ')' : '—';
  }

  function deadlines(cls) {
    const due = cls.due || {};
    const keys = ['prompt', 'written', 'quarterly', 'osore', 'secrecy_leak'].filter((k) => due[k]);
    if (!keys.length) return '—';
    return h('ul', { class: 'due' }, keys.map((k) =>
      h('li', {}, t('due.' + k) + ': ' + (k === 'prompt' ? fmtTime(due[k]) : due[k]))));
  }

  function reportBadge(report) {
    return h('span', { class: 'badge r-' + report }, t('report.' + report));
  }

  function incidentLink(op, id) {
    return h('a', { href: '#/incident/' + enc(op) + '/' + enc(id) }, id);
  }

  function failure(where, e) {
    where.replaceChildren(h('p', { class: 'error', role: 'alert' }, t('error', { m: e.message })));
  }

  // ---- log in -----------------------------------------------------------

  function logout() {
    sessionStorage.removeItem('jiko.token');
    state.token = null;
    state.who = null;
    render();
  }

  function loginView() {
    const input = h('input', { type: 'password', id: 'token', name: 'token', autocomplete: 'off',
      required: true, size: 60, 'aria-label': t('login.token') });
    const msg = h('p', { class: 'error', role: 'alert' });
    const form = h('form', { class: 'login', on: { submit: async (ev) => {
      ev.preventDefault();
      state.token = input.value.trim();
      try {
        const who = await api('/api/v1/whoami');
        if (who.role === 'ingest') {
          msg.textContent = t('login.ingest');
          state.token = null;
          return;
        }
        sessionStorage.setItem('jiko.token', state.token);
        state.who = who;
        render();
      } catch (e) {
        state.token = null;
        msg.textContent = e.status === 401 ? t('login.bad') : t('error', { m: e.message });
      }
    } } },
    h('h1', {}, t('login.title')), h('p', {}, t('login.help')),
    h('label', { for: 'token' }, t('login.token')), input,
    h('button', { type: 'submit' }, t('login.submit')), msg);
    main.replaceChildren(form);
    input.focus();
  }

  // ---- the incident list ------------------------------------------------

  const OPEN_DETAIL_MAX = 50; // open incidents classified one by one for their countdown

  async function listView(view) {
    const open = h('section', { id: 'open' }, h('h1', {}, t('open.title')), h('p', {}, t('loading')));
    const closed = h('section', { id: 'closed' }, h('h2', {}, t('closed.title')));
    main.replaceChildren(open, closed);
    const load = async () => {
      try {
        const [o, c] = await Promise.all([
          api('/api/v1/incidents?open=true&order=newest&limit=' + OPEN_DETAIL_MAX),
          api('/api/v1/incidents?open=false&order=newest&limit=20'),
        ]);
        const details = await Promise.all(o.incidents.map((r) =>
          api('/api/v1/incidents/' + enc(r.operator) + '/' + enc(r.id) + '?lang=' + state.lang)
            .catch(() => null)));
        if (view !== state.view) return;
        renderOpen(open, o, details);
        renderClosed(closed, c.incidents);
      } catch (e) {
        if (view === state.view) failure(open, e);
      }
    };
    await load();
    state.refresh = setInterval(load, 15000);
  }

  function renderOpen(sec, page, details) {
    const rows = page.incidents.map((r, i) => {
      const d = details[i];
      const cls = d ? d.classification : { report: r.report, due: {} };
      return h('tr', { 'data-id': r.id },
        h('td', {}, r.operator), h('td', {}, incidentLink(r.operator, r.id)),
        h('td', {}, fmtTime(r.started_at)), h('td', { class: 'n' }, fmtUsers(r.users)),
        h('td', {}, reportBadge(cls.report)), h('td', {}, countdown(cls, true)),
        h('td', {}, clauseText(cls)), h('td', {}, deadlines(cls)));
    });
    sec.replaceChildren(h('h1', {}, t('open.title')), rows.length
      ? h('table', { class: 'list' },
        h('thead', {}, h('tr', {}, ['col.operator', 'col.incident', 'col.started', 'col.users',
          'col.report', 'col.countdown', 'col.clause', 'col.deadlines'].map((k) => h('th', {}, t(k))))),
        h('tbody', {}, rows))
      : h('p', { class: 'calm' }, t('open.none')));
  }

  function renderClosed(sec, list) {
    sec.replaceChildren(h('h2', {}, t('closed.title')), list.length
      ? h('table', { class: 'list' },
        h('thead', {}, h('tr', {}, ['col.operator', 'col.incident', 'col.started', 'col.duration',
          'col.users', 'col.report'].map((k) => h('th', {}, t(k))))),
        h('tbody', {}, list.map((r) => h('tr', {},
          h('td', {}, r.operator), h('td', {}, incidentLink(r.operator, r.id)),
          h('td', {}, fmtTime(r.started_at)),
          h('td', {}, fmtDuration(Date.parse(r.ended_at) - Date.parse(r.started_at))),
          h('td', { class: 'n' }, fmtUsers(r.users)), h('td', {}, reportBadge(r.report))))))
      : h('p', {}, t('closed.none')));
  }

  // ---- one incident -----------------------------------------------------

  async function incidentView(view, op, id) {
    const base = '/api/v1/incidents/' + enc(op) + '/' + enc(id);
    main.replaceChildren(h('p', {}, t('loading')));
    let inc, hist, series;
    try {
      [inc, hist, series] = await Promise.all([
        api(base + '?lang=' + state.lang), api(base + '/history'),
        api(base + '/series').catch(() => ({ series: [] })),
      ]);
    } catch (e) {
      if (view === state.view) failure(main, e);
      return;
    }
    if (view !== state.view) return;
    const rec = inc.incident.record;
    const cls = inc.classification;
    const ongoing = !rec.ended_at;
    const page = h('article', { class: 'incident' },
      h('p', {}, h('a', { href: '#/' }, t('inc.back'))),
      h('h1', {}, rec.operator + ' — ' + rec.id),
      h('p', { class: 'summary' }, (state.lang === 'en' && rec.summary_en) || rec.summary || ''),
      h('dl', { class: 'facts' },
        h('dt', {}, t('col.report')), h('dd', {}, reportBadge(cls.report), ' ',
          ongoing ? t('inc.ongoing') : t('inc.ended')),
        h('dt', {}, t('col.started')), h('dd', {}, fmtTime(rec.started_at)),
        h('dt', {}, t('col.ended')), h('dd', {}, fmtTime(rec.ended_at)),
        h('dt', {}, t('col.users')), h('dd', {}, fmtUsers(inc.incident.users)),
        h('dt', {}, t('inc.countdown')), h('dd', {}, countdown(cls, ongoing)),
        h('dt', {}, t('inc.clause')), h('dd', {}, clauseText(cls)),
        h('dt', {}, t('inc.deadlines')), h('dd', {}, deadlines(cls))),
      h('section', {}, h('h2', {}, t('inc.kpi')), kpiCharts(series, rec)),
      h('section', {}, h('h2', {}, t('inc.timeline')), timeline(rec, cls, hist.versions, series.alarms)),
      h('section', {}, h('h2', {}, t('inc.reasons')),
        h('ol', { class: 'reasons' }, cls.reasons.map((r) => h('li', {}, r)))),
      h('section', { id: 'notices' }, h('h2', {}, t('inc.notices')), notices(base, rec)),
      h('section', {}, h('h2', {}, t('inc.history')), versions(hist.versions)));
    main.replaceChildren(page);
    drawPendingCharts();
  }

  function timeline(rec, cls, vers, alarms) {
    const ev = [];
    for (const a of alarms || []) {
      ev.push({ at: new Date(a.at).toISOString(), cls: 'alarm',
        what: a.lead_minutes ? t('tl.alarm', { m: a.lead_minutes }) : t('tl.alarm_serious') });
    }
    ev.push({ at: rec.started_at, what: t('tl.started'), cls: 'start' });
    if (cls.due && cls.due.prompt) ev.push({ at: cls.due.prompt, what: t('tl.serious'), cls: 'serious' });
    else if (cls.becomes_serious_at && !rec.ended_at)
      ev.push({ at: cls.becomes_serious_at, what: t('tl.serious_at'), cls: 'future' });
    for (const n of rec.notices || [])
      ev.push({ at: n.at, what: t('tl.notice') + ' — ' + t('kind.' + n.kind), cls: 'notice' });
    for (const v of vers)
      ev.push({ at: v.changed_at, what: t('tl.version') + ' v' + v.version + ': ' + v.reason, cls: 'version' });
    if (rec.ended_at) ev.push({ at: rec.ended_at, what: t('tl.ended'), cls: 'end' });
    ev.sort((a, b) => Date.parse(a.at) - Date.parse(b.at));
    return h('ol', { class: 'timeline', 'data-testid': 'timeline' },
      ev.map((e) => h('li', { class: e.cls }, h('time', { datetime: e.at }, fmtTime(e.at)), ' ', e.what)));
  }

  // the record's top-level fields that differ between two versions
  function changes(prev, cur) {
    if (!prev) return '';
    const keys = new Set([...Object.keys(prev), ...Object.keys(cur)]);
    const out = [];
    for (const k of keys) {
      const a = JSON.stringify(prev[k]);
      const b = JSON.stringify(cur[k]);
      if (a === b) continue;
      const short = (s) => (s === undefined ? '—' : s.length > 60 ? s.slice(0, 57) + '…' : s);
      out.push(k + ': ' + short(a) + ' → ' + short(b));
    }
    return out.join('; ');
  }

  function versions(vers) {
    return h('table', { class: 'list versions' },
      h('thead', {}, h('tr', {}, ['inc.history.version', 'inc.history.at', 'inc.history.why',
        'inc.history.what'].map((k) => h('th', {}, t(k))))),
      h('tbody', {}, vers.map((v, i) => h('tr', {},
        h('td', { class: 'n' }, v.version), h('td', {}, fmtTime(v.changed_at)), h('td', {}, v.reason),
        h('td', { class: 'diff' }, changes(i ? vers[i - 1].record : null, v.record))))));
  }

  function notices(base, rec) {
    const box = h('div');
    const published = (rec.notices || []).slice().sort((a, b) => Date.parse(a.at) - Date.parse(b.at));
    box.append(h('h3', {}, t('inc.notices.published')), published.length
      ? h('ul', { class: 'published' }, published.map((n) => h('li', {},
        h('strong', {}, t('kind.' + n.kind)), ' ', fmtTime(n.at), ' (' + n.channel + ')',
        n.title ? h('div', { class: 'ntitle' }, n.title) : null, h('pre', { class: 'ntext' }, n.text))))
      : h('p', {}, t('inc.notices.none')));
    const canPublish = state.who && state.who.role === 'admin';
    const kinds = ['first', 'update', 'recovery'];
    const drafts = h('div', { class: 'drafts' });
    box.append(h('h3', {}, t('inc.notices.draft')), drafts);
    for (const kind of kinds) {
      const card = h('div', { class: 'draft', 'data-kind': kind }, h('h4', {}, t('kind.' + kind)),
        h('p', {}, t('loading')));
      drafts.append(card);
      api(base + '/notices/draft?kind=' + kind + '&lang=' + state.lang).then((d) => {
        const title = h('input', { class: 'dtitle', value: d.title, size: 60, 'aria-label': 'title' });
        const body = h('textarea', { class: 'dbody', rows: 10, cols: 72, 'aria-label': 'body' });
        body.value = d.body;
        const msg = h('span', { class: 'msg', role: 'status' });
        const publish = canPublish ? h('button', { type: 'button', on: { click: async () => {
          try {
            await api(base + '/notices', { method: 'POST', headers: { 'Content-Type': 'application/json' },
              body: JSON.stringify({ kind, lang: state.lang, title: title.value, body: body.value }) });
            msg.textContent = t('inc.notices.published_ok');
            render();
          } catch (e) {
            msg.textContent = t('error', { m: e.message });
          }
        } } }, t('inc.notices.publish')) : null;
        card.replaceChildren(h('h4', {}, t('kind.' + kind)), title, body, publish, msg);
      }).catch((e) => {
        card.replaceChildren(h('h4', {}, t('kind.' + kind)),
          h('p', { class: 'muted' }, t('inc.notices.unavailable', { m: e.message })));
      });
    }
    return box;
  }

  // ---- charts (uPlot) ---------------------------------------------------

  const pendingCharts = [];

  function kpiCharts(data, rec) {
    const list = (data && data.series) || [];
    if (!list.length) return h('p', { class: 'muted', 'data-testid': 'no-kpi' }, t('inc.kpi.none'));
    return h('div', { class: 'charts' }, list.map((s) => {
      const holder = h('div', { class: 'chart', 'data-testid': 'kpi-chart', 'data-series': s.name });
      pendingCharts.push(() => drawKpi(holder, s, rec));
      return h('figure', {}, h('figcaption', {}, s.name + ' (' + s.watch + ')'), holder);
    }));
  }

  function drawPendingCharts() {
    while (pendingCharts.length) pendingCharts.shift()();
  }

  function chartWidth(el) {
    return Math.max(300, Math.min(1100, el.clientWidth || 800));
  }

  // The series' values, its anomalous samples marked, the incident's start
  // and end as vertical lines, and for a capacity watch the forecast: the
  // expected line to exhaustion and the band between early and late.
  function drawKpi(el, s, rec) {
    if (!window.uPlot) {
      el.append(h('p', { class: 'muted' }, 'uPlot is not installed: no chart'));
      return;
    }
    const xs = [], vs = [], marks = [];
    let anomalies = 0;
    for (const [ms, v, score] of s.points) {
      xs.push(ms / 1000);
      vs.push(v);
      const hot = score >= s.threshold && v !== null;
      marks.push(hot ? v : null);
      if (hot) anomalies++;
    }
    el.dataset.anomalies = String(anomalies);
    const f = s.forecast;
    const ends = [];
    if (f && f.warn) for (const k of ['early', 'eta', 'late']) if (f[k]) ends.push(f[k] / 1000);
    for (const x of ends.sort((a, b) => a - b)) {
      if (x > xs[xs.length - 1]) {
        xs.push(x);
        vs.push(null);
        marks.push(null);
      }
    }
    const started = Date.parse(rec.started_at) / 1000;
    const ended = rec.ended_at ? Date.parse(rec.ended_at) / 1000 : null;
    const opts = {
      width: chartWidth(el), height: 260,
      tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), 'Asia/Tokyo'),
      series: [
        {},
        { label: s.name, stroke: '#1f5fa8', width: 1.5, spanGaps: false },
        { label: t('inc.kpi.anomaly'), stroke: '#c62828', width: 0, paths: () => null,
          points: { show: true, size: 7, fill: '#c62828', stroke: '#c62828' } },
      ],
      axes: [{ values: (u, splits) => splits.map((x) => fmtJst(new Date(x * 1000), false)) },
        { size: 60 }],
      hooks: { draw: [(u) => drawOverlay(u, started, ended, f, s.limit)] },
    };
    el.replaceChildren();
    const plot = new uPlot(opts, [xs, vs, marks], el);
    el.dataset.drawn = '1';
    return plot;
  }

  function drawOverlay(u, started, ended, f, limit) {
    const ctx = u.ctx;
    const top = u.bbox.top, bottom = u.bbox.top + u.bbox.height;
    ctx.save();
    ctx.lineWidth = 1.5 * devicePixelRatio;
    const vline = (x, color) => {
      const px = u.valToPos(x, 'x', true);
      if (px < u.bbox.left || px > u.bbox.left + u.bbox.width) return;
      ctx.strokeStyle = color;
      ctx.setLineDash([5, 4]);
      ctx.beginPath();
      ctx.moveTo(px, top);
      ctx.lineTo(px, bottom);
      ctx.stroke();
    };
    vline(started, '#c62828');
    if (ended) vline(ended, '#2e7d32');
    ctx.setLineDash([]);
    if (limit !== null && limit !== undefined) {
      const py = u.valToPos(limit, 'y', true);
      if (py >= top && py <= bottom) {
        ctx.strokeStyle = '#6d4c41';
        ctx.beginPath();
        ctx.moveTo(u.bbox.left, py);
        ctx.lineTo(u.bbox.left + u.bbox.width, py);
        ctx.stroke();
      }
    }
    if (f && f.warn && f.eta) {
      const P = (ms, v) => [u.valToPos(ms / 1000, 'x', true), u.valToPos(v, 'y', true)];
      const [x0, y0] = P(f.now, f.level);
      if (f.early && f.late) {
        const [xe, ye] = P(f.early, f.limit);
        const [xl, yl] = P(f.late, f.limit);
        ctx.fillStyle = 'rgba(255, 143, 0, 0.22)';
        ctx.beginPath();
        ctx.moveTo(x0, y0);
        ctx.lineTo(xe, ye);
        ctx.lineTo(xl, yl);
        ctx.closePath();
        ctx.fill();
      }
      const [x1, y1] = P(f.eta, f.limit);
      ctx.strokeStyle = '#ef6c00';
      ctx.setLineDash([8, 4]);
      ctx.beginPath();
      ctx.moveTo(x0, y0);
      ctx.lineTo(x1, y1);
      ctx.stroke();
    }
    ctx.restore();
  }

  function barChart(el, labels, series) {
    if (!window.uPlot) return;
    const xs = labels.map((_, i) => i);
    const bars = uPlot.paths.bars;
    const opts = {
      width: chartWidth(el), height: 240,
      scales: { x: { time: false, range: [-0.5, labels.length - 0.5] } },
      axes: [{ splits: () => xs, values: (u, splits) => splits.map((i) => labels[i] || '') },
        { size: 60 }],
      series: [{}].concat(series.map((s, k) => ({
        label: s.label, fill: s.color, stroke: s.color, width: 0,
        paths: bars({ size: [0.35, 80], align: series.length === 2 ? (k ? 1 : -1) : 0 }),
        points: { show: false },
      }))),
    };
    el.replaceChildren();
    new uPlot(opts, [xs].concat(series.map((s) => s.values)), el);
    el.dataset.drawn = '1';
  }

  // ---- the yearly statistics -------------------------------------------

  function fiscalYearNow() {
    const jst = new Date(Date.now() + 9 * 3600 * 1000);
    return jst.getUTCMonth() >= 3 ? jst.getUTCFullYear() : jst.getUTCFullYear() - 1;
  }

  async function statsView(view, fy) {
    if (!fy) {
      // the latest fiscal year with a closed incident, else this one
      try {
        const last = await api('/api/v1/incidents?open=false&order=newest&limit=1');
        fy = last.incidents.length ? last.incidents[0].fiscal_year : fiscalYearNow();
      } catch (e) {
        fy = fiscalYearNow();
      }
      if (view === state.view) location.replace('#/stats/' + fy);
      return;
    }
    const input = h('input', { type: 'number', min: 1900, max: 9999, value: fy, id: 'fy' });
    const form = h('form', { class: 'fy', on: { submit: (ev) => {
      ev.preventDefault();
      location.hash = '#/stats/' + input.value;
    } } }, h('label', { for: 'fy' }, t('stats.fy')), input, h('button', { type: 'submit' }, t('stats.show')));
    const charts = h('section', { class: 'stats-charts' });
    const tables = h('div', { class: 'report', 'data-testid': 'report' });
    main.replaceChildren(h('h1', {}, t('stats.title', { fy })), form, charts, tables);
    let json, html;
    try {
      const q = '/api/v1/reports/fy/' + fy + '?lang=' + state.lang;
      [json, html] = await Promise.all([api(q + '&format=json'), api(q + '&format=html')]);
    } catch (e) {
      if (view === state.view) failure(tables, e);
      return;
    }
    if (view !== state.view) return;
    // the tables exactly as `jiko report --format html` writes them, in a
    // shadow root so that the report's style and the dashboard's stay apart
    const doc = new DOMParser().parseFromString(html, 'text/html');
    for (const s of doc.querySelectorAll('script')) s.remove();
    const root = tables.attachShadow({ mode: 'open' });
    for (const st of doc.querySelectorAll('style')) root.append(document.importNode(st, true));
    for (const n of Array.from(doc.body.childNodes)) root.append(document.importNode(n, true));
    const byType = h('div', { class: 'chart', 'data-testid': 'chart-by-type' });
    const byDur = h('div', { class: 'chart', 'data-testid': 'chart-by-duration' });
    charts.replaceChildren(h('h2', {}, t('stats.charts')),
      h('figure', {}, h('figcaption', {}, t('stats.by_type')), byType),
      h('figure', {}, h('figcaption', {}, t('stats.by_duration')), byDur));
    const types = json.overview.map((r) => r.report_type);
    barChart(byType, types.map((k) => t('report.' + (k === 'quarterly_detailed' ? 'detailed'
      : k === 'quarterly_simple' ? 'simple' : k))), [
      { label: t('stats.this_year') + ' (' + json.fiscal_year + ')', color: '#1f5fa8',
        values: json.overview.map((r) => r.reports) },
      { label: t('stats.prev_year') + ' (' + json.previous_year + ')', color: '#9e9e9e',
        values: json.overview.map((r) => r.reports_prev) }]);
    const m = json.matrix;
    barChart(byDur, m.durations.map((d) => t('dur.' + d)), [{ label: t('stats.this_year'), color: '#1f5fa8',
      values: m.cells.map((row) => row.reduce((a, c) => a + (c || 0), 0)) }]);
  }

  // ---- frame and routing ------------------------------------------------

  function frame() {
    document.documentElement.lang = state.lang;
    document.getElementById('lang').textContent = t('lang.other');
    for (const el of document.querySelectorAll('[data-t]')) el.textContent = t(el.dataset.t);
    const logged = !!state.token;
    document.getElementById('nav').hidden = !logged;
    document.getElementById('logout').hidden = !logged;
    const w = state.who;
    document.getElementById('who').textContent = w
      ? (w.operator || t('who.regulator')) + ' · ' + w.role : '';
  }

  async function render() {
    state.view++;
    const view = state.view;
    if (state.refresh) clearInterval(state.refresh);
    state.refresh = null;
    pendingCharts.length = 0;
    if (state.token && !state.who) {
      try {
        state.who = await api('/api/v1/whoami');
      } catch (e) {
        if (e.status !== 401) failure(main, e);
        return;
      }
    }
    frame();
    if (!state.token) return loginView();
    const parts = location.hash.replace(/^#\/?/, '').split('/').map(decodeURIComponent);
    if (parts[0] === 'incident' && parts.length === 3) return incidentView(view, parts[1], parts[2]);
    if (parts[0] === 'stats') return statsView(view, parts[1] ? parseInt(parts[1], 10) : 0);
    return listView(view);
  }

  document.getElementById('lang').addEventListener('click', () => {
    state.lang = state.lang === 'ja' ? 'en' : 'ja';
    sessionStorage.setItem('jiko.lang', state.lang);
    render();
  });
  document.getElementById('logout').addEventListener('click', logout);
  window.addEventListener('hashchange', render);
  setInterval(tickCountdowns, 1000);
  render();
})();

import { INVALIDATION_SCOPES } from './cache-admin.service';
import { htmlPage } from '../http/html-page';
import { WARMING_STRATEGIES } from '../warming/warming.service';

/**
 * The operator console's page, style sheet and script, all served by the gateway (no CDN, no web
 * font, charts drawn as SVG by hand), so that it works where the gateway runs with no internet
 * access. The page holds no data: it asks for the admin token, keeps it in this tab's
 * sessionStorage, and sends it as `Authorization: Bearer` to `GET /ops/stats` and to the admin
 * REST API its buttons call (`POST /cache/invalidate`, `POST /cache/warming/trigger`).
 */

/** Under this policy the page runs only its own script and talks only to its origin. */
export const OPS_CONSOLE_HTML_HEADERS: Readonly<Record<string, string>> = {
  'content-type': 'text/html; charset=utf-8',
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'cache-control': 'no-cache',
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
};

const chart = (id: string, title: string, note: string) => `
      <section class="panel">
        <h2>${title}</h2>
        <p class="note">${note}</p>
        <svg id="${id}" class="chart" viewBox="0 0 600 180" role="img" aria-label="${title}"></svg>
        <div class="legend" id="${id}-legend"></div>
      </section>`;

export function opsConsoleHtml(basePath: string): string {
  const scopes = INVALIDATION_SCOPES.map((scope) => `<option value="${scope}">${scope}</option>`).join('');
  const strategies = WARMING_STRATEGIES.map((name) => `<label><input type="checkbox" name="strategy" value="${name}" checked /> ${name}</label>`).join('\n          ');
  return htmlPage({
    title: 'Trading gateway · operator console',
    stylesheet: `${basePath}/console.css`,
    body: `    <header>
      <h1>Trading gateway · operator console</h1>
      <span id="connection" class="badge">signed out</span>
      <span id="last-update" class="muted"></span>
      <button id="signout" type="button" hidden>Sign out</button>
    </header>
    <form id="signin" autocomplete="off">
      <p>The console's figures and buttons need the admin token (<code>ADMIN_API_TOKEN</code>). It is kept in this tab only (sessionStorage) and sent as <code>Authorization: Bearer</code>.</p>
      <input id="token" type="password" placeholder="admin token" required minlength="16" />
      <button type="submit">Open the console</button>
      <p id="signin-message" class="alert" role="alert"></p>
    </form>
    <main id="console" hidden>
      <section class="panel wide status">
        <div><span class="label">data cache</span> <span id="tier-status" class="badge">…</span></div>
        <div><span class="label">pending invalidations</span> <span id="pending">…</span></div>
        <div><span class="label">market-data breaker</span> <span id="breaker-state" class="badge">…</span></div>
        <div><span class="label">monitor</span> <span id="monitor-state" class="badge">…</span></div>
        <div><span class="label">hit rate now</span> <span id="now-hit-rate">…</span></div>
        <div><span class="label">p50 / p99 now</span> <span id="now-latency">…</span></div>
      </section>
      <div class="grid">${chart('chart-hit-rate', 'Hit rate', 'Keys found by the data cache and responses answered from the response cache, per poll; the dashed line is CACHE_ALERT_MIN_HIT_RATE.')}${chart(
        'chart-latency',
        'GraphQL latency',
        'p50 and p99 of POST and GET /graphql per poll, from the HTTP histogram /metrics serves.',
      )}${chart('chart-outcomes', 'Requests by cache outcome', 'GraphQL responses per second: near hits (in process), shared hits (Redis), executed (miss), uncacheable.')}${chart(
        'chart-tiers',
        'Tiers',
        'Cache operations per second by tier: memory serves while Redis cannot (fallback).',
      )}${chart('chart-breaker', 'Market-data circuit breaker', 'State over time (closed, half-open, open), and calls refused without reaching the provider per second.')}${chart(
        'chart-warming',
        'Warming runs',
        "Runs and strategy failures since start; the table shows each strategy's last run.",
      )}
      </div>
      <section class="panel wide">
        <h2>Warming strategies</h2>
        <table id="warming-table"><thead><tr><th>strategy</th><th>last run</th><th>result</th><th>items</th><th>duration</th><th>runs</th><th>failures</th></tr></thead><tbody></tbody></table>
      </section>
      <section class="panel wide actions">
        <h2>Actions</h2>
        <form id="invalidate-form">
          <label>Invalidate scope <select id="scope">${scopes}</select></label>
          <input id="scope-value" placeholder="user id" />
          <button id="invalidate" type="submit">Invalidate</button>
        </form>
        <form id="warm-form">
          ${strategies}
          <button id="warm" type="submit">Warm now</button>
        </form>
        <p id="action-result" role="status"></p>
      </section>
    </main>
    <noscript>The operator console needs JavaScript; the same figures are at /cache/metrics and /metrics.</noscript>`,
    scripts: [`${basePath}/console.js`],
  });
}

export const OPS_CONSOLE_CSS = `
:root { color-scheme: light dark; --fg: #1d2430; --muted: #667085; --bg: #f5f7fa; --panel: #fff; --line: #d0d5dd; --ok: #12805c; --warn: #b54708; --bad: #c01048; }
@media (prefers-color-scheme: dark) { :root { --fg: #e4e7ec; --muted: #98a2b3; --bg: #101828; --panel: #1d2939; --line: #344054; } }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.4 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--fg); background: var(--bg); }
header { display: flex; gap: 12px; align-items: center; padding: 10px 16px; border-bottom: 1px solid var(--line); background: var(--panel); }
h1 { font-size: 16px; margin: 0; }
h2 { font-size: 14px; margin: 0 0 2px; }
main { padding: 12px 16px; }
.grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(420px, 1fr)); gap: 12px; margin: 12px 0; }
.panel { background: var(--panel); border: 1px solid var(--line); border-radius: 6px; padding: 10px 12px; }
.wide { margin: 12px 0; }
.status { display: flex; flex-wrap: wrap; gap: 8px 28px; }
.label, .muted, .note { color: var(--muted); }
.note { margin: 0 0 6px; font-size: 12px; }
.badge { display: inline-block; padding: 1px 8px; border-radius: 10px; border: 1px solid var(--line); font-weight: 600; }
.badge.ok { color: var(--ok); border-color: var(--ok); }
.badge.warn { color: var(--warn); border-color: var(--warn); }
.badge.bad { color: var(--bad); border-color: var(--bad); }
.chart { width: 100%; height: auto; display: block; }
.chart text { fill: var(--muted); font-size: 10px; }
.chart .grid-line { stroke: var(--line); stroke-width: 1; }
.chart .threshold { stroke: var(--warn); stroke-dasharray: 4 3; }
.legend { display: flex; flex-wrap: wrap; gap: 4px 14px; font-size: 12px; }
.legend i { display: inline-block; width: 10px; height: 10px; border-radius: 2px; margin-right: 4px; vertical-align: -1px; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: 3px 8px; border-bottom: 1px solid var(--line); }
form#signin { max-width: 560px; margin: 40px auto; background: var(--panel); border: 1px solid var(--line); border-radius: 6px; padding: 16px; }
input, select, button { font: inherit; padding: 4px 8px; }
.actions form { display: flex; flex-wrap: wrap; gap: 10px; align-items: center; margin-bottom: 8px; }
.alert { color: var(--bad); min-height: 1.4em; }
`;

/**
 * The console's script. It polls `/ops/stats` and charts the difference between consecutive
 * polls (rates and windowed percentiles, computed as Prometheus computes rate() and
 * histogram_quantile()). Written as plain ES2017 for any current browser; the project compiles
 * without the DOM library, hence a string.
 */
export function opsConsoleScript(basePath: string): string {
  return `(function () {
  'use strict';
  var TOKEN_KEY = 'trading-gateway.ops-token';
  var BASE = ${JSON.stringify(basePath)};
  var params = new URLSearchParams(window.location.search);
  var POLL_MS = Math.max(250, Number(params.get('poll_ms')) || 2000);
  var KEEP = 90;
  var COLORS = ['#2e90fa', '#f79009', '#12b76a', '#ee46bc', '#7a5af8', '#667085'];
  var BREAKER_LEVEL = { closed: 0, half_open: 1, open: 2 };
  var history = [];
  var previous = null;
  var timer = null;
  var $ = function (id) { return document.getElementById(id); };

  function token() { return window.sessionStorage.getItem(TOKEN_KEY); }

  function request(method, path, body) {
    var headers = { authorization: 'Bearer ' + token() };
    if (body !== undefined) headers['content-type'] = 'application/json';
    return fetch(path, { method: method, headers: headers, body: body === undefined ? undefined : JSON.stringify(body), cache: 'no-store' }).then(function (response) {
      return response.json().catch(function () { return null; }).then(function (data) {
        if (response.ok) return data;
        var error = new Error((data && data.error && data.error.message) || ('HTTP ' + response.status));
        error.status = response.status;
        error.code = data && data.error && data.error.code;
        throw error;
      });
    });
  }

  function signIn(event) {
    event.preventDefault();
    window.sessionStorage.setItem(TOKEN_KEY, $('token').value.trim());
    $('token').value = '';
    start();
  }

  function signOut(message) {
    window.clearTimeout(timer);
    timer = null;
    window.sessionStorage.removeItem(TOKEN_KEY);
    history = [];
    previous = null;
    $('console').hidden = true;
    $('signout').hidden = true;
    $('signin').hidden = false;
    $('signin-message').textContent = message || '';
    setBadge($('connection'), 'signed out', '');
  }

  function start() {
    $('signin').hidden = true;
    $('console').hidden = false;
    $('signout').hidden = false;
    setBadge($('connection'), 'connecting', 'warn');
    poll();
  }

  function poll() {
    window.clearTimeout(timer);
    request('GET', BASE + '/stats').then(function (stats) {
      if (!token()) return;
      take(stats);
      setBadge($('connection'), 'live', 'ok');
      $('last-update').textContent = 'updated ' + new Date(stats.time_ms).toLocaleTimeString();
      timer = window.setTimeout(poll, POLL_MS);
    }, function (error) {
      if (error.status === 401 || error.status === 403) {
        signOut('The gateway refused this token (' + error.status + ' ' + (error.code || '') + '): the console needs the admin token.');
        return;
      }
      setBadge($('connection'), 'unreachable: ' + error.message, 'bad');
      timer = window.setTimeout(poll, POLL_MS);
    });
  }

  function ratio(part, whole) { return whole > 0 ? (100 * part) / whole : null; }

  /** histogram_quantile over the window's bucket increments, in milliseconds; null without requests. */
  function quantile(q, buckets, total) {
    if (!(total > 0)) return null;
    var rank = q * total;
    var lower = 0;
    var below = 0;
    for (var i = 0; i < buckets.length; i++) {
      if (buckets[i].count >= rank) {
        var inBucket = buckets[i].count - below;
        var share = inBucket > 0 ? (rank - below) / inBucket : 1;
        return 1000 * (lower + (buckets[i].le - lower) * share);
      }
      lower = buckets[i].le;
      below = buckets[i].count;
    }
    return 1000 * lower;
  }

  function take(stats) {
    var point = { t: stats.time_ms };
    if (previous) {
      var seconds = Math.max(0.001, (stats.time_ms - previous.time_ms) / 1000);
      var d = function (pick) { return Math.max(0, pick(stats) - pick(previous)); };
      var rc = function (name) { return function (s) { return s.response_cache ? s.response_cache[name] : 0; }; };
      var hits = d(function (s) { return s.cache.hits; });
      var misses = d(function (s) { return s.cache.misses; });
      var near = d(rc('near_hits'));
      var shared = d(rc('shared_hits'));
      var executed = d(rc('misses'));
      var buckets = stats.http.buckets.map(function (bucket, i) {
        var before = previous.http.buckets[i];
        return { le: bucket.le, count: bucket.count - (before ? before.count : 0) };
      });
      var requests = d(function (s) { return s.http.count; });
      point.hitRate = ratio(hits, hits + misses);
      point.responseHitRate = ratio(near + shared, near + shared + executed);
      point.p50 = quantile(0.5, buckets, requests);
      point.p99 = quantile(0.99, buckets, requests);
      point.near = near / seconds;
      point.shared = shared / seconds;
      point.executed = executed / seconds;
      point.uncacheable = d(rc('uncacheable')) / seconds;
      point.redisOps = d(function (s) { return s.cache.tiers.redis.total_operations; }) / seconds;
      point.memoryOps = d(function (s) { return s.cache.tiers.memory.total_operations; }) / seconds;
      point.shortCircuited = d(function (s) { return s.market.breaker.short_circuited; }) / seconds;
    }
    point.breaker = BREAKER_LEVEL[stats.market.breaker.state];
    point.warmingRuns = stats.warming.runs;
    point.warmingFailures = stats.warming.strategies.reduce(function (sum, s) { return sum + s.failures; }, 0);
    previous = stats;
    history.push(point);
    if (history.length > KEEP) history.shift();
    render(stats);
  }

  function series(name, pick) {
    return { name: name, points: history.map(function (p) { var v = pick(p); return { t: p.t, v: v === undefined ? null : v }; }) };
  }

  function render(stats) {
    var thresholds = stats.monitor.thresholds;
    draw('chart-hit-rate', [series('data cache', function (p) { return p.hitRate; }), series('responses', function (p) { return p.responseHitRate; })], { min: 0, max: 100, unit: '%', threshold: thresholds.min_hit_rate });
    draw('chart-latency', [series('p50', function (p) { return p.p50; }), series('p99', function (p) { return p.p99; })], { min: 0, unit: ' ms' });
    draw('chart-outcomes', [series('near hit', function (p) { return p.near; }), series('shared hit', function (p) { return p.shared; }), series('executed (miss)', function (p) { return p.executed; }), series('uncacheable', function (p) { return p.uncacheable; })], { min: 0, unit: '/s' });
    draw('chart-tiers', [series('redis', function (p) { return p.redisOps; }), series('memory', function (p) { return p.memoryOps; })], { min: 0, unit: '/s' });
    draw('chart-breaker', [series('state', function (p) { return p.breaker; })], { min: 0, max: 2, step: true, labels: ['closed', 'half-open', 'open'] });
    draw('chart-warming', [series('runs', function (p) { return p.warmingRuns; }), series('strategy failures', function (p) { return p.warmingFailures; })], { min: 0, step: true });

    var cache = stats.cache;
    setBadge($('tier-status'), cache.fallback_enabled ? 'memory tier serving (Redis down), ' + cache.status : 'Redis serving, ' + cache.status, cache.fallback_enabled ? 'bad' : cache.status === 'healthy' ? 'ok' : 'warn');
    $('pending').textContent = String(cache.pending_invalidations);
    var breaker = stats.market.breaker;
    setBadge($('breaker-state'), breaker.state.replace('_', '-') + ' (' + stats.market.provider + ', opened ' + breaker.opens + '×)', breaker.state === 'closed' ? 'ok' : breaker.state === 'open' ? 'bad' : 'warn');
    var monitor = stats.monitor;
    var alerting = [monitor.hit_rate === 'alerting' ? 'low hit rate' : null, monitor.error_rate === 'alerting' ? 'high error rate' : null].filter(Boolean);
    setBadge($('monitor-state'), alerting.length ? alerting.join(', ') : 'ok', alerting.length ? 'bad' : 'ok');
    var latest = function (name) { return lastValue(history.map(function (p) { return p[name]; })); };
    $('now-hit-rate').textContent = format(latest('hitRate'), '%') + ' (responses ' + format(latest('responseHitRate'), '%') + ')';
    $('now-latency').textContent = format(latest('p50'), ' ms') + ' / ' + format(latest('p99'), ' ms');
    renderWarming(stats.warming);
  }

  function renderWarming(warming) {
    var body = $('warming-table').tBodies[0];
    body.textContent = '';
    warming.strategies.forEach(function (s) {
      var row = body.insertRow();
      row.dataset.strategy = s.name;
      [s.name, s.last_run_at ? new Date(s.last_run_at).toLocaleTimeString() : 'never', s.runs === 0 ? '' : s.success ? 'ok' : 'failed: ' + (s.error || ''), String(s.items_processed), s.duration_ms + ' ms', String(s.runs), String(s.failures)].forEach(function (text) {
        row.insertCell().textContent = text;
      });
    });
  }

  /** The newest value that is not null: a poll without requests leaves the figure before it standing. */
  function lastValue(values) {
    for (var i = values.length - 1; i >= 0; i--) if (values[i] !== null && values[i] !== undefined) return values[i];
    return null;
  }

  function format(value, unit) {
    if (value === null || value === undefined) return '–';
    return (Math.abs(value) >= 100 ? value.toFixed(0) : Math.abs(value) >= 10 ? value.toFixed(1) : value.toFixed(2)) + unit;
  }

  function setBadge(element, text, kind) {
    element.textContent = text;
    element.className = 'badge' + (kind ? ' ' + kind : '');
  }

  var SVG = 'http://www.w3.org/2000/svg';
  function svgElement(name, attributes, text) {
    var element = document.createElementNS(SVG, name);
    Object.keys(attributes).forEach(function (key) { element.setAttribute(key, String(attributes[key])); });
    if (text !== undefined) element.textContent = text;
    return element;
  }

  /** A line chart of series sharing one time axis; null values leave gaps. */
  function draw(id, list, options) {
    var svg = $(id);
    var W = 600, H = 180, left = 60, right = 8, top = 8, bottom = 20;
    svg.textContent = '';
    var values = [];
    list.forEach(function (s) { s.points.forEach(function (p) { if (p.v !== null) values.push(p.v); }); });
    var min = options.min !== undefined ? options.min : Math.min.apply(null, values.concat([0]));
    var max = options.max !== undefined ? options.max : Math.max.apply(null, values.concat([options.threshold || 0]));
    if (!(max > min)) max = min + 1;
    if (options.max === undefined) max = max * 1.1;
    var times = history.map(function (p) { return p.t; });
    var t0 = times[0], t1 = times[times.length - 1];
    var span = t1 > t0 ? t1 - t0 : 1;
    var x = function (t) { return left + ((t - t0) / span) * (W - left - right); };
    var y = function (v) { return top + (1 - (v - min) / (max - min)) * (H - top - bottom); };
    var ticks = options.labels ? options.labels.map(function (_, i) { return min + i; }) : [0, 1, 2, 3, 4].map(function (i) { return min + ((max - min) * i) / 4; });
    ticks.forEach(function (v, i) {
      svg.appendChild(svgElement('line', { class: 'grid-line', x1: left, x2: W - right, y1: y(v), y2: y(v) }));
      svg.appendChild(svgElement('text', { x: left - 4, y: y(v) + 3, 'text-anchor': 'end' }, options.labels ? options.labels[i] : format(v, options.unit || '')));
    });
    if (times.length > 1) svg.appendChild(svgElement('text', { x: W - right, y: H - 4, 'text-anchor': 'end' }, 'last ' + Math.round(span / 1000) + ' s'));
    if (options.threshold !== undefined) svg.appendChild(svgElement('line', { class: 'threshold', x1: left, x2: W - right, y1: y(options.threshold), y2: y(options.threshold) }));
    var legend = $(id + '-legend');
    legend.textContent = '';
    list.forEach(function (s, index) {
      var color = COLORS[index % COLORS.length];
      var d = '';
      var drawn = 0;
      var pen = false;
      var lastY = null;
      s.points.forEach(function (p) {
        if (p.v === null) { pen = false; return; }
        var px = x(p.t).toFixed(1), py = y(p.v).toFixed(1);
        if (!pen) d += 'M' + px + ' ' + py;
        else if (options.step) d += 'H' + px + 'V' + py;
        else d += 'L' + px + ' ' + py;
        pen = true;
        lastY = py;
        drawn += 1;
      });
      if (drawn === 1) d += 'h2';
      var path = svgElement('path', { d: d || 'M0 0', fill: 'none', stroke: color, 'stroke-width': 2, 'data-series': s.name, 'data-points': drawn });
      svg.appendChild(path);
      var item = document.createElement('span');
      var swatch = document.createElement('i');
      swatch.style.background = color;
      item.appendChild(swatch);
      var last = lastValue(s.points.map(function (p) { return p.v; }));
      item.appendChild(document.createTextNode(s.name + ' ' + (options.labels ? (last === null ? '–' : options.labels[last]) : format(last, options.unit || ''))));
      legend.appendChild(item);
    });
  }

  function showResult(text, failed) {
    var element = $('action-result');
    element.textContent = text;
    element.className = failed ? 'alert' : '';
  }

  $('scope').addEventListener('change', function () {
    var placeholders = { user: 'user id', signals: 'symbol (optional), e.g. EUR_USD', market: 'symbol (optional), e.g. EUR_USD', pattern: 'pattern, e.g. market:*', all: '' };
    $('scope-value').placeholder = placeholders[$('scope').value] || '';
    $('scope-value').disabled = $('scope').value === 'all';
  });

  $('invalidate-form').addEventListener('submit', function (event) {
    event.preventDefault();
    var scope = $('scope').value;
    var value = $('scope-value').value.trim();
    var body = { scope: scope };
    if (scope === 'user') body.id = Number(value);
    else if ((scope === 'signals' || scope === 'market') && value) body.symbol = value;
    else if (scope === 'pattern') body.pattern = value;
    if (scope === 'all' && !window.confirm('Invalidate every cached entry and response on every instance?')) return;
    showResult('Invalidating ' + scope + '…');
    request('POST', '/cache/invalidate', body).then(function (result) {
      showResult('Invalidated scope ' + result.scope + (value && scope !== 'all' ? ' (' + value + ')' : '') + ': ' + result.removed + ' entries removed.');
      poll();
    }, function (error) { showResult('Invalidation refused: ' + error.message, true); });
  });

  $('warm-form').addEventListener('submit', function (event) {
    event.preventDefault();
    var strategies = Array.prototype.slice.call(document.querySelectorAll('input[name=strategy]:checked')).map(function (box) { return box.value; });
    // The API reads an empty list as every strategy: with none ticked, nothing is asked for.
    if (strategies.length === 0) return showResult('Tick at least one strategy to warm.', true);
    showResult('Warming ' + strategies.join(', ') + '…');
    request('POST', '/cache/warming/trigger', { strategies: strategies }).then(function (run) {
      if (run.status === 'skipped') showResult('Warming skipped: ' + run.reason, true);
      else showResult('Warming completed in ' + run.duration_ms + ' ms: ' + run.results.map(function (r) { return r.name + (r.success ? ' ok (' + r.items_processed + ' items)' : ' failed'); }).join(', ') + '.');
      poll();
    }, function (error) { showResult('Warming refused: ' + error.message, true); });
  });

  $('signin').addEventListener('submit', signIn);
  $('signout').addEventListener('click', function () { signOut(''); });
  if (token()) start();
})();
`;
}

/** Browser-side: the recent-jobs timeline and the pickup-latency chart (helpers in client-util.ts). */
export const CLIENT_JOBS_JS = `
var TIMELINE_ROWS = 30;
var LATENCY_JOBS = 60;

function timelineBar(j, x, now) {
  var start = firstTime(j);
  var assigned = ms(j.assignedAt), started = ms(j.startedAt), done = ms(j.completedAt);
  var end = done !== undefined ? done : now;
  var bar = svg('svg', { viewBox: '0 0 1000 14', preserveAspectRatio: 'none', width: '100%', height: 14 },
    svg('rect', { class: 'track', x: 0, y: 0, width: 1000, height: 14, rx: 2 }));
  function seg(cls, from, to, label) {
    if (from === undefined || to === undefined || to < from) return;
    bar.appendChild(svg('rect', { class: cls, 'data-seg': label, x: x(from), y: 2, width: Math.max(2, x(to) - x(from)), height: 10 },
      svg('title', { text: label + ' ' + fmtMs(to - from) })));
  }
  var waitFrom = assigned !== undefined ? assigned : undefined;
  seg('seg-queue', start, waitFrom !== undefined ? waitFrom : (started !== undefined ? started : end), 'queued');
  seg('seg-wait', waitFrom, started !== undefined ? started : end, 'waiting for a runner');
  seg(resultClass(j), started, end, done !== undefined ? (j.result || 'completed') : 'running');
  return bar;
}

function resultBadge(j) {
  var cls = resultClass(j);
  // The daemon's rule (jobState), so the page and \`runner status\` cannot disagree.
  var text = j.state;
  var badge = { 'seg-ok': 'ok', 'seg-fail': 'bad', 'seg-run': 'info', 'seg-wait': 'warn' }[cls] || 'idle';
  return el('span', { class: 'badge ' + badge, 'data-testid': 'job-result', text: text });
}

function timeline(jobs, now) {
  if (!jobs.length) return el('p', { class: 'empty', text: 'No jobs yet.' });
  var rows = jobs.slice(0, TIMELINE_ROWS);
  var t0 = Infinity, t1 = -Infinity;
  rows.forEach(function (j) {
    var f = firstTime(j);
    if (f !== undefined) t0 = Math.min(t0, f);
    t1 = Math.max(t1, ms(j.completedAt) !== undefined ? ms(j.completedAt) : now);
  });
  var span = Math.max(1000, t1 - t0);
  function x(v) { return ((v - t0) / span) * 1000; }
  return el('table', { 'data-testid': 'timeline' },
    el('thead', null, el('tr', null,
      el('th', { text: 'Job' }), el('th', { text: 'Scale set' }), el('th', { text: 'Result' }),
      el('th', { text: 'Pickup' }), el('th', { text: 'Run' }),
      el('th', null, el('span', { text: clock(t0) }), el('span', { class: 'muted', text: ' \u2192 ' + clock(t1) + ' (' + fmtMs(span) + ')' })))),
    el('tbody', null, rows.map(function (j) {
      var title = [j.repository, j.workflowRef, j.runnerName].filter(Boolean).join(' \u00b7 ');
      return el('tr', { 'data-testid': 'job-row', 'data-request-id': j.requestId },
        el('td', { class: 'job', title: title },
          el('span', { text: j.jobDisplayName || ('#' + j.requestId) }), ' ',
          el('span', { class: 'muted', text: j.repository || '' })),
        el('td', { text: j.scaleSet }),
        el('td', null, resultBadge(j)),
        el('td', { class: 'num', 'data-testid': 'job-pickup', text: fmtMs(j.pickupMs) }),
        el('td', { class: 'num', text: fmtMs(j.executionMs) }),
        el('td', { class: 'bar' }, timelineBar(j, x, now)));
    })));
}

function latencyChart(jobs) {
  var pts = jobs.filter(function (j) { return typeof j.pickupMs === 'number'; })
    .sort(function (a, b) { return firstTime(a) - firstTime(b); }).slice(-LATENCY_JOBS);
  if (!pts.length) return el('p', { class: 'empty', text: 'No job has started yet.' });
  var secs = pts.map(function (j) { return Math.max(0, j.pickupMs) / 1000; });
  var sorted = secs.slice().sort(function (a, b) { return a - b; });
  var p50 = percentile(sorted, 0.5), p90 = percentile(sorted, 0.9), top = niceMax(sorted[sorted.length - 1]);
  var W = 1000, H = 220, L = 52, R = 70, T = 10, B = 26;
  function y(v) { return T + (H - T - B) * (1 - v / top); }
  var chart = svg('svg', { viewBox: '0 0 ' + W + ' ' + H, width: '100%', role: 'img', 'data-testid': 'latency-chart' },
    svg('title', { text: 'pickup latency (queued \u2192 started) of the last ' + pts.length + ' jobs' }));
  for (var i = 0; i <= 4; i++) {
    var v = (top * i) / 4;
    chart.appendChild(svg('line', { class: 'grid-line', x1: L, x2: W - R, y1: y(v), y2: y(v) }));
    chart.appendChild(svg('text', { x: L - 6, y: y(v) + 4, 'text-anchor': 'end', text: v ? fmtMs(v * 1000) : '0' }));
  }
  var slot = (W - L - R) / pts.length, bw = Math.max(2, Math.min(28, slot * 0.7));
  pts.forEach(function (j, k) {
    var v = secs[k];
    chart.appendChild(svg('rect', {
      class: 'lat-bar' + (v > p90 ? ' slow' : ''), 'data-testid': 'latency-bar', 'data-request-id': j.requestId,
      x: L + k * slot + (slot - bw) / 2, y: y(v), width: bw, height: Math.max(1, y(0) - y(v)),
    }, svg('title', { text: (j.jobDisplayName || '#' + j.requestId) + ': ' + fmtMs(j.pickupMs) })));
  });
  [['p50', p50], ['p90', p90]].forEach(function (r) {
    chart.appendChild(svg('line', { class: 'ref-line', x1: L, x2: W - R, y1: y(r[1]), y2: y(r[1]) }));
    chart.appendChild(svg('text', { x: W - R + 6, y: y(r[1]) + 4, text: r[0] + ' ' + fmtMs(r[1] * 1000) }));
  });
  chart.appendChild(svg('text', { x: L, y: H - 6, text: 'oldest' }));
  chart.appendChild(svg('text', { x: W - R, y: H - 6, 'text-anchor': 'end', text: 'newest \u00b7 ' + pts.length + ' jobs' }));
  return el('div', null,
    el('div', { class: 'numbers', 'data-testid': 'latency-summary' },
      el('span', null, 'p50 ', el('b', { text: fmtMs(p50 * 1000) })),
      el('span', null, 'p90 ', el('b', { text: fmtMs(p90 * 1000) })),
      el('span', null, 'max ', el('b', { text: fmtMs(sorted[sorted.length - 1] * 1000) }))),
    chart);
}
`;

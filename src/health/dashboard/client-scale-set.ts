/** Browser-side: one card per scale set (see client-util.ts for the helpers and the rules). */
export const CLIENT_SCALE_SET_JS = `
var STATES = ['creating', 'idle', 'busy', 'done', 'failed', 'removing'];
var PHASE_CLASS = { listening: 'ok', starting: 'info', reconnecting: 'warn', draining: 'warn', stopped: 'bad' };

function kpi(key, value, label) {
  return el('div', { class: 'kpi', 'data-testid': 'kpi-' + key }, el('b', { text: value }), el('span', { text: label }));
}

function stateBar(counts, total) {
  var bar = svg('svg', { viewBox: '0 0 1000 12', preserveAspectRatio: 'none', width: '100%', height: 12, role: 'img' },
    svg('title', { text: 'runners by state' }),
    svg('rect', { class: 'track', x: 0, y: 0, width: 1000, height: 12, rx: 3 }));
  var x = 0;
  STATES.forEach(function (s) {
    var n = counts[s] || 0;
    if (!n || !total) return;
    var w = (n / total) * 1000;
    bar.appendChild(svg('rect', { class: 's-' + s, x: x, y: 0, width: w, height: 12 }, svg('title', { text: s + ': ' + n })));
    x += w;
  });
  return bar;
}

function numbers(pairs) {
  return el('div', { class: 'numbers' }, pairs.map(function (p) {
    return el('span', { 'data-testid': p[2] }, p[0] + ' ', el('b', { text: p[1] }));
  }));
}

function runnersTable(runners, now) {
  if (!runners.length) return el('p', { class: 'empty', text: 'No runners.' });
  var shown = runners.slice(0, 12);
  return el('div', null,
    el('table', { 'data-testid': 'runners' },
      el('thead', null, el('tr', null, ['Runner', 'State', 'Tier', 'For', 'Job'].map(function (h) { return el('th', { text: h }); }))),
      el('tbody', null, shown.map(function (r) {
        return el('tr', { 'data-testid': 'runner-row', 'data-state': r.state },
          el('td', { class: 'mono', text: r.name }),
          el('td', null, el('i', { class: 'dot s-' + r.state }), r.state),
          el('td', { text: r.tier || '\u2013' }),
          el('td', { class: 'num', text: fmtMs(now - ms(r.since)) }),
          el('td', { class: 'num', text: r.jobRequestId === undefined ? '\u2013' : '#' + r.jobRequestId }));
      }))),
    runners.length > shown.length ? el('p', { class: 'muted', text: '\u2026 and ' + (runners.length - shown.length) + ' more' }) : null);
}

function scaleSetCard(ss, now) {
  var counts = ss.runnerCounts || {};
  var total = STATES.reduce(function (a, s) { return a + (counts[s] || 0); }, 0);
  var st = ss.statistics;
  var polled = ms(ss.lastPollAt);
  var c = ss.counters || {};
  var pool = Object.keys(ss.pool || {});
  var costs = ss.costs || [];
  return el('article', { class: 'card', 'data-testid': 'scale-set', 'data-name': ss.name },
    el('header', null,
      el('h2', { text: ss.name }),
      el('span', { class: 'muted', text: ss.backend + (ss.scaleSetId === undefined ? '' : ' \u00b7 id ' + ss.scaleSetId) }),
      el('span', { class: 'spacer' }),
      el('span', { class: 'badge ' + (PHASE_CLASS[ss.phase] || 'idle'), 'data-testid': 'phase', text: ss.phase }),
      el('span', { class: 'badge ' + (ss.healthy ? 'ok' : 'bad'), 'data-testid': 'health', text: ss.healthy ? 'healthy' : 'unhealthy' })),
    // A healthy set may still carry its last error (e.g. a reconnect that already recovered): a warning, not an alarm.
    ss.reason ? el('p', { class: 'reason' + (ss.healthy ? ' warn' : ''), 'data-testid': 'reason', text: ss.reason }) : null,
    ss.shape ? el('p', { class: 'muted', 'data-testid': 'shape', text: 'shape cpu=' + ss.shape.cpu + ' ram=' + ss.shape.ram +
      (ss.shape.disk === undefined ? '' : ' disk=' + ss.shape.disk) + (ss.shape.arch ? ' arch=' + ss.shape.arch : '') +
      (ss.shape.image ? ' image=' + ss.shape.image : '') + ' of ' + ss.shape.base }) : null,
    ss.waiting ? el('p', { class: 'reason warn', 'data-testid': 'waiting', 'data-reason': ss.waiting.reason, text: ss.waiting.text }) : null,
    el('div', { class: 'kpis' },
      kpi('desired', ss.desiredRunners, 'desired'),
      kpi('min', ss.minRunners, 'min'),
      kpi('max', ss.maxRunners, 'max'),
      kpi('assigned', st ? st.totalAssignedJobs : '\u2013', 'assigned jobs'),
      kpi('running', st ? st.totalRunningJobs : '\u2013', 'running jobs'),
      kpi('poll', polled === undefined ? 'never' : fmtMs(now - polled), 'since last poll')),
    el('h3', { text: 'Runners \u00b7 ' + total }),
    stateBar(counts, total),
    el('div', { class: 'legend' }, STATES.map(function (s) {
      return el('span', { 'data-testid': 'runner-count', 'data-state': s },
        el('i', { class: 'dot s-' + s }), s + ' ', el('b', { text: counts[s] || 0 }));
    })),
    el('h3', { text: 'Pool tiers' }),
    pool.length
      ? el('div', { class: 'chips' }, pool.map(function (t) {
          return el('span', { class: 'chip', 'data-testid': 'pool-tier', 'data-tier': t }, t + ' ', el('b', { text: ss.pool[t] }));
        }))
      : el('p', { class: 'empty', text: 'No pool.' }),
    costs.length
      ? el('div', { class: 'chips', title: 'machine time beyond the jobs since the daemon started, at list prices' },
          costs.map(function (c) {
            return el('span', { class: 'chip', 'data-testid': 'cost', 'data-cause': c.cause },
              c.cause + ' ', el('b', { text: c.seconds + ' s' }), ' \u2248 $' + c.usd.toFixed(4));
          }))
      : null,
    el('h3', { text: 'GitHub statistics' }),
    st ? numbers([
      ['available', st.totalAvailableJobs, 'stat-available'], ['acquired', st.totalAcquiredJobs, 'stat-acquired'],
      ['assigned', st.totalAssignedJobs, 'stat-assigned'], ['running', st.totalRunningJobs, 'stat-running'],
      ['registered', st.totalRegisteredRunners, 'stat-registered'], ['busy', st.totalBusyRunners, 'stat-busy'],
      ['idle', st.totalIdleRunners, 'stat-idle'],
    ]) : el('p', { class: 'empty', text: 'No session yet.' }),
    el('h3', { text: 'Since start' }),
    numbers([
      ['jobs started', c.jobsStarted, 'count-jobs-started'], ['completed', c.jobsCompleted, 'count-jobs-completed'],
      ['runners started', c.runnersStarted, 'count-runners-started'], ['start failures', c.startFailures, 'count-start-failures'],
      ['reconnects', c.reconnects, 'count-reconnects'], ['adopted', c.adopted, 'count-adopted'], ['cleaned up', c.cleanedUp, 'count-cleaned-up'],
    ]),
    el('h3', { text: 'Runners' }),
    runnersTable(ss.runners || [], now));
}
`;

/**
 * Browser-side: token handling and the poll loop. A `?token=` in the address is moved into
 * sessionStorage and removed from the address bar, so it does not stay in history or get shared
 * with a copied link.
 */
export const CLIENT_MAIN_JS = `
var POLL_MS = 2000;
var TOKEN_KEY = 'runner-health-token';

function takeToken() {
  var params = new URLSearchParams(location.search);
  var fromUrl = params.get('token');
  if (fromUrl) {
    sessionStorage.setItem(TOKEN_KEY, fromUrl);
    params.delete('token');
    var rest = params.toString();
    history.replaceState(null, '', location.pathname + (rest ? '?' + rest : '') + location.hash);
    return fromUrl;
  }
  return sessionStorage.getItem(TOKEN_KEY);
}

var token = takeToken();

function byId(id) { return document.getElementById(id); }

function showError(message) {
  var b = byId('error');
  b.hidden = !message;
  b.textContent = message || '';
}

function render(st) {
  var now = Date.now();
  byId('version').textContent = 'v' + st.version + ' \u00b7 up ' + fmtMs(now - ms(st.startedAt));
  fill(byId('overall'),
    el('span', { class: 'badge ' + (st.healthy ? 'ok' : 'bad'), 'data-testid': 'overall', text: st.healthy ? 'healthy' : 'unhealthy' }),
    st.ready ? null : el('span', { class: 'badge info', text: 'starting' }));
  byId('updated').textContent = 'updated ' + clock(now);
  fill(byId('scale-sets'), st.scaleSets.map(function (ss) { return scaleSetCard(ss, now); }));
  fill(byId('hosts'), hostsPanel(st.hosts));
  var jobs = [];
  st.scaleSets.forEach(function (ss) { jobs = jobs.concat(ss.recentJobs || []); });
  jobs.sort(function (a, b) { return (firstTime(b) || 0) - (firstTime(a) || 0); });
  fill(byId('timeline'), timeline(jobs, now));
  fill(byId('latency'), latencyChart(jobs));
  document.body.setAttribute('data-loaded', 'true');
}

function tick() {
  var headers = token ? { Authorization: 'Bearer ' + token } : {};
  fetch('api/status', { headers: headers, cache: 'no-store' })
    .then(function (res) {
      if (res.status === 401) throw new Error('Unauthorized: open this page as /?token=<health token>.');
      if (!res.ok) throw new Error('GET api/status: HTTP ' + res.status);
      return res.json();
    })
    .then(function (st) { render(st); showError(null); })
    .catch(function (err) { showError((err && err.message) || String(err)); })
    .then(function () { setTimeout(tick, POLL_MS); });
}

tick();
`;

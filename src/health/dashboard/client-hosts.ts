/** Browser-side: the hosts panel (Docker's `[[docker.hosts]]`), hidden when the daemon has none. */
export const CLIENT_HOSTS_JS = `
var HOST_CLASS = { up: 'ok', joining: 'info', down: 'bad' };

function fmtBytes(n) {
  var units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  var u = 0;
  while (n >= 1024 && u < units.length - 1) { n /= 1024; u++; }
  return Math.round(n * 10) / 10 + units[u];
}

function fmtLimit(v, show) {
  if (v === 'unlimited') return '\\u221e';
  if (v === 'unknown' || v === undefined) return '?';
  return show(v);
}

function fmtCpus(n) { return String(Math.round(n * 100) / 100); }

function hostsPanel(hosts) {
  if (!hosts || !hosts.length) return null;
  return el('section', { class: 'card', 'aria-label': 'Hosts', 'data-testid': 'hosts' },
    el('header', null, el('h2', { text: 'Hosts' })),
    el('table', null,
      el('thead', null, el('tr', null, ['Host', 'State', 'Runners', 'CPUs', 'Memory', 'Last error'].map(function (h) { return el('th', { text: h }); }))),
      el('tbody', null, hosts.map(function (h) {
        return el('tr', { 'data-testid': 'host-row', 'data-host': h.name, 'data-state': h.state, 'data-cordoned': String(h.cordoned) },
          el('td', { class: 'mono', text: h.name }),
          el('td', null,
            el('span', { class: 'badge ' + (HOST_CLASS[h.state] || 'info'), text: h.state }),
            h.cordoned ? el('span', { class: 'badge warn', text: 'cordoned' }) : null),
          el('td', { class: 'num', 'data-testid': 'host-runners', text: h.used.count + ' / ' + fmtLimit(h.budget.count, String) }),
          el('td', { class: 'num', text: fmtCpus(h.used.cpus) + ' / ' + fmtLimit(h.budget.cpus, fmtCpus) }),
          el('td', { class: 'num', text: fmtBytes(h.used.memory) + ' / ' + fmtLimit(h.budget.memory, fmtBytes) }),
          el('td', { class: 'muted', text: h.state !== 'up' && h.error ? h.error : '\\u2013' }));
      }))));
}
`;

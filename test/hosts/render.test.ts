import { describe, expect, it } from 'vitest';
import { bytes, hostsTable, renderHosts } from '../../src/hosts/render.js';
import { renderStatus } from '../../src/status/render.js';
import { parseCordon, parseHosts, parseStatus, shownStatus } from '../../src/status/schema.js';
import { daemonStatus, scaleSet, T0 } from '../health/fixtures.js';
import { threeHosts } from './fixtures.js';

/** The fixture hosts as `runner hosts` receives them: through JSON and the schema. */
const shownHosts = () => parseHosts(JSON.parse(JSON.stringify({ hosts: threeHosts() })));

describe('runner hosts: the table', () => {
  it('one row per host: state, cordon, runners, CPUs and memory in use / budget, and the error of a host not up', () => {
    expect(renderHosts(shownHosts())).toBe(
      [
        'HOST     STATE  CORDON    RUNNERS  CPUS    MEMORY',
        'build-1  up     -         3/8      4.5/16  12GiB/64GiB',
        'build-2  up     cordoned  1/∞      0.3/32  1.5GiB/128GiB',
        'build-3  down   -         0/4      0/?     0B/?',
        '  build-3: no answer within 10s',
        '',
        'A cordoned host takes no new runners; its busy runners finish.',
        '',
      ].join('\n'),
    );
  });

  it('colours the state and the cordon without moving the columns', () => {
    const colored = hostsTable(shownHosts(), (style, text) => `<${style}>${text}</>`);
    expect(colored[1]).toBe('build-1  <green>up</>     -         3/8      4.5/16  12GiB/64GiB');
    expect(colored[2]).toContain('<green>up</>     <yellow>cordoned</>  1/∞');
    expect(colored[3]).toContain('<red>down</>   -');
    expect(colored[4]).toBe('<red>  build-3: no answer within 10s</>');
  });

  it('says so when there is no host, and sizes memory in binary units', () => {
    expect(renderHosts([])).toBe('No hosts.\n');
    expect([0, 1023, 1024, 1536 * 1024 ** 2, 64 * 1024 ** 4, 5 * 1024 ** 5].map(bytes)).toEqual([
      '0B',
      '1023B',
      '1KiB',
      '1.5GiB',
      '64TiB',
      '5120TiB',
    ]);
  });
});

describe('hosts in runner status', () => {
  it('shows the hosts table under the scale sets when the daemon has hosts, and nothing without', () => {
    const withHosts = daemonStatus([scaleSet({ name: 'linux' })], { hosts: threeHosts() });
    const text = renderStatus(parseStatus(JSON.parse(JSON.stringify(withHosts))), { color: false, now: T0 });
    const lines = text.split('\n');
    const at = lines.indexOf('hosts');
    expect(at).toBeGreaterThan(lines.findIndex((l) => l.startsWith('linux')));
    expect(lines.slice(at + 1, at + 4)).toEqual([
      '  HOST     STATE  CORDON    RUNNERS  CPUS    MEMORY',
      '  build-1  up     -         3/8      4.5/16  12GiB/64GiB',
      '  build-2  up     cordoned  1/∞      0.3/32  1.5GiB/128GiB',
    ]);
    const without = renderStatus(shownStatus(daemonStatus([scaleSet({ name: 'linux' })])), {
      color: false,
      now: T0,
    });
    expect(without).not.toContain('HOST');
  });
});

describe('the hosts schema', () => {
  it('takes a status with or without hosts, the hosts list and a cordon answer', () => {
    const hosts = JSON.parse(JSON.stringify(threeHosts()));
    expect(parseStatus({ ...daemonStatus([]), hosts }).hosts).toHaveLength(3);
    expect(parseStatus(daemonStatus([])).hosts).toBeUndefined();
    expect(parseHosts({ hosts }).map((h) => h.name)).toEqual(['build-1', 'build-2', 'build-3']);
    expect(parseCordon({ host: hosts[1] })).toMatchObject({ name: 'build-2', cordoned: true });
  });

  it('names the first field that does not fit', () => {
    const hosts = JSON.parse(JSON.stringify(threeHosts()));
    hosts[2].budget.cpus = 'lots';
    expect(() => parseHosts({ hosts })).toThrow(/^hosts\.2\.budget\.cpus: /);
    expect(() => parseStatus({ ...daemonStatus([]), hosts: [{ name: 'x' }] })).toThrow(/^hosts\.0\.url: /);
    expect(() => parseCordon({ error: 'no host' })).toThrow(/^host: /);
  });
});

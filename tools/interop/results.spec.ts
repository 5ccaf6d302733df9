import { apiOf, bareTestId, includeListFor, parseSubunitCsv, tally } from './results';

describe('interop results', () => {
  const csv = [
    'test,status,start_time,stop_time',
    'tempest.api.compute.a.A.test_one[id-1,smoke],success,t0,t1',
    'tempest.api.compute.a.A.test_two[id-2],fail,t0,t1',
    '"tempest.api.volume.v.V.test_three[id-3,smoke]",skip,t0,t1',
    'setUpClass (tempest.api.network.n.N),fail,t0,t1',
    'setUpClass (tempest.api.image.i.I),skip,t0,t1',
    'tempest.api.compute.a.A.test_one[id-1,smoke],fail,t0,t1',
  ].join('\n');

  it('strips attributes and names the API', () => {
    expect(bareTestId('tempest.api.image.v2.x.X.test_y[id-9,smoke]')).toBe('tempest.api.image.v2.x.X.test_y');
    expect(apiOf('tempest.api.identity.v3.test_tokens.T.test_x')).toBe('identity');
    expect(apiOf('setUpClass (x)')).toBe('other');
  });

  it('keeps the worst outcome of a test that ran twice and reads quoted rows', () => {
    const o = parseSubunitCsv(csv);
    expect(o.get('tempest.api.compute.a.A.test_one')).toBe('failed');
    expect(o.get('tempest.api.volume.v.V.test_three')).toBe('skipped');
  });

  it("gives a test without a row of its own its class's set-up outcome (a class skipped at set-up is skipped)", () => {
    const { rows } = tally(['tempest.api.image.i.I.test_a', 'tempest.api.image.i.I.test_b', 'tempest.api.network.n.N.test_c'], parseSubunitCsv(csv));
    expect(rows.map((r) => [r.api, r.passed, r.skipped, r.failed])).toEqual([
      ['image', 0, 2, 0],
      ['network', 0, 0, 1],
      ['total', 0, 2, 1],
    ]);
  });

  it('counts a listed test without a result (its class failed to set up) as failed', () => {
    const listed = ['tempest.api.compute.a.A.test_two', 'tempest.api.volume.v.V.test_three', 'tempest.api.network.n.N.test_four', 'tempest.api.compute.a.A.test_five'];
    const outcomes = parseSubunitCsv(csv.replace('test_one[id-1,smoke],fail', 'test_five,success'));
    const { rows, failedTests, skippedTests } = tally(listed, outcomes);
    expect(rows).toEqual([
      { api: 'compute', listed: 2, passed: 1, skipped: 0, failed: 1 },
      { api: 'network', listed: 1, passed: 0, skipped: 0, failed: 1 },
      { api: 'volume', listed: 1, passed: 0, skipped: 1, failed: 0 },
      { api: 'total', listed: 4, passed: 1, skipped: 1, failed: 2 },
    ]);
    expect(failedTests).toEqual(['tempest.api.compute.a.A.test_two', 'tempest.api.network.n.N.test_four']);
    expect(skippedTests).toEqual(['tempest.api.volume.v.V.test_three']);
  });

  it('anchors every include-list line so a test does not pull in others sharing its prefix', () => {
    const re = new RegExp(includeListFor(['tempest.api.compute.f.F.test_list_flavors']).trim());
    expect(re.test('tempest.api.compute.f.F.test_list_flavors[id-1]')).toBe(true);
    expect(re.test('tempest.api.compute.f.F.test_list_flavors')).toBe(true);
    expect(re.test('tempest.api.compute.f.F.test_list_flavors_with_detail[id-2]')).toBe(false);
  });
});

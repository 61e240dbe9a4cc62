// Every fixture driver: the engine's diagnostics equal the inline `// expect:` comments exactly (line and code).
import { strict as assert } from 'assert';
import { analyzeDriver, listFixtureDrivers } from '../../helpers/fixtures';
import { groupByLine, mapToObject } from '../../helpers/expectations';

describe('fixtures: inline expectations', function () {
  const drivers = listFixtureDrivers();
  it('has at least 60 fixture drivers', function () {
    assert.ok(drivers.length >= 60, `only ${drivers.length} fixture drivers`);
  });
  for (const driver of drivers) {
    it(driver.name, async function () {
      const reports = await analyzeDriver(driver);
      for (const [file, report] of reports) {
        const actual = groupByLine(report.findings.map((f) => ({ line: f.span.start.line, code: f.code })));
        const detail = report.findings.map((f) => `  ${file.name}:${f.span.start.line + 1} ${f.code} ${f.message}`).join('\n');
        assert.deepEqual(mapToObject(actual), mapToObject(file.expectations.byLine), `${file.name}\n${detail}`);
      }
    });
  }

  // A fixture with `kernels=4.19,5.4,...` is also checked at every kernel it names (compat branches, write literals,
  // refused flags): each era's `expect@K:` lines plus the plain `expect:` ones.
  for (const driver of drivers.filter((d) => d.files.some((f) => f.expectations.eras.size > 0))) {
    const kernels = [...new Set(driver.files.flatMap((f) => [...f.expectations.eras.keys()]))];
    for (const kernel of kernels) {
      it(`${driver.name} at ${kernel}`, async function () {
        const reports = await analyzeDriver(driver, { kernelVersion: kernel });
        for (const [file, report] of reports) {
          const actual = groupByLine(report.findings.map((f) => ({ line: f.span.start.line, code: f.code })));
          const detail = report.findings.map((f) => `  ${file.name}:${f.span.start.line + 1} ${f.code} ${f.message}`).join('\n');
          assert.deepEqual(mapToObject(actual), mapToObject(file.expectations.eras.get(kernel) ?? file.expectations.byLine), `${file.name} at ${kernel}\n${detail}`);
        }
      });
    }
  }
});

/**
 * lib/viz charts in headless Chromium (Debian's chromium), without a notebook: a page that loads require.js
 * first, as the classic notebook and Debian's nbconvert export do, then two charts from one ChartSession.
 * Both must draw (plotly.js embedded once, not captured by require.js's `define`), and a chart whose page
 * never gets plotly.js must show the readable message.
 */
import * as fs from 'fs';
import * as path from 'path';
import { ChartSession, barFigure, heatmapFigure } from '../../lib/viz';
import { CHROMIUM, chartsInDom, chromiumDom, tmpDir } from './helpers';

const REQUIRE_JS = [
  '/usr/share/javascript/requirejs/require.min.js',
  '/usr/share/javascript/requirejs/require.js',
].find((f) => fs.existsSync(f));

describe('charts in headless Chromium', () => {
  const dir = tmpDir('bst-chromium-page-');
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  test('require.js page: two charts from one session both draw', () => {
    expect(fs.existsSync(CHROMIUM)).toBe(true);
    const s = new ChartSession();
    const a = s.html(barFigure(['a', 'b', 'c'], [3, 1, 2], { title: 'bars </script> title' }));
    const b = s.html(
      heatmapFigure(
        [
          [0.1, 0.9],
          [0.6, 0.4],
        ],
        { xLabels: ['Heat (1995)', 'Heat (1995)'], yLabels: ['x', 'y'] },
      ),
    );
    const requireTag = REQUIRE_JS ? `<script src="file://${REQUIRE_JS}"></script>` : '';
    const page = path.join(dir, 'page.html');
    fs.writeFileSync(
      page,
      `<!DOCTYPE html><html><head><meta charset="utf-8">${requireTag}</head><body>${a}\n${b}` +
        `<script>document.body.setAttribute("data-amd", typeof define === "function" && define.amd ? "yes" : "no")</script></body></html>`,
    );
    const dom = chromiumDom(page);
    if (REQUIRE_JS) expect(dom).toContain('data-amd="yes"'); // require.js's define was live on the page
    const charts = chartsInDom(dom);
    expect(charts).toHaveLength(2);
    expect(charts.every((c) => c.drawn && !c.error && !c.placeholder)).toBe(true);
  });

  test('a chart without plotly.js on the page shows the readable message', () => {
    const s = new ChartSession({ source: () => '/* plotly stripped */' });
    const html = s.html(barFigure(['a'], [1]));
    const page = path.join(dir, 'missing.html');
    fs.writeFileSync(page, `<!DOCTYPE html><html><body>${html}</body></html>`);
    const charts = chartsInDom(chromiumDom(page, 20000));
    expect(charts).toHaveLength(1);
    expect(charts[0]).toMatchObject({ drawn: false, error: true, placeholder: false });
  });
});

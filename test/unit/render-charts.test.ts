/**
 * The charts' palette and axes, checked without a browser (test/integration/charts.test.ts
 * renders them in Chromium): WCAG contrast of every colour on both GitHub backgrounds, and the
 * y range of the bar charts zoomed around the values.
 */
import { describe, expect, it } from 'vitest';
import {
  CHART_COLORS,
  contrastRatio,
  GITHUB_BACKGROUNDS,
  MIN_GRAPHICS_CONTRAST,
  mermaidInit,
  relativeLuminance,
  zoomAxis,
} from '../../src/core/report/charts.ts';

describe('the chart palette', () => {
  it('computes WCAG 2 luminance and contrast ratios', () => {
    expect(relativeLuminance('#ffffff')).toBe(1);
    expect(relativeLuminance('#000000')).toBe(0);
    expect(contrastRatio('#000000', '#ffffff')).toBe(21);
    expect(contrastRatio('#ffffff', '#ffffff')).toBe(1);
    // Published reference values: #767676 on white is 4.54:1, #949494 on white 3.03:1.
    expect(contrastRatio('#767676', '#ffffff')).toBeCloseTo(4.54, 2);
    expect(contrastRatio('#949494', '#ffffff')).toBeCloseTo(3.03, 2);
    expect(() => relativeLuminance('lavender')).toThrow(/#rrggbb/);
  });

  for (const [role, colour] of Object.entries(CHART_COLORS)) {
    for (const [theme, background] of Object.entries(GITHUB_BACKGROUNDS)) {
      it(`draws the ${role} (${colour}) at ≥ 3:1 on GitHub's ${theme} background (${background})`, () => {
        expect(contrastRatio(colour, background)).toBeGreaterThanOrEqual(MIN_GRAPHICS_CONTRAST);
      });
    }
  }

  it('would have caught the old default: Mermaid’s pale lavender is nearly invisible on white', () => {
    expect(contrastRatio('#ececff', GITHUB_BACKGROUNDS.light)).toBeLessThan(1.5);
  });

  it('sets the palette, a transparent background and quiet lines in an init directive', () => {
    const init = mermaidInit([CHART_COLORS.chance, CHART_COLORS.candidate], [0]);
    expect(init.startsWith('%%{init: ')).toBe(true);
    expect(init.endsWith('}%%')).toBe(true);
    const config = JSON.parse(init.slice('%%{init: '.length, -'}%%'.length));
    expect(config.themeVariables.xyChart).toEqual({
      plotColorPalette: '#848d97, #1f6feb',
      backgroundColor: 'transparent',
    });
    // Titles and axes keep the reader's theme: no theme is forced.
    expect(config.theme).toBeUndefined();
    expect(config.themeCSS).toBe('.line-plot-0 path { stroke-dasharray: 6 4; stroke-width: 1.25px; }');
    expect(mermaidInit([CHART_COLORS.candidate])).not.toContain('themeCSS');
  });
});

describe('zoomAxis', () => {
  it('zooms scores around the values with a margin, on round ends, and says it left out 0', () => {
    expect(zoomAxis([0.93, 0.98], 0, 1)).toEqual({ min: 0.9, max: 1, zoomed: true });
    expect(zoomAxis([0.9778, 0.9956], 0, 1)).toEqual({ min: 0.96, max: 1, zoomed: true });
  });

  it('keeps 0 → 1 when the values spread over it, and never passes the bounds', () => {
    expect(zoomAxis([0.1, 0.95], 0, 1)).toEqual({ min: 0, max: 1, zoomed: false });
    const range = zoomAxis([0.999, 1], 0, 1);
    expect(range.max).toBe(1);
    expect(range.min).toBeLessThan(0.999);
    expect(range.min).toBeGreaterThan(0.95);
  });

  it('gives equal values some room, and zooms regression errors without a ceiling', () => {
    const same = zoomAxis([0.5, 0.5], 0, 1);
    expect(same.min).toBeLessThan(0.5);
    expect(same.max).toBeGreaterThan(0.5);
    expect(zoomAxis([45.1, 59.5])).toEqual({ min: 30, max: 70, zoomed: true });
    expect(zoomAxis([0.2, 3000]).min).toBe(0);
  });
});

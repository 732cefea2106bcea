import { describe, expect, it } from 'vitest';
import {
  KS_MAX_AUTO_N,
  ksStatisticSorted,
  ksTwoSample,
  ksTwoSampleSorted,
} from '../../src/core/stats/kolmogorov-smirnov.ts';

/**
 * A reproducible sample of n integers in [offset, offset + mod): the MINSTD generator
 * s ← 48271·s mod (2³¹ − 1) (exact in doubles), each value s mod `mod` + offset. Small moduli give
 * ties; the offset shifts the sample, so the cases below cover many values of the statistic.
 */
function minstd(n: number, seed: number, mod: number, offset: number): Float64Array {
  const out = new Float64Array(n);
  let s = seed;
  for (let k = 0; k < n; k++) {
    s = (s * 48271) % 2147483647;
    out[k] = (s % mod) + offset;
  }
  return out;
}
/** The pair of a case: a = minstd(n1, 7 + n1, mod, 0), b = minstd(n2, 1000 + n2, mod, offset). */
const pair = (n1: number, n2: number, mod: number, offset: number) =>
  [minstd(n1, 7 + n1, mod, 0), minstd(n2, 1000 + n2, mod, offset)] as const;

/** |actual − expected| within 1e-12 relative (scipy runs the same algorithms; this is rounding). */
function expectP(actual: number, expected: number): void {
  if (Number.isNaN(expected)) {
    expect(actual).toBeNaN();
    return;
  }
  expect(Math.abs(actual - expected), `got ${actual}, scipy ${expected}`).toBeLessThanOrEqual(
    1e-12 * expected + 1e-17,
  );
}

/**
 * [n1, n2, mod, offset, exact statistic, exact p, asymptotic statistic, asymptotic p] from scipy 1.10.1
 * (Debian python3-scipy), for the samples of {@link pair}, computed by
 *   ks_2samp(a, b, method='exact') and ks_2samp(a, b, method='asymp')
 * (method='auto' gave the exact result on every one of them), keeping one row per distinct
 * (n1, n2, statistic). Sizes cover n1 = n2 (the reflection sum) and n1 ≠ n2 in both orders (the
 * band recursion), and statistics from 1/lcm to 1.
 */
const SCIPY_KS: [number, number, number, number, number, number, number, number][] = [
  [1, 1, 10, 0, 1.0, 1.0, 1.0, Number.NaN],
  [1, 2, 10, 0, 1.0, 0.6666666666666666, 1.0, 0.0],
  [1, 2, 10, 5, 0.5, 1.0, 0.5, 1.0],
  [2, 2, 10, 0, 1.0, 0.3333333333333333, 1.0, 0.0],
  [2, 2, 10, 3, 0.5, 1.0, 0.5, 1.0],
  [3, 3, 10, 0, 0.6666666666666666, 0.6, 0.6666666666666666, 0.22222222222222227],
  [3, 3, 10, 8, 1.0, 0.09999999999999999, 1.0, 0.0],
  [4, 4, 10, 0, 0.5, 0.7714285714285716, 0.5, 0.5],
  [4, 4, 10, 1, 0.25, 1.0, 0.25, 1.0],
  [4, 4, 10, 2, 0.75, 0.22857142857142862, 0.75, 0.125],
  [4, 4, 10, 5, 1.0, 0.028571428571428577, 1.0, 0.0],
  [6, 6, 10, 0, 0.3333333333333333, 0.9307359307359307, 0.3333333333333333, 0.7777777777777778],
  [6, 6, 10, 1, 0.5, 0.474025974025974, 0.5, 0.3333333333333333],
  [6, 6, 10, 5, 0.8333333333333334, 0.025974025974025972, 0.8333333333333334, 0.009259259259259254],
  [8, 8, 10, 0, 0.125, 1.0, 0.125, 1.0],
  [8, 8, 10, 1, 0.375, 0.6601398601398599, 0.375, 0.51953125],
  [8, 8, 10, 2, 0.5, 0.2826728826728826, 0.5, 0.1875],
  [8, 8, 10, 3, 0.625, 0.08702408702408701, 0.625, 0.04931640625],
  [8, 8, 10, 5, 0.875, 0.002486402486402486, 0.875, 0.00048828125],
  [8, 8, 10, 8, 1.0, 0.00015540015540015537, 1.0, 0.0],
  [9, 9, 10, 0, 0.2222222222222222, 0.9894693541752365, 0.2222222222222222, 0.9656921582075904],
  [9, 9, 10, 2, 0.3333333333333333, 0.7301110654051831, 0.33333333333333337, 0.6620370370370369],
  [9, 9, 10, 3, 0.4444444444444444, 0.35170711641299873, 0.4444444444444444, 0.3072892851699437],
  [9, 9, 10, 5, 0.5555555555555556, 0.12587412587412586, 0.5555555555555556, 0.11071101966163692],
  [9, 9, 10, 8, 0.7777777777777778, 0.006293706293706292, 0.7777777777777778, 0.004877305288827922],
  [12, 12, 10, 0, 0.16666666666666666, 0.9984852944874484, 0.16666666666666669, 0.9845679012345679],
  [12, 12, 10, 1, 0.25, 0.8689816711757754, 0.25, 0.769483024691358],
  [12, 12, 10, 2, 0.4166666666666667, 0.2557751845677543, 0.4166666666666667, 0.1862916881001373],
  [12, 12, 10, 3, 0.5, 0.09954677170991616, 0.5, 0.06558641975308642],
  [12, 12, 10, 5, 0.6666666666666666, 0.007859014050964517, 0.6666666666666667, 0.0037722908093278406],
  [12, 12, 10, 8, 0.8333333333333334, 0.00020413023508998745, 0.8333333333333334, 4.2866941015089106e-5],
  [30, 30, 40, 0, 0.4666666666666667, 0.0025300622362698397, 0.46666666666666673, 0.0016288573563932873],
  [30, 30, 40, 1, 0.43333333333333335, 0.006548396368058784, 0.4333333333333334, 0.004457887366670854],
  [30, 30, 40, 3, 0.4, 0.015643390496754332, 0.39999999999999997, 0.011175149346663082],
  [30, 30, 40, 5, 0.36666666666666664, 0.034580084963334506, 0.36666666666666664, 0.025766602689817675],
  [30, 30, 40, 8, 0.23333333333333334, 0.39294501397971776, 0.23333333333333334, 0.33406901158475555],
  [2, 5, 10, 0, 1.0, 0.09523809523809523, 1.0, 0.0],
  [2, 5, 10, 1, 0.6, 0.5714285714285714, 0.6, 0.8],
  [2, 5, 10, 3, 0.5, 0.8095238095238095, 0.5, 1.0],
  [2, 5, 10, 5, 0.4, 0.9523809523809523, 0.4, 1.0],
  [2, 5, 10, 8, 0.8, 0.2857142857142857, 0.8, 0.3999999999999999],
  [5, 2, 10, 0, 0.4, 0.9523809523809523, 0.4, 1.0],
  [5, 2, 10, 2, 0.6, 0.5714285714285714, 0.6, 0.8],
  [5, 2, 10, 3, 0.8, 0.2857142857142857, 0.8, 0.3999999999999999],
  [5, 2, 10, 5, 1.0, 0.09523809523809523, 1.0, 0.0],
  [3, 4, 10, 0, 0.6666666666666666, 0.39999999999999997, 0.6666666666666666, 0.22222222222222227],
  [3, 4, 10, 8, 1.0, 0.05714285714285715, 1.0, 0.0],
  [4, 3, 10, 0, 0.6666666666666666, 0.39999999999999997, 0.6666666666666667, 0.22222222222222213],
  [4, 3, 10, 2, 1.0, 0.05714285714285715, 1.0, 0.0],
  [4, 6, 10, 0, 0.8333333333333334, 0.04761904761904761, 0.8333333333333334, 0.05555555555555553],
  [4, 6, 10, 5, 1.0, 0.009523809523809525, 1.0, 0.0],
  [6, 4, 10, 0, 0.6666666666666666, 0.18095238095238098, 0.6666666666666667, 0.22222222222222213],
  [6, 4, 10, 1, 0.4166666666666667, 0.6952380952380952, 0.4166666666666667, 0.7777777777777777],
  [6, 4, 10, 2, 0.3333333333333333, 0.9238095238095237, 0.33333333333333337, 0.9444444444444444],
  [6, 4, 10, 8, 0.75, 0.09523809523809523, 0.75, 0.125],
  [5, 7, 10, 0, 0.42857142857142855, 0.5454545454545454, 0.4285714285714286, 0.5160349854227404],
  [5, 7, 10, 2, 0.5714285714285714, 0.23737373737373738, 0.5714285714285714, 0.18853255587949472],
  [5, 7, 10, 3, 0.7142857142857143, 0.06565656565656565, 0.7142857142857143, 0.0466472303206997],
  [5, 7, 10, 5, 0.8571428571428571, 0.01515151515151515, 0.8571428571428572, 0.005830903790087456],
  [5, 7, 10, 8, 1.0, 0.0025252525252525255, 1.0, 0.0],
  [7, 5, 10, 0, 0.45714285714285713, 0.43434343434343425, 0.45714285714285713, 0.43973566569484934],
  [7, 5, 10, 1, 0.42857142857142855, 0.5454545454545454, 0.4285714285714286, 0.5160349854227404],
  [7, 5, 10, 3, 0.22857142857142856, 0.98989898989899, 0.22857142857142854, 0.9886128927761582],
  [7, 5, 10, 5, 0.5714285714285714, 0.23737373737373738, 0.5714285714285714, 0.18853255587949472],
  [7, 5, 10, 8, 0.8571428571428571, 0.01515151515151515, 0.8571428571428571, 0.0058309037900874695],
  [3, 10, 10, 0, 0.3333333333333333, 0.9055944055944056, 0.33333333333333337, 0.9444444444444444],
  [3, 10, 10, 1, 0.6666666666666666, 0.18881118881118877, 0.6666666666666666, 0.22222222222222227],
  [10, 3, 10, 0, 0.4666666666666667, 0.5979020979020979, 0.46666666666666673, 0.6244444444444442],
  [10, 3, 10, 1, 0.6, 0.2867132867132867, 0.6, 0.32000000000000006],
  [10, 3, 10, 2, 0.7, 0.13986013986013984, 0.7, 0.18000000000000005],
  [10, 3, 10, 3, 0.8, 0.06993006993006991, 0.8, 0.07999999999999996],
  [10, 3, 10, 5, 0.9, 0.027972027972027975, 0.9, 0.01999999999999999],
  [10, 3, 10, 8, 1.0, 0.006993006993006993, 1.0, 0.0],
  [6, 9, 10, 0, 0.4444444444444444, 0.40839160839160843, 0.4444444444444444, 0.3072892851699437],
  [6, 9, 10, 1, 0.3333333333333333, 0.7794205794205795, 0.3333333333333333, 0.6620370370370371],
  [6, 9, 10, 2, 0.2222222222222222, 0.987212787212787, 0.2222222222222222, 0.9656921582075904],
  [6, 9, 10, 8, 0.6666666666666666, 0.06113886113886114, 0.6666666666666667, 0.02777777777777775],
  [9, 6, 10, 0, 0.2777777777777778, 0.8977022977022977, 0.2777777777777778, 0.8361911294010059],
  [9, 6, 10, 1, 0.5, 0.27352647352647347, 0.5, 0.1875],
  [9, 6, 10, 3, 0.6666666666666666, 0.06113886113886114, 0.6666666666666667, 0.02777777777777775],
  [9, 6, 10, 5, 0.8333333333333334, 0.005994005994005993, 0.8333333333333334, 0.0015432098765432085],
  [12, 18, 10, 0, 0.16666666666666666, 0.9793225191915321, 0.16666666666666666, 0.9714156362510554],
  [12, 18, 10, 2, 0.2777777777777778, 0.5805125199112416, 0.2777777777777778, 0.5600115024971254],
  [12, 18, 10, 3, 0.3333333333333333, 0.3549746468581788, 0.33333333333333337, 0.3405091737797028],
  [12, 18, 10, 5, 0.5277777777777778, 0.02625606803307427, 0.5277777777777778, 0.024097659576920734],
  [12, 18, 10, 8, 0.8333333333333334, 1.8151710726475976e-5, 0.8333333333333334, 7.14661561993691e-6],
  [18, 12, 10, 0, 0.16666666666666666, 0.9793225191915321, 0.16666666666666666, 0.9714156362510554],
  [18, 12, 10, 1, 0.2222222222222222, 0.8253425167115688, 0.22222222222222227, 0.8123299941640918],
  [18, 12, 10, 2, 0.3888888888888889, 0.1914981202284919, 0.38888888888888884, 0.1829182596493093],
  [18, 12, 10, 3, 0.5555555555555556, 0.01628559924780236, 0.5555555555555556, 0.014683686418481987],
  [18, 12, 10, 5, 0.6666666666666666, 0.0017352804222527253, 0.6666666666666667, 0.0013667634566334158],
  [18, 12, 10, 8, 0.8888888888888888, 2.4741822264113743e-6, 0.8888888888888888, 4.1815031625753926e-7],
  [25, 40, 40, 0, 0.215, 0.41460480905782665, 0.215, 0.43174561949994605],
  [25, 40, 40, 1, 0.19, 0.5681243816295175, 0.18999999999999997, 0.5860282242935542],
  [25, 40, 40, 2, 0.175, 0.6687197112159318, 0.175, 0.6850082912079776],
  [25, 40, 40, 3, 0.15, 0.8281871902599577, 0.15000000000000002, 0.8405302034672184],
  [25, 40, 40, 5, 0.22, 0.3881610312645308, 0.22000000000000008, 0.40359106638894926],
  [25, 40, 40, 8, 0.3, 0.1013339946846, 0.30000000000000004, 0.1079750624335496],
  [40, 25, 40, 0, 0.19, 0.5681243816295175, 0.18999999999999995, 0.5860282242935542],
  [40, 25, 40, 3, 0.24, 0.2881448317933554, 0.24, 0.3024917315688789],
  [40, 25, 40, 8, 0.28, 0.14751291752686244, 0.28, 0.1563961562216667],
  [17, 23, 40, 0, 0.23785166240409208, 0.5508498994056046, 0.23785166240409206, 0.5467877448698737],
  [17, 23, 40, 2, 0.2813299232736573, 0.35046947090299363, 0.28132992327365725, 0.34077106795258527],
  [17, 23, 40, 3, 0.2966751918158568, 0.2913757581803949, 0.2966751918158568, 0.2822204855335053],
  [17, 23, 40, 5, 0.340153452685422, 0.16435592843590036, 0.34015345268542196, 0.15531496550334367],
  [17, 23, 40, 8, 0.4731457800511509, 0.01695241140092144, 0.47314578005115093, 0.014134451797021774],
  [100, 60, 40, 0, 0.06333333333333334, 0.9961654475076852, 0.06333333333333332, 0.9955643282739962],
  [100, 60, 40, 1, 0.09333333333333334, 0.8724956676172783, 0.09333333333333332, 0.864690739314281],
  [100, 60, 40, 2, 0.12333333333333334, 0.5803386286245699, 0.12333333333333332, 0.5677227459026057],
  [100, 60, 40, 3, 0.13333333333333333, 0.481542625417087, 0.13333333333333333, 0.4689969745105671],
  [100, 60, 40, 5, 0.16666666666666666, 0.2255178182205729, 0.16666666666666669, 0.21621499169978708],
  [100, 60, 40, 8, 0.24, 0.02263653450443263, 0.24, 0.020686994975501083],
  [60, 100, 40, 0, 0.13333333333333333, 0.481542625417087, 0.13333333333333336, 0.4689969745105671],
  [60, 100, 40, 1, 0.10333333333333333, 0.784051933309096, 0.10333333333333333, 0.7737188417621345],
  [60, 100, 40, 2, 0.08666666666666667, 0.9200339002985419, 0.08666666666666667, 0.9142037509168557],
  [60, 100, 40, 3, 0.09, 0.8977446381967349, 0.08999999999999997, 0.8907883262725717],
  [60, 100, 40, 5, 0.17, 0.2069059764440017, 0.16999999999999993, 0.19802402444951106],
  [60, 100, 40, 8, 0.24, 0.02263653450443263, 0.24, 0.020686994975501083],
  [250, 400, 40, 0, 0.055, 0.7183204853241238, 0.05499999999999994, 0.7188452745997318],
  [250, 400, 40, 1, 0.044, 0.9133049254616001, 0.04399999999999993, 0.9137979026408417],
  [250, 400, 40, 2, 0.072, 0.3834682175462375, 0.07199999999999995, 0.3835860863820386],
  [250, 400, 40, 3, 0.092, 0.13866770126762704, 0.09199999999999997, 0.13852878803965007],
  [250, 400, 40, 5, 0.137, 0.005586414226866437, 0.137, 0.0055418029167376304],
  [250, 400, 40, 8, 0.198, 9.434414527597135e-6, 0.198, 9.121710079276013e-6],
  // Few distinct values (mod 2 or 3), so small statistics: narrow bands, p = 1 without a single path inside.
  [2, 3, 2, 0, 0.5, 0.9, 0.5, 1.0],
  [2, 3, 3, 0, 0.6666666666666666, 0.6, 0.6666666666666667, 0.6666666666666665],
  [3, 2, 3, 0, 0.5, 0.9, 0.5, 1.0],
  [5, 7, 2, 0, 0.11428571428571428, 1.0, 0.11428571428571432, 1.0],
  [7, 5, 2, 0, 0.37142857142857144, 0.7373737373737375, 0.3714285714285714, 0.6739514091350827],
  [7, 5, 3, 0, 0.2571428571428571, 0.9595959595959594, 0.2571428571428572, 0.9644496274700356],
  [4, 6, 2, 0, 0.08333333333333333, 1.0, 0.08333333333333337, 1.0],
  [10, 15, 2, 0, 0.03333333333333333, 1.0, 0.033333333333333326, 1.0],
  [10, 15, 3, 0, 0.3, 0.5928755858490681, 0.30000000000000004, 0.5550150617283949],
  [9, 12, 2, 0, 0.1111111111111111, 0.9999965978294151, 0.11111111111111105, 0.9999993496926282],
  [9, 12, 3, 0, 0.19444444444444445, 0.9684924982138605, 0.19444444444444448, 0.9711455164355027],
  [20, 30, 2, 0, 0.11666666666666667, 0.992839205347608, 0.1166666666666667, 0.9902788806057927],
  [20, 30, 3, 0, 0.1, 0.999278000442234, 0.09999999999999998, 0.9986321002354367],
];

describe('ksTwoSample agrees with scipy.stats.ks_2samp', () => {
  for (const [n1, n2, mod, offset, dExact, pExact, dAsymp, pAsymp] of SCIPY_KS) {
    it(`n = ${n1} vs ${n2}, offset ${offset}: D = ${dExact}`, () => {
      const [a, b] = pair(n1, n2, mod, offset);
      const exact = ksTwoSample(a, b, 'exact');
      expect(exact.method).toBe('exact');
      // The exact statistic is snapped to h/lcm(n1, n2), bit for bit as scipy's.
      expect(exact.statistic).toBe(dExact);
      expectP(exact.pValue, pExact);
      expect(ksTwoSample(a, b)).toEqual(exact);
      const asymp = ksTwoSample(a, b, 'asymp');
      expect(asymp.method).toBe('asymp');
      expect(asymp.statistic).toBe(dAsymp);
      expectP(asymp.pValue, pAsymp);
    });
  }

  it('rounds n1·n2/(n1 + n2) half to even for the asymptotic p-value', () => {
    // scipy: ks_2samp(*pair(5, 5, 10, 2), method='asymp') → (0.4, 0.82), kstwo.sf(0.4, 2)
    // (n1·n2/(n1 + n2) = 2.5 rounds to 2, not 3); with n = 7 vs 7 (3.5 → 4): (0.4285714285714286,
    // 0.35089546022490614); 1 vs 3 (0.75 → 1): (1.0, 0.0); exact p-values 0.873015873015873,
    // 0.5751748251748252, 0.5.
    const five = ksTwoSample(...pair(5, 5, 10, 2), 'asymp');
    expect(five.statistic).toBe(0.4);
    expectP(five.pValue, 0.82);
    expectP(ksTwoSample(...pair(5, 5, 10, 2)).pValue, 0.873015873015873);
    const seven = ksTwoSample(...pair(7, 7, 10, 3), 'asymp');
    expect(seven.statistic).toBe(0.4285714285714286);
    expectP(seven.pValue, 0.35089546022490614);
    expectP(ksTwoSample(...pair(7, 7, 10, 3)).pValue, 0.5751748251748252);
    expect(ksTwoSample(...pair(1, 3, 10, 0), 'asymp')).toEqual({ statistic: 1, pValue: 0, method: 'asymp' });
    expect(ksTwoSample(...pair(1, 3, 10, 0))).toEqual({ statistic: 1, pValue: 0.5, method: 'exact' });
  });

  it(`auto is exact up to ${KS_MAX_AUTO_N} values on the larger side, asymptotic above`, () => {
    // scipy ks_2samp(a, b) with a = minstd(10000 | 10001, …, 1000, 0), b = minstd(3, …, 1000, 0):
    // 10000 vs 3 → exact (0.3809, 0.6478457310904236); 10001 vs 3 → asymp (0.3838616138386161,
    // 0.6394775315279098); 3 vs 10001 → asymp (0.7119288071192881, 0.047811182892748876).
    expect(KS_MAX_AUTO_N).toBe(10_000);
    const at = ksTwoSample(...pair(10_000, 3, 1000, 0));
    expect(at.method).toBe('exact');
    expect(at.statistic).toBe(0.3809);
    expectP(at.pValue, 0.6478457310904236);
    const above = ksTwoSample(...pair(10_001, 3, 1000, 0));
    expect(above.method).toBe('asymp');
    expect(above.statistic).toBe(0.3838616138386161);
    expectP(above.pValue, 0.6394775315279098);
    const aboveB = ksTwoSample(...pair(3, 10_001, 1000, 0));
    expect(aboveB.method).toBe('asymp');
    expect(aboveB.statistic).toBe(0.7119288071192881);
    expectP(aboveB.pValue, 0.047811182892748876);
    // Asked for explicitly, exact runs above the auto limit: scipy ks_2samp(…, method='exact') on
    // 10001 vs 3 → (0.3838616138386161, 0.6396689377667346).
    const exact = ksTwoSample(...pair(10_001, 3, 1000, 0), 'exact');
    expect(exact.method).toBe('exact');
    expectP(exact.pValue, 0.6396689377667346);
  });

  it('falls back to asymptotic when lcm(n1, n2) reaches 2³¹ − 1, as scipy', () => {
    // 46349 and 46351 are coprime: lcm = 2148322499 > 2³¹ − 1. scipy ks_2samp(…, method='exact')
    // warns and returns the asymptotic (0.0033066473973560884, 0.9610131216078514); offset 3:
    // (0.005259942585556843, 0.5411663500550277).
    const [a, b] = pair(46_349, 46_351, 1000, 0);
    const r = ksTwoSample(a, b, 'exact');
    expect(r.method).toBe('asymp');
    expect(r.statistic).toBe(0.0033066473973560884);
    expectP(r.pValue, 0.9610131216078514);
    const [c, d] = pair(46_349, 46_351, 1000, 3);
    const s = ksTwoSample(c, d, 'exact');
    expect(s.method).toBe('asymp');
    expect(s.statistic).toBe(0.005259942585556843);
    expectP(s.pValue, 0.5411663500550277);
    // The largest lcm below 2³¹ − 1 (a prime): 42966 × 49981 = 2³¹ − 2, coprime. Still exact: scipy
    // ks_2samp(…, method='exact') → (0.006491915328886281, 0.2828314849629794) without a warning
    // (method='asymp': 0.2832336957234073).
    const [e, f] = pair(42_966, 49_981, 1000, 0);
    const t = ksTwoSample(e, f, 'exact');
    expect(t.method).toBe('exact');
    expect(t.statistic).toBe(0.006491915328886281);
    expectP(t.pValue, 0.2828314849629794);
  });

  it('falls back to asymptotic when the exact count rounds above 1, as scipy', () => {
    // n1 = n2 = 23 with D = 1/23: the reflection sum gives 1.0000000000000002. scipy
    // ks_2samp(a, a + 0.5, method='exact') warns "Exact calculation unsuccessful. Switching to
    // method=asymp" and returns (0.043478260869565216, 1.0): the snapped statistic, the kstwo p.
    const a = Float64Array.from({ length: 23 }, (_, k) => k);
    const b = a.map((x) => x + 0.5);
    expect(ksTwoSample(a, b, 'exact')).toEqual({
      statistic: 0.043478260869565216,
      pValue: 1,
      method: 'asymp',
    });
    expect(ksTwoSample(a, b)).toEqual({ statistic: 0.043478260869565216, pValue: 1, method: 'asymp' });
    // method='asymp' does not snap: (0.0434782608695653, 1.0).
    expect(ksTwoSample(a, b, 'asymp')).toEqual({ statistic: 0.0434782608695653, pValue: 1, method: 'asymp' });
  });

  it('keeps an exact p-value of 0 (underflow on disjoint samples) and identical samples at p = 1', () => {
    // scipy ks_2samp(arange(600), arange(600) + 1000, method='exact') → (1.0, 0.0) without a
    // warning, and likewise 600 vs 601 values: 2/C(1200, 600) underflows to 0.
    const a = Float64Array.from({ length: 600 }, (_, k) => k);
    expect(
      ksTwoSample(
        a,
        a.map((x) => x + 1000),
      ),
    ).toEqual({ statistic: 1, pValue: 0, method: 'exact' });
    const b = Float64Array.from({ length: 601 }, (_, k) => k + 1000);
    expect(ksTwoSample(a, b)).toEqual({ statistic: 1, pValue: 0, method: 'exact' });
    // D = 0 (h = 0): p = 1 without counting, equal sizes or not.
    const c = Float64Array.of(4, 2, 2, 9, 1);
    expect(ksTwoSample(c, c.slice().reverse(), 'exact')).toEqual({
      statistic: 0,
      pValue: 1,
      method: 'exact',
    });
    const d = Float64Array.of(1, 2);
    expect(ksTwoSample(d, Float64Array.of(2, 1, 1, 2), 'exact')).toEqual({
      statistic: 0,
      pValue: 1,
      method: 'exact',
    });
  });

  it('larger exact cases: 1000 vs 1500 and 2000 vs 2000', () => {
    // scipy ks_2samp(*pair(1000, 1500, 1000, 5)) → (0.02266666666666667, 0.9125996702279785);
    // ks_2samp(*pair(2000, 2000, 1000, 3)) → (0.0315, 0.274233348575873).
    const r = ksTwoSample(...pair(1000, 1500, 1000, 5));
    expect(r).toMatchObject({ statistic: 0.02266666666666667, method: 'exact' });
    expectP(r.pValue, 0.9125996702279785);
    const s = ksTwoSample(...pair(2000, 2000, 1000, 3));
    expect(s).toMatchObject({ statistic: 0.0315, method: 'exact' });
    expectP(s.pValue, 0.274233348575873);
  });
});

describe('ksStatisticSorted', () => {
  it('takes the larger gap on either side, at ties too', () => {
    // F_a − F_b reaches +1/2 (a below b) …
    expect(ksStatisticSorted(Float64Array.of(1, 1, 1, 1), Float64Array.of(1, 2))).toBe(0.5);
    // … or −3/4 (b below a): both signs count.
    expect(ksStatisticSorted(Float64Array.of(1, 5, 6, 7), Float64Array.of(0, 0, 0, 9))).toBe(0.75);
    expect(ksStatisticSorted(Float64Array.of(5, 6), Float64Array.of(1, 2, 3))).toBe(1);
    expect(ksStatisticSorted(Float64Array.of(1, 2, 3), Float64Array.of(5, 6))).toBe(1);
    // Identical samples: 0.
    expect(ksStatisticSorted(Float64Array.of(1, 2, 2), Float64Array.of(1, 2, 2))).toBe(0);
  });

  it('looks at every pooled value, the last ones included', () => {
    // Statistics from scipy ks_2samp(a, b, method='asymp') (not snapped to the lattice).
    // The largest gap at a's last value, after b has started: 1 − 2/5 and 1 − 1/7.
    expect(ksStatisticSorted(Float64Array.of(0, 3, 4), Float64Array.of(1, 2, 5, 6, 7))).toBe(0.6);
    expect(ksStatisticSorted(Float64Array.of(1, 2, 3, 4, 5), Float64Array.of(0.5, 6, 7, 8, 9, 10, 11))).toBe(
      0.8571428571428572,
    );
    // Interleaved, both signs reach 1/3 (computed as 1 − 2/3, as scipy does).
    expect(ksStatisticSorted(Float64Array.of(0, 3, 4), Float64Array.of(1, 2, 5))).toBe(0.33333333333333337);
    expect(ksStatisticSorted(Float64Array.of(0, 1, 2, 10), Float64Array.of(3, 4, 5, 6))).toBe(0.75);
    // With infinities (values, not NaN): the walk still ends.
    expect(
      ksStatisticSorted(Float64Array.of(-Infinity, 0, Infinity), Float64Array.of(1, Infinity, Infinity)),
    ).toBe(2 / 3);
  });
});

describe('input checks', () => {
  it('names the empty or NaN sample', () => {
    expect(() => ksTwoSample(new Float64Array(0), Float64Array.of(1))).toThrow(
      new RangeError('ksTwoSample: sample a is empty'),
    );
    expect(() => ksTwoSample(Float64Array.of(1), new Float64Array(0))).toThrow(
      new RangeError('ksTwoSample: sample b is empty'),
    );
    expect(() => ksTwoSample(Float64Array.of(2, Number.NaN, 1), Float64Array.of(1))).toThrow(
      new RangeError('ksTwoSample: sample a contains NaN'),
    );
    expect(() => ksTwoSample(Float64Array.of(1), Float64Array.of(3, Number.NaN, 1))).toThrow(
      new RangeError('ksTwoSample: sample b contains NaN'),
    );
    expect(() => ksTwoSampleSorted(new Float64Array(0), Float64Array.of(1))).toThrow(
      new RangeError('ksTwoSample: samples must not be empty'),
    );
    expect(() => ksTwoSampleSorted(Float64Array.of(1), new Float64Array(0))).toThrow(
      new RangeError('ksTwoSample: samples must not be empty'),
    );
  });

  it('sorts its copies (unsorted input gives the sorted result) and leaves the inputs alone', () => {
    const a = Float64Array.of(9, 1, 5, 3);
    const b = Float64Array.of(4, 8, 2, 6, 7);
    const sorted = ksTwoSampleSorted(Float64Array.of(1, 3, 5, 9), Float64Array.of(2, 4, 6, 7, 8));
    expect(ksTwoSample(a, b)).toEqual(sorted);
    expect([...a]).toEqual([9, 1, 5, 3]);
    expect([...b]).toEqual([4, 8, 2, 6, 7]);
  });
});

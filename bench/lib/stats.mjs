// Small statistics and formatting helpers for the runner.

export function median(values) {
  const v = values.filter((x) => typeof x === 'number' && Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return null;
  const mid = v.length >> 1;
  return v.length % 2 ? v[mid] : (v[mid - 1] + v[mid]) / 2;
}

export function summary(values) {
  const v = values.filter((x) => typeof x === 'number' && Number.isFinite(x));
  if (v.length === 0) return null;
  return { median: median(v), min: Math.min(...v), max: Math.max(...v), n: v.length };
}

/** A number with about three significant digits, thousands separated by a thin space. */
export function num(x, digits) {
  if (x === null || x === undefined || !Number.isFinite(x)) return 'n/a';
  const d = digits ?? (Math.abs(x) >= 100 ? 0 : Math.abs(x) >= 10 ? 1 : 2);
  const [int, frac] = x.toFixed(d).split('.');
  const grouped = int.replace(/\B(?=(\d{3})+(?!\d))/g, ' ');
  return frac ? `${grouped}.${frac}` : grouped;
}

/** `median [min..max]` (or just the value when there is one round). */
export function spread(s, digits) {
  if (!s) return 'n/a';
  if (s.n === 1) return num(s.median, digits);
  return `${num(s.median, digits)} [${num(s.min, digits)}..${num(s.max, digits)}]`;
}

export function ratio(a, b) {
  if (!a || !b || !Number.isFinite(a.median) || !Number.isFinite(b.median) || b.median === 0) return null;
  return a.median / b.median;
}

export const fmtRatio = (r) => (r === null ? 'n/a' : `${r.toFixed(2)}×`);

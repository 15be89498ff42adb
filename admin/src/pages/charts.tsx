// Two small SVG charts, drawn by hand: a chart library would weigh more
// than the whole admin, and the dashboard needs only bars and lines.
// Each mark carries a <title>, so hovering shows the figure.

const W = 720;
const H = 200;
const pad = { top: 12, right: 12, bottom: 24, left: 80 };
const palette = ["#005bd3", "#c05717", "#0c5132", "#8e0b21", "#6b3fa0", "#00527c"];

/** Labels every few points so that they never overlap. */
function tickEvery(n: number): number {
  return Math.max(1, Math.ceil(n / 8));
}

/** One bar per point, the value axis from zero to the largest value. */
export function BarChart({ points, format, label }: { points: Array<{ label: string; value: number }>; format(v: number): string; label: string }) {
  const max = Math.max(0, ...points.map((p) => p.value)) || 1;
  const iw = W - pad.left - pad.right;
  const ih = H - pad.top - pad.bottom;
  const step = iw / Math.max(1, points.length);
  const every = tickEvery(points.length);
  return (
    <svg className="chart" viewBox={`0 0 ${W} ${H}`} role="img" aria-label={label}>
      <line x1={pad.left} x2={W - pad.right} y1={pad.top + ih} y2={pad.top + ih} className="chart-axis" />
      <line x1={pad.left} x2={W - pad.right} y1={pad.top} y2={pad.top} className="chart-grid" />
      <text x={pad.left - 6} y={pad.top + 4} textAnchor="end" className="chart-label">{format(max)}</text>
      <text x={pad.left - 6} y={pad.top + ih} textAnchor="end" className="chart-label">{format(0)}</text>
      {points.map((p, i) => {
        const h = (p.value / max) * ih;
        const x = pad.left + i * step + step * 0.15;
        return (
          <g key={p.label}>
            <rect x={x} y={pad.top + ih - h} width={step * 0.7} height={Math.max(h, p.value > 0 ? 1 : 0)} className="chart-bar">
              <title>{`${p.label}: ${format(p.value)}`}</title>
            </rect>
            {i % every === 0 && (
              <text x={x + step * 0.35} y={H - 6} textAnchor="middle" className="chart-label">{p.label.slice(5)}</text>
            )}
          </g>
        );
      })}
    </svg>
  );
}

/** Lines of rates between 0 and 1 over the same labels; null is a gap. */
export function RateChart({ labels, series, label }: { labels: string[]; series: Array<{ name: string; values: Array<number | null> }>; label: string }) {
  const iw = W - pad.left - pad.right;
  const ih = H - pad.top - pad.bottom;
  const x = (i: number) => pad.left + (labels.length > 1 ? (i / (labels.length - 1)) * iw : iw / 2);
  const y = (v: number) => pad.top + ih - v * ih;
  const every = tickEvery(labels.length);
  return (
    <div>
      <svg className="chart" viewBox={`0 0 ${W} ${H}`} role="img" aria-label={label}>
        {[0, 0.5, 1].map((v) => (
          <g key={v}>
            <line x1={pad.left} x2={W - pad.right} y1={y(v)} y2={y(v)} className={v === 0 ? "chart-axis" : "chart-grid"} />
            <text x={pad.left - 6} y={y(v) + 4} textAnchor="end" className="chart-label">{v * 100}%</text>
          </g>
        ))}
        {labels.map((l, i) => i % every === 0 && (
          <text key={l} x={x(i)} y={H - 6} textAnchor="middle" className="chart-label">{l.slice(5)}</text>
        ))}
        {series.map((s, si) => {
          const color = palette[si % palette.length];
          // Split the line at gaps: a day without attempts has no rate.
          const runs: Array<Array<[number, number]>> = [[]];
          s.values.forEach((v, i) => {
            if (v === null) runs.push([]);
            else runs[runs.length - 1].push([x(i), y(v)]);
          });
          return (
            <g key={s.name}>
              {runs.filter((r) => r.length > 1).map((r, ri) => (
                <polyline key={ri} points={r.map(([a, b]) => `${a},${b}`).join(" ")} fill="none" stroke={color} strokeWidth={2} />
              ))}
              {s.values.map((v, i) => v !== null && (
                <circle key={i} cx={x(i)} cy={y(v)} r={3} fill={color}>
                  <title>{`${s.name} ${labels[i]}: ${(v * 100).toFixed(1)}%`}</title>
                </circle>
              ))}
            </g>
          );
        })}
      </svg>
      <div className="chart-legend">
        {series.map((s, si) => (
          <span key={s.name}><i style={{ background: palette[si % palette.length] }} />{s.name}</span>
        ))}
      </div>
    </div>
  );
}
